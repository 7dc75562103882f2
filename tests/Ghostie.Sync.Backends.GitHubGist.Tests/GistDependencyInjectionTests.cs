using Ghostie.Sync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.GitHubGist.Tests;

/// <summary>The gist backend under dependency injection: registered, and its options validated at start.</summary>
public sealed class GistDependencyInjectionTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-gist-di-" + Guid.NewGuid().ToString("N")[..10]);
    private GistDouble _server = null!;

    public Task InitializeAsync()
    {
        _server = new GistDouble(GistDoubleFixture.Token);
        Directory.CreateDirectory(_root);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void DependencyInjection_RegistersTheBackend_AndValidatesAtStart()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = _root).AddGitHubGistBackend(o =>
        {
            o.Token = GistDoubleFixture.Token;
            o.ApiBaseUri = _server.BaseUri;
            o.RepositoryTag = "di";
        });
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var backend = Assert.IsType<GitHubGistBackend>(provider.GetRequiredService<IStorageBackend>());
        Assert.Contains("'di'", backend.DisplayName, StringComparison.Ordinal);

        var bad = new ServiceCollection();
        bad.AddGhostieSync(o => o.Home = _root).AddGitHubGistBackend(o =>
        {
            o.Token = GistDoubleFixture.Token;
            o.RepositoryTag = "UPPER CASE";
            o.ChunkSize = 10;
        });
        using ServiceProvider badProvider = bad.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => badProvider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("RepositoryTag", error.Message, StringComparison.Ordinal);
        Assert.Contains("ChunkSize", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(GistDoubleFixture.Token, error.Message, StringComparison.Ordinal);
    }
}
