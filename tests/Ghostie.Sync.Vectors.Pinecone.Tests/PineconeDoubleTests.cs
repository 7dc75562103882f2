using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Vectors.Pinecone.Tests;

/// <summary>The documented Pinecone rules the tier relies on, checked on the double itself (raw HTTP, no tier code).</summary>
public sealed class PineconeDoubleTests : IAsyncLifetime
{
    private const string Key = "pc-key";
    private readonly PineconeDouble _pinecone = new(Key);
    private readonly HttpClient _http = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _pinecone.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, object? body = null, string? key = Key, string? version = "2025-10")
    {
        using var request = new HttpRequestMessage(method, new Uri(_pinecone.Uri, path));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (key is not null)
        {
            request.Headers.Add("Api-Key", key);
        }

        if (version is not null)
        {
            request.Headers.Add("X-Pinecone-Api-Version", version);
        }

        using HttpResponseMessage response = await _http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private Task<(HttpStatusCode, JsonNode?)> CreateIndexAsync(int dimension = 3, object? tags = null) =>
        SendAsync(HttpMethod.Post, "indexes", new { name = "idx", dimension, metric = "cosine", spec = new { serverless = new { cloud = "aws", region = "us-east-1" } }, tags });

    private Task<(HttpStatusCode, JsonNode?)> UpsertAsync(params object[] vectors) => SendAsync(HttpMethod.Post, "vectors/upsert", new { vectors, @namespace = "ns" });

    private static JsonArray Matches(JsonNode? body) => body!["matches"]!.AsArray();

    [Fact]
    public async Task ApiKey_MissingOrWrong_Is401_UnknownVersionIs400_MissingVersionIsServedAndRecorded()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "indexes/idx", key: null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "indexes/idx", key: "wrong")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Get, "indexes/idx", version: "1999-01")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "indexes/idx", version: null)).Status);
        Assert.Contains(null, _pinecone.VersionsSeen);
    }

    [Fact]
    public async Task CreateIndex_Is201_ThenDescribeNamesHostDimensionMetricTags_SecondCreateIs409()
    {
        (HttpStatusCode created, _) = await CreateIndexAsync(tags: new { ghostie_model = "m-1a2b3c4d" });
        (HttpStatusCode status, JsonNode? index) = await SendAsync(HttpMethod.Get, "indexes/idx");

        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, index!["dimension"]!.GetValue<int>());
        Assert.Equal("cosine", index["metric"]!.GetValue<string>());
        Assert.Equal(_pinecone.Uri.Authority, index["host"]!.GetValue<string>());
        Assert.True(index["status"]!["ready"]!.GetValue<bool>());
        Assert.Equal("m-1a2b3c4d", index["tags"]!["ghostie_model"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await CreateIndexAsync()).Item1);
    }

    [Fact]
    public async Task CreateIndex_BadNameOrTag_IsRefused()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Post, "indexes", new { name = "Bad_Name", dimension = 3, metric = "cosine", spec = new { serverless = new { cloud = "aws", region = "us-east-1" } } })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await CreateIndexAsync(tags: new { ghostie_model = "sentence-transformers/all-MiniLM" })).Item1);
    }

    [Fact]
    public async Task Upsert_MoreThan1000_WrongDimension_NullMetadata_AreRefused_AndWriteNothing()
    {
        await CreateIndexAsync();

        Assert.Equal(HttpStatusCode.BadRequest, (await UpsertAsync(Enumerable.Range(0, 1001).Select(i => (object)new { id = $"v{i}", values = new[] { 1f, 0, 0 } }).ToArray())).Item1);
        Assert.Equal(HttpStatusCode.BadRequest, (await UpsertAsync(new { id = "a", values = new[] { 1f, 0, 0 } }, new { id = "b", values = new[] { 1f, 0 } })).Item1);
        Assert.Equal(HttpStatusCode.BadRequest, (await UpsertAsync(new { id = "a", values = new[] { 1f, 0, 0 }, metadata = new { x = (string?)null } })).Item1);
        Assert.Equal(HttpStatusCode.BadRequest, (await UpsertAsync(new { id = "a", values = new[] { 1f, 0, 0 }, metadata = new { x = new { nested = "object" } } })).Item1);
        Assert.Empty(Matches((await SendAsync(HttpMethod.Post, "query", new { vector = new[] { 1f, 0, 0 }, topK = 10, @namespace = "ns" })).Body));
    }

    [Fact]
    public async Task Upsert_ExistingId_OverwritesTheWholeRecord_FetchLeavesOutUnknownIds()
    {
        await CreateIndexAsync();
        await UpsertAsync(new { id = "a", values = new[] { 1f, 0, 0 }, metadata = new { x = "1" } });

        await UpsertAsync(new { id = "a", values = new[] { 0f, 2, 0 } });

        (_, JsonNode? body) = await SendAsync(HttpMethod.Get, "vectors/fetch?ids=a&ids=zzz&namespace=ns");
        JsonObject vectors = body!["vectors"]!.AsObject();
        Assert.Single(vectors);
        Assert.Null(vectors["a"]!["metadata"]);
        Assert.Equal([0f, 2f, 0f], vectors["a"]!["values"]!.AsArray().Select(x => (float)x!.GetValue<double>()));
    }

    [Fact]
    public async Task Query_CosineScoresBestFirst_TopKLimits_MetadataOnlyWhenAsked_InOnAListField()
    {
        await CreateIndexAsync();
        await UpsertAsync(
            new { id = "a", values = new[] { 3f, 0, 0 }, metadata = new { tags = new[] { "x", "y" } } },
            new { id = "b", values = new[] { 1f, 1, 0 }, metadata = new { tags = new[] { "y" } } },
            new { id = "c", values = new[] { 0f, 0, 5 }, metadata = new { tags = new[] { "x" } } });

        JsonArray all = Matches((await SendAsync(HttpMethod.Post, "query", new { vector = new[] { 2f, 0, 0 }, topK = 10, @namespace = "ns" })).Body);
        JsonArray filtered = Matches((await SendAsync(HttpMethod.Post, "query", new
        {
            vector = new[] { 2f, 0, 0 }, topK = 10, @namespace = "ns", includeMetadata = true,
            filter = new Dictionary<string, object> { ["$and"] = new[] { new Dictionary<string, object> { ["tags"] = new Dictionary<string, object> { ["$in"] = new[] { "x" } } } } },
        })).Body);

        Assert.Equal(["a", "b", "c"], all.Select(m => m!["id"]!.GetValue<string>()));
        Assert.Equal(MathF.Sqrt(0.5f), (float)all[1]!["score"]!.GetValue<double>(), 5);
        Assert.Null(all[0]!["metadata"]);
        Assert.Null(all[0]!["values"]);
        Assert.Equal(["a", "c"], filtered.Select(m => m!["id"]!.GetValue<string>()));
        Assert.NotNull(filtered[0]!["metadata"]);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Post, "query", new { vector = new[] { 2f, 0, 0 }, topK = 10_001, @namespace = "ns" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Post, "query", new { vector = new[] { 2f, 0, 0 }, topK = 0, @namespace = "ns" })).Status);
    }

    [Fact]
    public async Task List_PagesThroughEveryIdOnce_Delete_IgnoresUnknownIds()
    {
        await CreateIndexAsync();
        await UpsertAsync(Enumerable.Range(0, 5).Select(i => (object)new { id = $"v{i}", values = new[] { 1f, i, 0 } }).ToArray());
        await SendAsync(HttpMethod.Post, "vectors/delete", new { ids = new[] { "v4", "nope" }, @namespace = "ns" });

        var ids = new List<string>();
        string? token = null;
        int pages = 0;
        do
        {
            (_, JsonNode? page) = await SendAsync(HttpMethod.Get, "vectors/list?namespace=ns&limit=2" + (token is null ? "" : "&paginationToken=" + token));
            ids.AddRange(page!["vectors"]!.AsArray().Select(v => v!["id"]!.GetValue<string>()));
            token = page["pagination"]?["next"]?.GetValue<string>();
            pages++;
        }
        while (token is not null);

        Assert.Equal(["v0", "v1", "v2", "v3"], ids);
        Assert.Equal(2, pages);
    }

    [Fact]
    public async Task DataPlane_OfAMissingIndex_Is404()
    {
        (HttpStatusCode status, JsonNode? body) = await SendAsync(HttpMethod.Post, "query", new { vector = new[] { 1f }, topK = 1, @namespace = "ns" });

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("NOT_FOUND", body!["error"]!["code"]!.GetValue<string>());
    }
}
