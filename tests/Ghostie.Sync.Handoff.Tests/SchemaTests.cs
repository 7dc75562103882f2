using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Handoff.Tests.Support;

namespace Ghostie.Sync.Handoff.Tests;

public sealed class SchemaTests
{
    private const string Id = "0123456789abcdef01234567";

    [Fact]
    public void FullSample_SetsEveryField()
    {
        // The round-trip tests only prove something if the sample leaves no field at its default.
        Fixtures.AssertEveryFieldSet(Fixtures.Full(Id));
    }

    [Fact]
    public async Task StoreFetch_EveryField_RoundTrips()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop");
        HandoffService phone = repository.Device("phone");
        HandoffPackage original = Fixtures.Full(Id);

        await laptop.StoreAsync(original);
        HandoffPackage fetched = await phone.FetchAsync(Id);

        Assert.Equal(Json(original), Json(fetched));
        Fixtures.AssertEveryFieldSet(fetched);
        Assert.Equal(original.Embeddings!.Entries[0].Vector, fetched.Embeddings!.Entries[0].Vector);
        Assert.Equal(original.CreatedAt, fetched.CreatedAt);
        Assert.Equal(original.CreatedAt.Offset, fetched.CreatedAt.Offset);
    }

    [Fact]
    public void AgentStates_RoundTripExactly()
    {
        HandoffPackage original = Fixtures.Full(Id);
        HandoffPackage read = HandoffSerializer.Default.Deserialize(HandoffSerializer.Default.Serialize(original), "test");
        AgentState before = original.Agents[0], after = read.Agents[0];
        Assert.Equal(before.Id, after.Id);
        Assert.Equal(before.SystemPrompt, after.SystemPrompt);
        Assert.Equal(before.PromptChanges, after.PromptChanges);
        Assert.Equal(before.ContextWindow.Messages, after.ContextWindow.Messages);
        Assert.Equal(before.ContextWindow.MaxTokens, after.ContextWindow.MaxTokens);
        Assert.Equal(before.MemorySnapshot, after.MemorySnapshot);
        Assert.Equal(before.Variables, after.Variables);
        Assert.Equal(before.EstimatedMemoryBytes, after.EstimatedMemoryBytes);
        Assert.Equal((before.Name, before.Role, before.Priority, before.IsActive, before.Model), (after.Name, after.Role, after.Priority, after.IsActive, after.Model));
    }

    [Fact]
    public void Vectors_AreBase64OfLittleEndianFloats_AndExact()
    {
        float[] vector = [1f, -0f, float.MaxValue, 1e-45f, 0.333333343f];
        HandoffPackage package = Fixtures.Full(Id) with
        {
            Embeddings = Fixtures.Full(Id).Embeddings! with { Dimensions = vector.Length, Entries = [new EmbeddingEntry { Id = "v", Vector = vector }] },
        };
        byte[] json = HandoffSerializer.Default.Serialize(package);
        string base64 = JsonNode.Parse(json)!["embeddings"]!["entries"]![0]!["vector"]!.GetValue<string>();
        byte[] bytes = Convert.FromBase64String(base64);
        Assert.Equal(20, bytes.Length);
        Assert.Equal(new byte[] { 0, 0, 0x80, 0x3f }, bytes[..4]); // 1.0f little-endian
        float[] back = HandoffSerializer.Default.Deserialize(json, "test").Embeddings!.Entries[0].Vector;
        Assert.Equal(vector.Select(BitConverter.SingleToInt32Bits), back.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Deserialize_NewerSchema_SaysUpgrade()
    {
        JsonObject node = JsonNode.Parse(HandoffSerializer.Default.Serialize(Fixtures.Full(Id)))!.AsObject();
        node["schema_version"] = HandoffSerializer.CurrentSchemaVersion + 1;
        node["something_new"] = "from the future";

        var error = Assert.Throws<UnsupportedFormatException>(() => HandoffSerializer.Default.Deserialize(Encoding.UTF8.GetBytes(node.ToJsonString()), "package x"));
        Assert.Equal(HandoffSerializer.CurrentSchemaVersion + 1, error.FoundVersion);
        Assert.Equal(HandoffSerializer.CurrentSchemaVersion, error.MaxSupportedVersion);
        Assert.Contains("Upgrade", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fetch_NewerSchemaInRepository_SaysUpgrade()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService phone = repository.Device("phone");
        JsonObject node = JsonNode.Parse(HandoffSerializer.Default.Serialize(Fixtures.Full(Id)))!.AsObject();
        node["schema_version"] = 7;
        await StoreRawAsync(repository, phone.ObjectNameFor("phone", Id), Encoding.UTF8.GetBytes(node.ToJsonString()), Id, schemaVersion: 7);

        var error = await Assert.ThrowsAsync<UnsupportedFormatException>(() => phone.FetchAsync(Id));
        Assert.Equal(7, error.FoundVersion);
        Assert.Contains("Upgrade Ghostie.Sync", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_OlderSchema_RunsTheMigrationHook()
    {
        // Version 0 never shipped; it stands for "an older schema" to prove the hook: a renamed field moves back.
        JsonObject node = JsonNode.Parse(HandoffSerializer.Default.Serialize(Fixtures.Full(Id)))!.AsObject();
        node["schema_version"] = 0;
        node["conversation"]!.AsObject()["name"] = "Old title";
        node["conversation"]!.AsObject().Remove("title");
        byte[] old = Encoding.UTF8.GetBytes(node.ToJsonString());

        var error = Assert.Throws<UnsupportedFormatException>(() => HandoffSerializer.Default.Deserialize(old, "old"));
        Assert.Contains("no migration from version 0", error.Message, StringComparison.Ordinal);

        var serializer = new HandoffSerializer([new RenameTitle()]);
        HandoffPackage migrated = serializer.Deserialize(old, "old");
        Assert.Equal("Old title", migrated.Conversation.Title);
        Assert.Equal(1, migrated.SchemaVersion);
    }

    [Fact]
    public void V1Fixture_AlwaysLoads()
    {
        // Written once by schema version 1 and never regenerated: every later build must read it.
        byte[] json = File.ReadAllBytes(Fixtures.PathOf("package-v1.json"));
        HandoffPackage package = HandoffSerializer.Default.Deserialize(json, "package-v1.json");

        Assert.Equal(1, package.SchemaVersion);
        Assert.Equal(Id, package.PackageId);
        Assert.Equal("phone", package.TargetDeviceId);
        Assert.Equal("session-42", package.Conversation.Id);
        Assert.Equal(420, package.Conversation.MessageCount);
        Assert.Equal("Decision: use SQLite.", Assert.Single(package.Context.KeyDecisions).Text);
        Assert.Equal("/home/alice/src/app/src/Queue.cs", Assert.Single(package.Context.ActiveFiles).Path);
        AgentState agent = Assert.Single(package.Agents);
        Assert.Equal("You plan carefully.", Assert.Single(agent.PromptChanges).Prompt);
        Assert.Equal("careful", agent.Variables["mode"]);
        Assert.Equal(new[] { 0.1f, -0.2f, float.Epsilon, 3.4028235e38f }, Assert.Single(package.Embeddings!.Entries).Vector);
        Assert.Equal(DateTimeOffset.Parse("2026-11-28T07:30:00.123+00:00", CultureInfo.InvariantCulture), package.ExpiresAt);
        Fixtures.AssertEveryFieldSet(package, absent: ["Checkpoint", .. Fixtures.AddedInVersion3, .. Fixtures.SummarySectionFields]); // agents[].checkpoint came with schema version 2, agent state with 3, the summary sections later
    }

    [Theory]
    [InlineData("[]", "not an object")]
    [InlineData("{\"package_id\":\"x\"}", "no schema_version")]
    [InlineData("{\"schema_version\":\"1\"}", "not a non-negative integer")]
    [InlineData("{\"schema_version\":1,\"package_id\":\"0123456789abcdef01234567\"}", "not a valid handoff package")]
    [InlineData("{\"schema_version\":1,", "not a valid handoff package")]
    public void Deserialize_Malformed_ClearError(string json, string expected)
    {
        var error = Assert.Throws<GhostieSyncException>(() => HandoffSerializer.Default.Deserialize(Encoding.UTF8.GetBytes(json), "f.json"));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains("f.json", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_VectorOfWrongDimensions_Refused()
    {
        HandoffPackage package = Fixtures.Full(Id);
        package = package with { Embeddings = package.Embeddings! with { Dimensions = 5 } };
        var error = Assert.Throws<GhostieSyncException>(() => HandoffSerializer.Default.Deserialize(HandoffSerializer.Default.Serialize(package), "p"));
        Assert.Contains("4 dimensions", error.Message, StringComparison.Ordinal);
    }

    internal static string Json(HandoffPackage package) => Encoding.UTF8.GetString(HandoffSerializer.Default.Serialize(package));

    /// <summary>Seals arbitrary package JSON the way the service does, for packages the service would not write.</summary>
    internal static async Task StoreRawAsync(Repository repository, string name, byte[] json, string packageId, int schemaVersion = 1)
    {
        byte[] manifest = Encoding.UTF8.GetBytes($$"""{"format":1,"package_id":"{{packageId}}","schema_version":{{schemaVersion}},"conversation_id":"c","source_device_id":"laptop","json_bytes":{{json.Length}}}""");
        byte[] compressed = new byte[System.IO.Compression.BrotliEncoder.GetMaxCompressedLength(json.Length)];
        System.IO.Compression.BrotliEncoder.TryCompress(json, compressed, out int length, 5, 22);
        byte[] plaintext = [1, .. BitConverterBigEndian((uint)manifest.Length), .. manifest, .. compressed[..length]];
        byte[] sealedObject = repository.Keys.Cipher.Seal(plaintext, ObjectKind.Handoff, name);
        await repository.Storage.PutAsync(name, new MemoryStream(sealedObject));
    }

    private static byte[] BitConverterBigEndian(uint value)
    {
        byte[] bytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    private sealed class RenameTitle : IHandoffMigration
    {
        public int FromVersion => 0;

        public void Migrate(JsonObject package)
        {
            JsonObject conversation = package["conversation"]!.AsObject();
            conversation["title"] = conversation["name"]!.GetValue<string>();
            conversation.Remove("name");
        }
    }
}
