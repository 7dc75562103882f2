using Ghostie.Sync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.GitHubGist.Tests;

/// <summary>The gist factory rebuilds a registered backend from the settings setup saves, and the health check probes it, on the gist double.</summary>
public sealed class GistFactoryAndHealthTests(GistDoubleFixture fixture) : IClassFixture<GistDoubleFixture>
{
    [Fact]
    public async Task Factory_SettingsFromOptions_ReachTheSameGists_WithTheTokenFromItsVariable()
    {
        GitHubGistBackendOptions options = TestOptions.For(fixture.Server);
        var factory = new GitHubGistBackendFactory();
        Dictionary<string, string> settings = factory.GetSettings(options);
        Assert.Equal(new Dictionary<string, string> { ["api"] = fixture.Server.BaseUri.ToString(), ["tag"] = options.RepositoryTag, ["token_env"] = "GHOSTIE_GITHUB_TOKEN" }, settings);

        using (var written = new GitHubGistBackend(options))
        {
            await written.PutAsync("h/one", new MemoryStream([6]));
        }

        var variables = new Dictionary<string, string> { ["GHOSTIE_GITHUB_TOKEN"] = GistDoubleFixture.Token };
        IStorageBackend rebuilt = await factory.CreateAsync(settings, new EnvironmentSecretSource(variables.GetValueOrDefault));
        using (rebuilt as IDisposable)
        {
            Assert.Equal(new byte[] { 6 }, await StorageReads.ReadAllAsync(rebuilt, "h/one"));
        }

        Assert.Equal($"GitHub gists tagged '{options.RepositoryTag}'", factory.Describe(settings));
    }

    [Fact]
    public async Task Factory_TokenOnlyInGitHubToken_IsUsed_NoTokenAtAll_IsMissingCredentialNamingBoth()
    {
        var settings = new Dictionary<string, string> { ["api"] = fixture.Server.BaseUri.ToString(), ["tag"] = "fallback", ["token_env"] = "MY_TOKEN" };
        var fallback = new Dictionary<string, string> { ["GITHUB_TOKEN"] = GistDoubleFixture.Token };
        IStorageBackend backend = await new GitHubGistBackendFactory().CreateAsync(settings, new EnvironmentSecretSource(fallback.GetValueOrDefault));
        (backend as IDisposable)?.Dispose();

        MissingBackendCredentialException error = await Assert.ThrowsAsync<MissingBackendCredentialException>(
            () => new GitHubGistBackendFactory().CreateAsync(settings, new EnvironmentSecretSource(_ => null)));
        Assert.Contains("MY_TOKEN (or GITHUB_TOKEN)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthCheck_GoodToken_IsHealthy_RefusedToken_IsUnhealthyWithoutTheToken()
    {
        HealthReportEntry healthy = await CheckAsync(b => b.AddGitHubGistBackend(o => Copy(TestOptions.For(fixture.Server), o)));
        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Contains("The gist backend (GitHub gists", healthy.Description, StringComparison.Ordinal);

        const string wrong = "ghp_wrongTOKEN9876543210zyxwvuSECRET";
        HealthReportEntry refused = await CheckAsync(b => b.AddGitHubGistBackend(o => { Copy(TestOptions.For(fixture.Server), o); o.Token = wrong; }));
        Assert.Equal(HealthStatus.Unhealthy, refused.Status);
        Assert.Contains("The gist backend", refused.Description, StringComparison.Ordinal);
        Assert.Equal("AccessDenied", refused.Data["code"]);
        Assert.DoesNotContain(wrong, refused.Description + string.Join(";", refused.Data.Values), StringComparison.Ordinal);
        Assert.DoesNotContain(GistDoubleFixture.Token, refused.Description, StringComparison.Ordinal);
    }

    private static void Copy(GitHubGistBackendOptions from, GitHubGistBackendOptions to) =>
        (to.Token, to.ApiBaseUri, to.RepositoryTag, to.Retry, to.MinimumWriteInterval) = (from.Token, from.ApiBaseUri, from.RepositoryTag, from.Retry, from.MinimumWriteInterval);

    private static async Task<HealthReportEntry> CheckAsync(Action<IGhostieSyncBuilder> register)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        register(services.AddGhostieSync(o => o.Home = Path.GetTempPath()));
        services.AddHealthChecks().AddGhostieHealthChecks();
        await using ServiceProvider provider = services.BuildServiceProvider();
        return Assert.Single((await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries).Value;
    }
}
