using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Vectors.Qdrant.Tests;

/// <summary>The documented Qdrant rules the tier relies on, checked on the double itself (raw HTTP, no tier code), so
/// the double cannot drift into agreeing with a wrong client.</summary>
public sealed class QdrantDoubleTests : IAsyncLifetime
{
    private const string Key = "k-rw";
    private readonly QdrantDouble _qdrant = new(Key, readOnlyKey: "k-ro");
    private readonly HttpClient _http = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _qdrant.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, object? body = null, string? key = Key)
    {
        using var request = new HttpRequestMessage(method, new Uri(_qdrant.Uri, path));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (key is not null)
        {
            request.Headers.Add("api-key", key);
        }

        using HttpResponseMessage response = await _http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private Task CreateAsync(string name, int size = 3) =>
        SendAsync(HttpMethod.Put, $"collections/{name}", new { vectors = new { size, distance = "Cosine" }, metadata = new { ghostie_model = "m" } });

    private static string Id(int i) => $"00000000-0000-0000-0000-{i:D12}";

    [Fact]
    public async Task ApiKey_MissingOrWrong_Is401_ReadOnlyKeyMayReadButNotWrite()
    {
        await CreateAsync("c");

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "collections/c", key: null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "collections/c", key: "wrong")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "collections/c", key: "k-ro")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Put, "collections/c/points", new { points = Array.Empty<object>() }, key: "k-ro")).Status);
    }

    [Fact]
    public async Task Collection_CreateTwice_Is409_MissingIs404_MetadataIsReturned()
    {
        await CreateAsync("c", size: 4);

        Assert.Equal(HttpStatusCode.Conflict, (await SendAsync(HttpMethod.Put, "collections/c", new { vectors = new { size = 4, distance = "Cosine" } })).Status);
        (HttpStatusCode status, JsonNode? body) = await SendAsync(HttpMethod.Get, "collections/c");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(4, body!["result"]!["config"]!["params"]!["vectors"]!["size"]!.GetValue<int>());
        Assert.Equal("m", body["result"]!["config"]!["metadata"]!["ghostie_model"]!.GetValue<string>());
        (HttpStatusCode missing, JsonNode? error) = await SendAsync(HttpMethod.Post, "collections/absent/points/count", new { exact = true });
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Contains("doesn't exist", error!["status"]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PointIds_MustBeUnsignedIntegersOrUuids()
    {
        await CreateAsync("c");

        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Put, "collections/c/points", new { points = new[] { new { id = "my-key", vector = new[] { 1f, 0, 0 } } } })).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Put, "collections/c/points", new { points = new object[] { new { id = 7, vector = new[] { 1f, 0, 0 } }, new { id = Id(1).ToUpperInvariant(), vector = new[] { 0f, 1, 0 } } } })).Status);
        (_, JsonNode? body) = await SendAsync(HttpMethod.Post, "collections/c/points", new { ids = new[] { Id(1) } });
        Assert.Single(body!["result"]!.AsArray()); // an upper-case UUID names the same point
    }

    [Fact]
    public async Task Upsert_WrongDimension_Is400_AndWritesNothing()
    {
        await CreateAsync("c");

        (HttpStatusCode status, JsonNode? body) = await SendAsync(HttpMethod.Put, "collections/c/points",
            new { points = new[] { new { id = Id(1), vector = new[] { 1f, 0, 0 } }, new { id = Id(2), vector = new[] { 1f, 0 } } } });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Vector dimension error", body!["status"]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, (await SendAsync(HttpMethod.Post, "collections/c/points/count", new { exact = true })).Body!["result"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Upsert_ExistingId_OverwritesVectorAndPayload_RetrieveLeavesOutUnknownIds()
    {
        await CreateAsync("c");
        await SendAsync(HttpMethod.Put, "collections/c/points", new { points = new[] { new { id = Id(1), vector = new[] { 1f, 0, 0 }, payload = new { a = "1" } } } });

        await SendAsync(HttpMethod.Put, "collections/c/points", new { points = new[] { new { id = Id(1), vector = new[] { 0f, 2, 0 }, payload = new { b = "2" } } } });

        (_, JsonNode? body) = await SendAsync(HttpMethod.Post, "collections/c/points", new { ids = new[] { Id(1), Id(2) }, with_payload = true, with_vector = true });
        JsonArray result = body!["result"]!.AsArray();
        Assert.Single(result);
        Assert.Equal("{\"b\":\"2\"}", result[0]!["payload"]!.ToJsonString());
        Assert.Equal([0f, 1f, 0f], result[0]!["vector"]!.AsArray().Select(x => (float)x!.GetValue<double>())); // cosine: normalized on upload
    }

    [Fact]
    public async Task Query_ScoresAreCosine_BestFirst_ScoreThresholdAndArrayMatchFilter()
    {
        await CreateAsync("c");
        await SendAsync(HttpMethod.Put, "collections/c/points", new
        {
            points = new object[]
            {
                new { id = Id(1), vector = new[] { 3f, 0, 0 }, payload = new { tags = new[] { "x", "y" } } },
                new { id = Id(2), vector = new[] { 1f, 1, 0 }, payload = new { tags = new[] { "y" } } },
                new { id = Id(3), vector = new[] { 0f, 0, 5 }, payload = new { tags = new[] { "x" } } },
            },
        });

        JsonArray all = (await SendAsync(HttpMethod.Post, "collections/c/points/query", new { query = new[] { 2f, 0, 0 }, limit = 10 })).Body!["result"]!["points"]!.AsArray();
        JsonArray near = (await SendAsync(HttpMethod.Post, "collections/c/points/query", new { query = new[] { 2f, 0, 0 }, limit = 10, score_threshold = 0.5 })).Body!["result"]!["points"]!.AsArray();
        JsonArray filtered = (await SendAsync(HttpMethod.Post, "collections/c/points/query", new
        {
            query = new[] { 2f, 0, 0 }, limit = 10,
            filter = new { must = new[] { new { key = "tags", match = new { value = "x" } } } },
        })).Body!["result"]!["points"]!.AsArray();

        Assert.Equal([Id(1), Id(2), Id(3)], all.Select(p => p!["id"]!.GetValue<string>()));
        Assert.Equal(1f, (float)all[0]!["score"]!.GetValue<double>(), 5);
        Assert.Equal(MathF.Sqrt(0.5f), (float)all[1]!["score"]!.GetValue<double>(), 5);
        Assert.Equal([Id(1), Id(2)], near.Select(p => p!["id"]!.GetValue<string>()));
        Assert.Equal([Id(1), Id(3)], filtered.Select(p => p!["id"]!.GetValue<string>()));
        Assert.Null(all[0]!["payload"]); // with_payload defaults to false on query
    }

    [Fact]
    public async Task Delete_ByIds_RemovesThePoints_CountIsExact()
    {
        await CreateAsync("c");
        await SendAsync(HttpMethod.Put, "collections/c/points", new { points = new[] { new { id = Id(1), vector = new[] { 1f, 0, 0 } }, new { id = Id(2), vector = new[] { 0f, 1, 0 } } } });

        await SendAsync(HttpMethod.Post, "collections/c/points/delete", new { points = new[] { Id(1), Id(9) } });

        Assert.Equal(1, (await SendAsync(HttpMethod.Post, "collections/c/points/count", new { exact = true })).Body!["result"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task InjectedThrottle_AnswersWithRetryAfter()
    {
        _qdrant.Fail(429, "3");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_qdrant.Uri, "collections/c"));
        request.Headers.Add("api-key", Key);

        using HttpResponseMessage response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter?.Delta);
    }
}
