using System.Net;
using Ghostie.Sync.Testing;
using Octokit;
using Octokit.Internal;
using Xunit.Abstractions;

namespace Ghostie.Sync.Backends.GitHubGist.Tests;

/// <summary>
/// The reasons docs/backends/github-gist.md ("Why not Octokit") gives for keeping the hand-written client, checked
/// against Octokit 14.0.0 and the gist double. Should an Octokit release remove a reason, its test fails and the
/// choice is worth making again.
/// </summary>
public sealed class OctokitEvaluationTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Token = GistDoubleFixture.Token;
    private GistDouble _server = null!;
    private Connection _connection = null!;
    private GitHubClient _client = null!;

    public Task InitializeAsync()
    {
        _server = new GistDouble(Token);

        // new GitHubClient(header, uri) appends /api/v3/ to any host but github.com; Connection takes the base as is.
        _connection = new Connection(new ProductHeaderValue("ghostie-evaluation"), _server.BaseUri, new InMemoryCredentialStore(new Credentials(Token)),
            new HttpClientAdapter(HttpMessageHandlerFactory.CreateDefault), new SimpleJsonSerializer());
        _client = new GitHubClient(_connection);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static GistUpdate Update(string name, string content)
    {
        var update = new GistUpdate();
        update.Files[name] = new GistFileUpdate { Content = content };
        return update;
    }

    [Fact]
    public async Task RawUrl_ThroughOctokitsConnection_CarriesTheToken_AndComesBackWithoutAStream()
    {
        string id = _server.Seed("ghostie-sync:octo", new Dictionary<string, string> { ["o.a.1"] = "ghostie-gist/1 inline\nAQ" });
        Gist gist = await _client.Gist.Get(id);
        var raw = new Uri(gist.Files["o.a.1"].RawUrl);
        Assert.NotEqual(_server.BaseUri.Authority, raw.Authority);

        IApiResponse<Stream> answer = await _connection.GetRawStream(raw, new Dictionary<string, string>());
        Assert.Equal(1, _server.RawRequestsWithAuthorization); // the token went to the raw host
        Assert.Null(answer.Body); // text/plain is read into a string, not streamed
    }

    [Fact]
    public async Task Edit_MaterialisesTheWholeGistAnswer_WhereTheBackendDrainsIt()
    {
        var files = Enumerable.Range(0, 20).ToDictionary(i => $"o.file{i:d2}.1", _ => new string('A', 1024 * 1024));
        string id = _server.Seed("ghostie-sync:octo", files);
        Gist warm = await _client.Gist.Edit(id, Update("o.small.1", "x"));
        Assert.Equal(1024 * 1024, warm.Files["o.file00.1"].Content.Length); // every file's content, as strings

        long before = GC.GetTotalAllocatedBytes(precise: true);
        await _client.Gist.Edit(id, Update("o.small.2", "y"));
        long octokit = GC.GetTotalAllocatedBytes(precise: true) - before;
        output.WriteLine($"Octokit Gist.Edit on a gist of 20 x 1 MiB files allocated {octokit / 1048576.0:0.0} MiB (process-wide)");

        // The 20 MiB of content alone, as UTF-16 strings, is 40 MiB; other tests running at once only add to the figure.
        Assert.True(octokit > 40L * 1024 * 1024, $"allocated {octokit} bytes");
    }

    [Fact]
    public async Task Edit_CannotDeleteAFileTheDocumentedWay()
    {
        string id = _server.Seed("ghostie-sync:octo", new Dictionary<string, string> { ["o.a.1"] = "x", ["o.b.1"] = "y" });
        var byNull = new GistUpdate();
        byNull.Files["o.a.1"] = null!; // GitHub: "set the file to null to delete it"
        await Assert.ThrowsAsync<NullReferenceException>(() => _client.Gist.Edit(id, byNull));

        var byEmpty = new GistUpdate();
        byEmpty.Files["o.a.1"] = new GistFileUpdate(); // serialised as {}: null members are omitted
        await _client.Gist.Edit(id, byEmpty);
        Assert.True(_server.Gists().Single(g => g.Id == id).Files.ContainsKey("o.a.1"));
    }

    [Fact]
    public async Task A429SecondaryLimit_IsNoRateLimitException_ToOctokit()
    {
        string id = _server.Seed("ghostie-sync:octo", new Dictionary<string, string> { ["o.a.1"] = "x" });
        _server.InjectSecondaryLimit(1, HttpStatusCode.TooManyRequests, null);
        ApiException error = await Assert.ThrowsAsync<ApiException>(() => _client.Gist.Get(id));
        Assert.IsNotType<SecondaryRateLimitExceededException>(error);
        Assert.IsNotType<RateLimitExceededException>(error);

        _server.InjectSecondaryLimit(1, HttpStatusCode.Forbidden, null);
        await Assert.ThrowsAsync<SecondaryRateLimitExceededException>(() => _client.Gist.Get(id)); // only 403 is recognised
    }

    [Fact]
    public void GistsClient_TakesNoCancellationToken()
    {
        var withToken = typeof(IGistsClient).GetMethods()
            .Where(m => m.Name is "Get" or "GetAll" or "Create" or "Edit" or "Delete")
            .Where(m => m.GetParameters().Any(p => p.ParameterType == typeof(CancellationToken)))
            .Select(m => m.Name)
            .ToList();
        Assert.Empty(withToken);
        Assert.Null(typeof(Gist).GetProperty("Truncated"));
        Assert.Null(typeof(GistFile).GetProperty("Truncated"));
    }
}
