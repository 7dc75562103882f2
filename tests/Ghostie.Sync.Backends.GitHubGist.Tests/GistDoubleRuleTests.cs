using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Backends.GitHubGist.Tests;

/// <summary>
/// The gist double's rules, one test each, checked with a plain HttpClient (not the backend): the documented behaviour
/// of GitHub's REST API the backend relies on. Pages: https://docs.github.com/rest/gists/gists,
/// https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api,
/// https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api,
/// https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api.
/// </summary>
public sealed class GistDoubleRuleTests : IAsyncLifetime
{
    private const string Token = GistDoubleFixture.Token;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
    private GistDouble _server = null!;
    private HttpClient _http = null!;

    public Task InitializeAsync()
    {
        _server = new GistDouble(Token, _clock);
        _http = new HttpClient { BaseAddress = _server.BaseUri };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("rule-test/1");
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private string SeedAt(string name, int minute)
    {
        _clock.SetUtcNow(new DateTimeOffset(2026, 12, 1, 8, minute, 0, TimeSpan.Zero));
        return _server.Seed(name, new Dictionary<string, string> { ["f.txt"] = name });
    }

    private async Task<(List<string> Descriptions, HttpResponseMessage Response)> ListAsync(string query)
    {
        HttpResponseMessage response = await _http.GetAsync(new Uri("gists" + query, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using JsonDocument doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (doc.RootElement.EnumerateArray().Select(g => g.GetProperty("description").GetString()!).ToList(), response);
    }

    private static string Link(HttpResponseMessage response) => response.Headers.TryGetValues("Link", out IEnumerable<string>? values) ? string.Join(", ", values) : "";

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out IEnumerable<string>? values) ? string.Join(",", values) : null;

    [Fact]
    public async Task List_IsOrderedByUpdatedAt_NewestFirst_AnUpdateMovesAGistToTheHead()
    {
        string a = SeedAt("a", 1);
        SeedAt("b", 2);
        SeedAt("c", 3);
        Assert.Equal(["c", "b", "a"], (await ListAsync("")).Descriptions);

        _clock.SetUtcNow(new DateTimeOffset(2026, 12, 1, 8, 4, 0, TimeSpan.Zero));
        using var patch = new HttpRequestMessage(HttpMethod.Patch, "gists/" + a) { Content = new StringContent("{\"files\":{\"f.txt\":{\"content\":\"new\"}}}") };
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(patch)).StatusCode);
        Assert.Equal(["a", "c", "b"], (await ListAsync("")).Descriptions);
    }

    [Fact]
    public async Task List_UpdatesInOneSecond_StillListNewestFirst()
    {
        // updated_at shows whole seconds, but the order is the order of the writes.
        string first = SeedAt("first", 1);
        SeedAt("second", 1);
        _server.Edit(first, new Dictionary<string, string?> { ["f.txt"] = "again" });
        Assert.Equal(["first", "second"], (await ListAsync("")).Descriptions);
    }

    [Fact]
    public async Task List_PagesThirtyByDefault_AtMostAHundred_WithLinkHeaders()
    {
        for (int i = 0; i < 105; i++)
        {
            _server.Seed("g" + i, new Dictionary<string, string> { ["f.txt"] = "x" });
        }

        (List<string> first, HttpResponseMessage response) = await ListAsync("");
        Assert.Equal(30, first.Count);
        Assert.Contains("page=2>; rel=\"next\"", Link(response), StringComparison.Ordinal);
        Assert.Contains("page=4>; rel=\"last\"", Link(response), StringComparison.Ordinal);

        (List<string> clamped, HttpResponseMessage big) = await ListAsync("?per_page=500");
        Assert.Equal(100, clamped.Count);
        (List<string> tail, HttpResponseMessage last) = await ListAsync("?per_page=100&page=2");
        Assert.Equal(5, tail.Count);
        Assert.DoesNotContain("rel=\"next\"", Link(last), StringComparison.Ordinal);
        Assert.Contains("page=1>; rel=\"prev\"", Link(last), StringComparison.Ordinal);
        Assert.Contains("page=1>; rel=\"first\"", Link(last), StringComparison.Ordinal);
        Assert.Empty(clamped.Intersect(tail));
        Assert.NotEmpty(Link(big));
    }

    [Fact]
    public async Task List_Since_KeepsGistsUpdatedAtOrAfterIt_AndTheLinksCarryIt()
    {
        SeedAt("old", 1);
        SeedAt("edge", 2);
        SeedAt("new", 3);
        Assert.Equal(["new", "edge"], (await ListAsync("?since=2026-12-01T08:02:00Z")).Descriptions);

        (_, HttpResponseMessage paged) = await ListAsync("?since=2026-12-01T08:00:00Z&per_page=1");
        Assert.Contains("since=2026-12-01T08%3A00%3A00Z", Link(paged), StringComparison.Ordinal);
        HttpResponseMessage bad = await _http.GetAsync(new Uri("gists?since=yesterday", UriKind.Relative));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
    }

    public static TheoryData<string> Races => new() { "create", "update", "delete" };

    [Theory]
    [MemberData(nameof(Races))]
    public async Task List_AChangeBetweenTwoPageRequests_ShiftsTheLaterPages(string race)
    {
        // Order (newest first): e d c b a; two per page.
        var ids = new Dictionary<string, string>();
        int minute = 1;
        foreach (string name in new[] { "a", "b", "c", "d", "e" })
        {
            ids[name] = SeedAt(name, minute++);
        }

        _server.BeforeListPage = page =>
        {
            if (page == 2)
            {
                _clock.SetUtcNow(new DateTimeOffset(2026, 12, 1, 8, 30, 0, TimeSpan.Zero));
                switch (race)
                {
                    case "create":
                        _server.Seed("new", new Dictionary<string, string> { ["f.txt"] = "n" });
                        break;
                    case "update":
                        _server.Edit(ids["a"], new Dictionary<string, string?> { ["f.txt"] = "edited" });
                        break;
                    default:
                        _server.Remove(ids["e"]);
                        break;
                }
            }

            return Task.CompletedTask;
        };

        var seen = new List<string>();
        for (int page = 1; page <= 3; page++)
        {
            seen.AddRange((await ListAsync($"?per_page=2&page={page}")).Descriptions);
        }

        switch (race)
        {
            case "create": // the new gist at the head pushes d onto page 2 a second time, and is itself never seen
                Assert.Equal(["e", "d", "d", "c", "b", "a"], seen);
                break;
            case "update": // a moves to the head: d is listed twice and a, never
                Assert.Equal(["e", "d", "d", "c", "b"], seen);
                break;
            default: // e leaves page 1: c slides back onto page 1 and is never seen
                Assert.Equal(["e", "d", "b", "a"], seen);
                break;
        }
    }

    [Fact]
    public async Task Get_CutsFilesOverOneMegabyte_RawUrlServesAll_UpToTenMegabytes()
    {
        string big = new('x', GistDouble.DefaultContentLimit + 10);
        string huge = new('y', (int)GistDouble.DefaultRawFileLimit + 1);
        string id = _server.Seed("sizes", new Dictionary<string, string> { ["big.txt"] = big, ["huge.txt"] = huge, ["small.txt"] = "s" });

        using JsonDocument doc = JsonDocument.Parse(await _http.GetStringAsync(new Uri("gists/" + id, UriKind.Relative)));
        JsonElement files = doc.RootElement.GetProperty("files");
        JsonElement bigFile = files.GetProperty("big.txt");
        Assert.True(bigFile.GetProperty("truncated").GetBoolean());
        Assert.Equal(GistDouble.DefaultContentLimit, bigFile.GetProperty("content").GetString()!.Length);
        Assert.Equal(big.Length, bigFile.GetProperty("size").GetInt64());
        Assert.False(files.GetProperty("small.txt").GetProperty("truncated").GetBoolean());

        using var anonymous = new HttpClient();
        Assert.Equal(big, await anonymous.GetStringAsync(new Uri(bigFile.GetProperty("raw_url").GetString()!)));
        HttpResponseMessage refused = await anonymous.GetAsync(new Uri(files.GetProperty("huge.txt").GetProperty("raw_url").GetString()!));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("clone", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_ListsAtMost300Files_AndSaysTheListIsTruncated()
    {
        string id = _server.Seed("many", Enumerable.Range(0, 301).ToDictionary(i => $"f{i:d3}.txt", i => "x"));
        using JsonDocument doc = JsonDocument.Parse(await _http.GetStringAsync(new Uri("gists/" + id, UriKind.Relative)));
        Assert.Equal(300, doc.RootElement.GetProperty("files").EnumerateObject().Count());
        Assert.True(doc.RootElement.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task RawUrl_IsOnAnotherHost_NeedsNoToken_AndCountsRequestsThatSentOne()
    {
        string id = _server.Seed("raw", new Dictionary<string, string> { ["f.txt"] = "content" });
        using JsonDocument doc = JsonDocument.Parse(await _http.GetStringAsync(new Uri("gists/" + id, UriKind.Relative)));
        var raw = new Uri(doc.RootElement.GetProperty("files").GetProperty("f.txt").GetProperty("raw_url").GetString()!);
        Assert.NotEqual(_server.BaseUri.GetLeftPart(UriPartial.Authority), raw.GetLeftPart(UriPartial.Authority));
        Assert.Equal(_server.RawBaseUri.GetLeftPart(UriPartial.Authority), raw.GetLeftPart(UriPartial.Authority));

        int api = _server.ApiRequests;
        using var anonymous = new HttpClient();
        Assert.Equal("content", await anonymous.GetStringAsync(raw));
        Assert.Equal(0, _server.RawRequestsWithAuthorization);
        Assert.Equal("content", await _http.GetStringAsync(raw)); // this client sends its token to every host
        Assert.Equal(1, _server.RawRequestsWithAuthorization);
        Assert.Equal(api, _server.ApiRequests); // raw reads are not API requests

        // The API host does not serve raw paths.
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(new Uri(_server.BaseUri, raw.AbsolutePath))).StatusCode);
    }

    [Fact]
    public async Task Update_ReplacesRenamesAndDeletesFiles_Delete_Answers204ThenNotFound()
    {
        string id = _server.Seed("u", new Dictionary<string, string> { ["a.txt"] = "a", ["b.txt"] = "b", ["c.txt"] = "c" });
        using var patch = new HttpRequestMessage(HttpMethod.Patch, "gists/" + id)
        {
            Content = new StringContent("{\"files\":{\"a.txt\":{\"content\":\"A\"},\"b.txt\":{\"filename\":\"bb.txt\"},\"c.txt\":null}}"),
        };
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(patch)).StatusCode);
        DoubleGist gist = _server.Gists().Single(g => g.Id == id);
        Assert.Equal(["a.txt", "bb.txt"], gist.Files.Keys);
        Assert.Equal("A", Encoding.UTF8.GetString(_server.ReadFile(id, "a.txt")));
        Assert.Equal("b", Encoding.UTF8.GetString(_server.ReadFile(id, "bb.txt")));

        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync(new Uri("gists/" + id, UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(new Uri("gists/" + id, UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.DeleteAsync(new Uri("gists/" + id, UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Auth_WrongTokenIs401_MissingGistScopeIs404Not403_WithTheScopeHeaders()
    {
        using var wrong = new HttpClient { BaseAddress = _server.BaseUri };
        wrong.DefaultRequestHeaders.UserAgent.ParseAdd("rule-test/1");
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "ghp_wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(new Uri("gists", UriKind.Relative))).StatusCode);
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Token", Token); // schemes are case-insensitive
        Assert.Equal(HttpStatusCode.OK, (await wrong.GetAsync(new Uri("gists", UriKind.Relative))).StatusCode);

        HttpResponseMessage ok = await _http.GetAsync(new Uri("gists", UriKind.Relative));
        Assert.Equal("repo, gist", Header(ok, "X-OAuth-Scopes"));
        Assert.Equal("gist", Header(ok, "X-Accepted-OAuth-Scopes"));

        string id = _server.Seed("private", new Dictionary<string, string> { ["f.txt"] = "x" });
        _server.Scopes = "repo, read:user";
        foreach (HttpResponseMessage denied in new[]
        {
            await _http.GetAsync(new Uri("gists", UriKind.Relative)),
            await _http.GetAsync(new Uri("gists/" + id, UriKind.Relative)),
            await _http.PostAsync(new Uri("gists", UriKind.Relative), new StringContent("{\"files\":{\"a\":{\"content\":\"b\"}}}")),
        })
        {
            Assert.Equal(HttpStatusCode.NotFound, denied.StatusCode);
            Assert.Equal("repo, read:user", Header(denied, "X-OAuth-Scopes"));
            Assert.Equal("gist", Header(denied, "X-Accepted-OAuth-Scopes"));
        }

        Assert.Single(_server.Gists()); // nothing was created

        _server.Scopes = null; // a fine-grained token: no scope headers
        HttpResponseMessage fine = await _http.GetAsync(new Uri("gists", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
        Assert.Null(Header(fine, "X-OAuth-Scopes"));
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task PrimaryLimit_Spent_Answers403Or429_RemainingZero_UntilTheReset(HttpStatusCode status)
    {
        _server.RateLimit = 2;
        _server.RateWindow = TimeSpan.FromMinutes(10);
        _server.PrimaryLimitStatus = status;
        HttpResponseMessage first = await _http.GetAsync(new Uri("gists", UriKind.Relative));
        Assert.Equal("1", Header(first, "x-ratelimit-remaining"));
        Assert.Equal("2", Header(first, "x-ratelimit-limit"));
        long reset = long.Parse(Header(first, "x-ratelimit-reset")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(_clock.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds(), reset);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri("gists", UriKind.Relative))).StatusCode);

        HttpResponseMessage spent = await _http.GetAsync(new Uri("gists", UriKind.Relative));
        Assert.Equal(status, spent.StatusCode);
        Assert.Equal("0", Header(spent, "x-ratelimit-remaining"));
        Assert.Contains("rate limit exceeded", await spent.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        _clock.SetUtcNow(DateTimeOffset.FromUnixTimeSeconds(reset));
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri("gists", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task SecondaryLimit_WithoutRetryAfter_ARetryWithinAMinuteMeetsItAgain()
    {
        _server.EnforceRetryWaits = true;
        _server.InjectSecondaryLimit(1, HttpStatusCode.TooManyRequests, null);
        HttpResponseMessage limited = await _http.GetAsync(new Uri("gists", UriKind.Relative));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Null(limited.Headers.RetryAfter);
        Assert.Contains("secondary rate limit", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotEqual("0", Header(limited, "x-ratelimit-remaining")); // not the primary limit

        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await _http.GetAsync(new Uri("gists", UriKind.Relative))).StatusCode);
        Assert.Equal(1, _server.EarlyRetries);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri("gists", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task SecondaryLimit_WithRetryAfter_SendsTheHeader_AndHoldsForThatLong()
    {
        _server.EnforceRetryWaits = true;
        _server.InjectSecondaryLimit(1, HttpStatusCode.Forbidden, 5);
        HttpResponseMessage limited = await _http.GetAsync(new Uri("gists", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Forbidden, limited.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), limited.Headers.RetryAfter?.Delta);
        _clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(HttpStatusCode.Forbidden, (await _http.GetAsync(new Uri("gists", UriKind.Relative))).StatusCode);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri("gists", UriKind.Relative))).StatusCode);
        Assert.Equal(1, _server.EarlyRetries);

        // Every request is logged with the double's clock, so a test can check a client's waits.
        IReadOnlyList<DoubleRequest> log = await _server.RequestsAsync(3);
        Assert.Equal([_clock.GetUtcNow().AddSeconds(-5), _clock.GetUtcNow().AddSeconds(-1), _clock.GetUtcNow()], log.Select(r => r.At));
        Assert.Equal([403, 403, 200], log.Select(r => r.Status));
    }
}
