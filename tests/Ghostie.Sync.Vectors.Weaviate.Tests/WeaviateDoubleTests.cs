using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Vectors.Weaviate.Tests;

/// <summary>The documented Weaviate rules the tier relies on, checked on the double itself (raw HTTP, no tier code).</summary>
public sealed class WeaviateDoubleTests : IAsyncLifetime
{
    private const string Key = "wv-key";
    private readonly WeaviateDouble _weaviate = new(Key, readOnlyKey: "wv-ro");
    private readonly HttpClient _http = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _weaviate.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, object? body = null, string? key = Key)
    {
        using var request = new HttpRequestMessage(method, new Uri(_weaviate.Uri, path));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (key is not null)
        {
            request.Headers.Add("Authorization", "Bearer " + key);
        }

        using HttpResponseMessage response = await _http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private Task<(HttpStatusCode, JsonNode?)> CreateClassAsync(string name = "Notes", string tokenization = "field") => SendAsync(HttpMethod.Post, "v1/schema", new
    {
        @class = name,
        vectorizer = "none",
        vectorIndexConfig = new { distance = "cosine" },
        properties = new object[] { new { name = "tags", dataType = new[] { "text[]" }, tokenization }, new { name = "key", dataType = new[] { "text" }, tokenization = "field" } },
    });

    private static string Id(int i) => $"00000000-0000-0000-0000-{i:D12}";

    private Task<(HttpStatusCode, JsonNode?)> BatchAsync(params object[] objects) => SendAsync(HttpMethod.Post, "v1/batch/objects", new { objects });

    private async Task<JsonNode> GraphQLAsync(string query) => (await SendAsync(HttpMethod.Post, "v1/graphql", new { query })).Body!;

    [Fact]
    public async Task Bearer_MissingOrWrong_Is401_ReadOnlyKeyWritingIs403()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "v1/schema/Notes", key: null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "v1/schema/Notes", key: "wrong")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "v1/schema/Notes", key: "wv-ro")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "v1/schema", new { @class = "Notes" }, key: "wv-ro")).Status);
    }

    [Fact]
    public async Task Schema_ClassNamesStartUpperCase_CreateTwiceIs422_GetReturnsTheDefinition()
    {
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await CreateClassAsync("notes")).Item1);
        Assert.Equal(HttpStatusCode.OK, (await CreateClassAsync()).Item1);
        (HttpStatusCode again, JsonNode? error) = await CreateClassAsync();
        (HttpStatusCode status, JsonNode? definition) = await SendAsync(HttpMethod.Get, "v1/schema/Notes");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, again);
        Assert.Contains("already exists", error!["error"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("cosine", definition!["vectorIndexConfig"]!["distance"]!.GetValue<string>());
    }

    [Fact]
    public async Task Batch_ReportsErrorsPerObject_WithHttp200_ReplacesExistingIds()
    {
        await CreateClassAsync();

        (HttpStatusCode status, JsonNode? results) = await BatchAsync(
            new { @class = "Notes", id = Id(1), properties = new { key = "a" }, vector = new[] { 1f, 0, 0 } },
            new { @class = "Notes", id = Id(2), properties = new { key = "b" }, vector = new[] { 1f, 0 } },
            new { @class = "Notes", id = Id(3), properties = new { undeclared = "x" }, vector = new[] { 1f, 0, 0 } },
            new { @class = "Missing", id = Id(4), vector = new[] { 1f, 0, 0 } });
        await BatchAsync(new { @class = "Notes", id = Id(1), properties = new { key = "a2" }, vector = new[] { 0f, 1, 0 } });

        Assert.Equal(HttpStatusCode.OK, status);
        JsonArray list = results!.AsArray();
        Assert.Null(list[0]!["result"]!["errors"]);
        Assert.Contains("vector with length 2", list[1]!["result"]!["errors"]!["error"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("no such prop", list[2]!["result"]!["errors"]!["error"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("not present in schema", list[3]!["result"]!["errors"]!["error"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(["{\"key\":\"a2\"}"], _weaviate.Properties("Notes"));
    }

    [Fact]
    public async Task Objects_GetWithIncludeVector_DeleteIs204ThenNotFound_ListPagesByCursor()
    {
        await CreateClassAsync();
        await BatchAsync(Enumerable.Range(1, 5).Select(i => (object)new { @class = "Notes", id = Id(i), properties = new { key = $"k{i}" }, vector = new[] { 1f, i, 0 } }).ToArray());

        (HttpStatusCode got, JsonNode? obj) = await SendAsync(HttpMethod.Get, $"v1/objects/Notes/{Id(2)}?include=vector");
        (HttpStatusCode plain, JsonNode? noVector) = await SendAsync(HttpMethod.Get, $"v1/objects/Notes/{Id(2)}");
        HttpStatusCode deleted = (await SendAsync(HttpMethod.Delete, $"v1/objects/Notes/{Id(5)}")).Status;
        HttpStatusCode again = (await SendAsync(HttpMethod.Delete, $"v1/objects/Notes/{Id(5)}")).Status;
        JsonArray first = (await SendAsync(HttpMethod.Get, "v1/objects?class=Notes&limit=3")).Body!["objects"]!.AsArray();
        JsonArray second = (await SendAsync(HttpMethod.Get, $"v1/objects?class=Notes&limit=3&after={first[2]!["id"]!.GetValue<string>()}")).Body!["objects"]!.AsArray();

        Assert.Equal(HttpStatusCode.OK, got);
        Assert.Equal(3, obj!["vector"]!.AsArray().Count);
        Assert.Equal(HttpStatusCode.OK, plain);
        Assert.Null(noVector!["vector"]);
        Assert.Equal(HttpStatusCode.NoContent, deleted);
        Assert.Equal(HttpStatusCode.NotFound, again);
        Assert.Equal([Id(1), Id(2), Id(3)], first.Select(o => o!["id"]!.GetValue<string>()));
        Assert.Equal([Id(4)], second.Select(o => o!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task GraphQL_NearVector_CosineDistanceNearestFirst_DistanceIsAMaximum_ContainsAny()
    {
        await CreateClassAsync();
        await BatchAsync(
            new { @class = "Notes", id = Id(1), properties = new { key = "a", tags = new[] { "x", "y" } }, vector = new[] { 3f, 0, 0 } },
            new { @class = "Notes", id = Id(2), properties = new { key = "b", tags = new[] { "y" } }, vector = new[] { 1f, 1, 0 } },
            new { @class = "Notes", id = Id(3), properties = new { key = "c", tags = new[] { "x" } }, vector = new[] { 0f, 0, 5 } });

        JsonArray all = (await GraphQLAsync("{ Get { Notes(nearVector: {vector: [2, 0, 0]}, limit: 10) { key _additional { id distance } } } }"))["data"]!["Get"]!["Notes"]!.AsArray();
        JsonArray near = (await GraphQLAsync("{ Get { Notes(nearVector: {vector: [2, 0, 0], distance: 0.5}, limit: 10) { key _additional { distance } } } }"))["data"]!["Get"]!["Notes"]!.AsArray();
        JsonArray filtered = (await GraphQLAsync("{ Get { Notes(nearVector: {vector: [2, 0, 0]}, limit: 10, where: {operator: And, operands: [{path: [\"tags\"], operator: ContainsAny, valueText: [\"x\"]}]}) { key _additional { id } } } }"))["data"]!["Get"]!["Notes"]!.AsArray();

        Assert.Equal(["a", "b", "c"], all.Select(h => h!["key"]!.GetValue<string>()));
        Assert.Equal(0f, (float)all[0]!["_additional"]!["distance"]!.GetValue<double>(), 5);
        Assert.Equal(1f - MathF.Sqrt(0.5f), (float)all[1]!["_additional"]!["distance"]!.GetValue<double>(), 5);
        Assert.Equal(["a", "b"], near.Select(h => h!["key"]!.GetValue<string>()));
        Assert.Equal(["a", "c"], filtered.Select(h => h!["key"]!.GetValue<string>()));
    }

    [Fact]
    public async Task GraphQL_ErrorsComeBackAsHttp200WithAnErrorsList()
    {
        await CreateClassAsync();
        await BatchAsync(new { @class = "Notes", id = Id(1), properties = new { key = "a" }, vector = new[] { 1f, 0, 0 } });

        (HttpStatusCode status, JsonNode? wrongLength) = await SendAsync(HttpMethod.Post, "v1/graphql", new { query = "{ Get { Notes(nearVector: {vector: [1, 0]}, limit: 1) { key } } }" });
        JsonNode unknown = await GraphQLAsync("{ Get { Absent(nearVector: {vector: [1, 0, 0]}, limit: 1) { key } } }");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("vector lengths don't match", wrongLength!["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("Cannot query field \"Absent\"", unknown["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WordTokenization_ComparesLowerCasedTokens_FieldTokenizationWholeStrings()
    {
        await CreateClassAsync("Words", tokenization: "word");
        await CreateClassAsync("Fields", tokenization: "field");
        foreach (string cls in new[] { "Words", "Fields" })
        {
            await BatchAsync(new { @class = cls, id = Id(1), properties = new { tags = new[] { "1:a=Hello World" } }, vector = new[] { 1f, 0, 0 } });
        }

        const string Where = "where: {operator: ContainsAny, path: [\"tags\"], valueText: [\"hello\"]}";
        JsonArray words = (await GraphQLAsync($"{{ Get {{ Words(nearVector: {{vector: [1, 0, 0]}}, limit: 5, {Where}) {{ tags }} }} }}"))["data"]!["Get"]!["Words"]!.AsArray();
        JsonArray fields = (await GraphQLAsync($"{{ Get {{ Fields(nearVector: {{vector: [1, 0, 0]}}, limit: 5, {Where}) {{ tags }} }} }}"))["data"]!["Get"]!["Fields"]!.AsArray();

        Assert.Single(words);
        Assert.Empty(fields);
    }
}
