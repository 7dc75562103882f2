using System.Text.Json;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary><c>ghostie memory search</c>: end to end over the home's memories, including ones pulled from another device.</summary>
public sealed class MemorySearchTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Search_MemoriesOfTwoDevices_FindsTheClosestFirst_AndFollowsEditsAndRemovals()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        (await _sandbox.RunAsync("laptop", "memory", "add", "Alice prefers green tea in the morning", "--category", "taste")).Expect(0);
        (await _sandbox.RunAsync("laptop", "memory", "add", "The wifi password is written on the fridge", "--category", "network")).Expect(0);
        (await _sandbox.RunWithPassphraseAsync("laptop", Sandbox.Passphrase, "sync", "push", "--quiet")).Expect(0);
        (await _sandbox.RunWithPassphraseAsync("phone", Sandbox.Passphrase, "sync", "pull", "--quiet")).Expect(0);
        JsonElement fromPhone = (await _sandbox.RunAsync("phone", "memory", "add", "Deploy the backend with dotnet publish", "--json")).Expect(0).Json();

        JsonElement found = (await _sandbox.RunAsync("phone", "memory", "search", "which tea does alice like", "--json", "--embeddings", "lexical")).Expect(0).Json();

        Assert.Equal(3, found.GetProperty("indexed").GetInt32());
        Assert.Equal(3, found.GetProperty("reembedded").GetInt32());
        Assert.Equal("ghostie-hashed-ngram-v1-n3", found.GetProperty("model").GetString());
        JsonElement[] results = found.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal("Alice prefers green tea in the morning", results[0].GetProperty("content").GetString());
        Assert.Equal("taste", results[0].GetProperty("category").GetString());
        Assert.True(results[0].GetProperty("score").GetSingle() > results[1].GetProperty("score").GetSingle());
        Assert.True(File.Exists(Path.Combine(_sandbox.Home("phone"), "vectors", "memories.gvx")));

        // The second search reuses the index; an edit is re-embedded, a removal disappears.
        string id = fromPhone.GetProperty("id").GetString()!;
        (await _sandbox.RunAsync("phone", "memory", "edit", id, "Alice also likes jasmine tea")).Expect(0);
        JsonElement again = (await _sandbox.RunAsync("phone", "memory", "search", "jasmine", "--json", "--top", "1", "--embeddings", "lexical")).Expect(0).Json();
        Assert.Equal(1, again.GetProperty("reembedded").GetInt32());
        Assert.Equal(id, Assert.Single(again.GetProperty("results").EnumerateArray()).GetProperty("id").GetString());
        (await _sandbox.RunAsync("phone", "memory", "rm", id)).Expect(0);
        JsonElement afterRemove = (await _sandbox.RunAsync("phone", "memory", "search", "jasmine tea", "--json", "--embeddings", "lexical")).Expect(0).Json();
        Assert.DoesNotContain(afterRemove.GetProperty("results").EnumerateArray(), r => r.GetProperty("id").GetString() == id);

        // Category filter, text output, --quiet.
        JsonElement network = (await _sandbox.RunAsync("phone", "memory", "search", "tea", "--category", "network", "--json", "--embeddings", "lexical")).Expect(0).Json();
        Assert.All(network.GetProperty("results").EnumerateArray(), r => Assert.Equal("network", r.GetProperty("category").GetString()));
        CliResult text = (await _sandbox.RunAsync("phone", "memory", "search", "wifi password", "--embeddings", "lexical")).Expect(0);
        Assert.StartsWith("0.", text.StdOut, StringComparison.Ordinal);
        Assert.Contains("[network]  The wifi password is written on the fridge", text.StdOut.Split('\n')[0], StringComparison.Ordinal);
        Assert.Empty((await _sandbox.RunAsync("phone", "memory", "search", "wifi", "--quiet", "--embeddings", "lexical")).Expect(0).StdOut);
    }

    [Fact]
    public async Task Search_DamagedIndex_IsSetAsideAndRebuilt()
    {
        (await _sandbox.RunAsync("solo", "memory", "add", "Ship the release on Friday")).Expect(0);
        (await _sandbox.RunAsync("solo", "memory", "search", "release", "--embeddings", "lexical")).Expect(0);
        string index = Path.Combine(_sandbox.Home("solo"), "vectors", "memories.gvx");
        byte[] bytes = await File.ReadAllBytesAsync(index);
        bytes[^40] ^= 0xff;
        await File.WriteAllBytesAsync(index, bytes);

        CliResult result = (await _sandbox.RunAsync("solo", "memory", "search", "release", "--json", "--embeddings", "lexical")).Expect(0);

        Assert.Equal("Ship the release on Friday", Assert.Single(result.Json().GetProperty("results").EnumerateArray()).GetProperty("content").GetString());
        Assert.Contains("damaged", result.StdErr, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Path.Combine(_sandbox.Home("solo"), "vectors"), "memories.gvx.broken-*"));
    }

    [Fact]
    public async Task Search_Lexical_MemoriesSharingNothingWithTheText_AreNotListed()
    {
        (await _sandbox.RunAsync("solo", "memory", "add", "The wifi password is written on the fridge", "--category", "network")).Expect(0);
        (await _sandbox.RunAsync("solo", "memory", "add", "Alice prefers green tea in the morning", "--category", "taste")).Expect(0);

        JsonElement found = (await _sandbox.RunAsync("solo", "memory", "search", "wifi", "--json", "--embeddings", "lexical")).Expect(0).Json();
        CliResult none = (await _sandbox.RunAsync("solo", "memory", "search", "xyzzy", "--embeddings", "lexical")).Expect(0);
        JsonElement all = (await _sandbox.RunAsync("solo", "memory", "search", "wifi", "--min-score", "-1", "--json", "--embeddings", "lexical")).Expect(0).Json();

        Assert.Equal("network", Assert.Single(found.GetProperty("results").EnumerateArray()).GetProperty("category").GetString());
        Assert.Equal("No memory matches.", none.StdOut.Trim());
        Assert.Equal(2, all.GetProperty("results").GetArrayLength()); // an explicit threshold is taken as given
    }

    [Fact]
    public async Task Search_MiniLMInstalled_IsTheDefault_FindsMeaningWithoutSharedWords_InItsOwnIndex()
    {
        (await _sandbox.RunAsync("solo", "memory", "add", "My automobile needs new tyres before winter", "--category", "errands")).Expect(0);
        (await _sandbox.RunAsync("solo", "memory", "add", "Alice prefers green tea in the morning", "--category", "taste")).Expect(0);
        (await _sandbox.RunAsync("solo", "memory", "add", "The wifi password is written on the fridge", "--category", "network")).Expect(0);

        JsonElement semantic = (await _sandbox.RunAsync("solo", "memory", "search", "car maintenance", "--json")).Expect(0).Json();
        JsonElement lexical = (await _sandbox.RunAsync("solo", "memory", "search", "car maintenance", "--json", "--embeddings", "lexical")).Expect(0).Json();

        Assert.Equal("sentence-transformers/all-MiniLM-L6-v2", semantic.GetProperty("model").GetString());
        JsonElement first = semantic.GetProperty("results").EnumerateArray().First();
        Assert.Equal("My automobile needs new tyres before winter", first.GetProperty("content").GetString());
        Assert.DoesNotContain(semantic.GetProperty("results").EnumerateArray(), r => r.GetProperty("category").GetString() == "network"); // below the 0.25 default
        Assert.True(File.Exists(Path.Combine(_sandbox.Home("solo"), "vectors", "memories-minilm.gvx")));
        Assert.Equal("ghostie-hashed-ngram-v1-n3", lexical.GetProperty("model").GetString());
        Assert.True(File.Exists(Path.Combine(_sandbox.Home("solo"), "vectors", "memories.gvx")));
    }

    [Theory]
    [InlineData("tea", "--embeddings", "bert")]
    [InlineData("...")]
    [InlineData("tea", "--top", "0")]
    [InlineData("tea", "--min-score", "2")]
    public async Task Search_BadInput_UsageErrorWithMessage(params string[] args)
    {
        CliResult result = await _sandbox.RunAsync("solo", ["memory", "search", .. args, "--json"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("InvalidArgument", result.Json().GetProperty("error").GetProperty("code").GetString());
    }
}
