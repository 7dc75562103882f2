using System.Text;
using System.Text.Json.Nodes;
using Ghostie.Sync.Handoff.Tests.Support;

namespace Ghostie.Sync.Handoff.Tests;

/// <summary>Schema version 2: an agent may carry a pointer to its latest checkpoint instead of its whole state.</summary>
public sealed class CheckpointPointerTests
{
    private const string Id = "0123456789abcdef01234567";
    private const string Digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    [Fact]
    public void Serialize_AgentWithCheckpoint_WritesVersion2AndRoundTrips()
    {
        HandoffPackage package = Fixtures.WithoutVersion3(Fixtures.Full(Id));
        Assert.NotNull(package.Agents[0].Checkpoint);

        byte[] json = HandoffSerializer.Default.Serialize(package);
        JsonObject node = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(2, node["schema_version"]!.GetValue<int>());
        JsonObject pointer = node["agents"]![0]!["checkpoint"]!.AsObject();
        Assert.Equal("redis", pointer["store"]!.GetValue<string>());
        Assert.Equal(17, pointer["sequence"]!.GetValue<long>());
        Assert.Equal(Digest, pointer["state_sha256"]!.GetValue<string>());

        HandoffPackage read = HandoffSerializer.Default.Deserialize(json, "p");
        Assert.Equal(2, read.SchemaVersion);
        Assert.Equal(package.Agents[0].Checkpoint, read.Agents[0].Checkpoint);
    }

    [Fact]
    public void Serialize_NoCheckpoint_StillWritesVersion1()
    {
        // Devices not yet upgraded read version 1 only: a package that needs nothing of version 2 stays readable to them.
        HandoffPackage package = WithoutPointers(Fixtures.WithoutVersion3(Fixtures.Full(Id)));
        Assert.Equal(HandoffSerializer.CurrentSchemaVersion, new HandoffPackage
        {
            PackageId = Id, Source = package.Source, Conversation = package.Conversation, Context = package.Context, Reconstruction = package.Reconstruction,
        }.SchemaVersion);

        JsonObject node = JsonNode.Parse(HandoffSerializer.Default.Serialize(package))!.AsObject();
        Assert.Equal(1, node["schema_version"]!.GetValue<int>());
        Assert.Equal(1, HandoffSerializer.SchemaVersionFor(package));
        Assert.Equal(2, HandoffSerializer.SchemaVersionFor(Fixtures.WithoutVersion3(Fixtures.Full(Id))));
    }

    [Fact]
    public void V1Fixture_ReadsUnderVersion2_WithoutPointers()
    {
        // The migration from 1 to 2 changes nothing: version 2 only adds agents[].checkpoint, which a version-1 package lacks.
        HandoffPackage package = HandoffSerializer.Default.Deserialize(File.ReadAllBytes(Fixtures.PathOf("package-v1.json")), "package-v1.json");
        Assert.Equal(1, package.SchemaVersion);
        Assert.Null(Assert.Single(package.Agents).Checkpoint);
        Assert.Equal("You plan.", package.Agents[0].SystemPrompt);

        // Written again, it is still version 1, byte for byte what a version-1 build wrote.
        byte[] again = HandoffSerializer.Default.Serialize(package);
        Assert.Equal(1, JsonNode.Parse(again)!["schema_version"]!.GetValue<int>());
    }

    [Fact]
    public void V2Fixture_AlwaysLoads()
    {
        // Written once by schema version 2 and never regenerated: every later build must read it.
        HandoffPackage package = HandoffSerializer.Default.Deserialize(File.ReadAllBytes(Fixtures.PathOf("package-v2.json")), "package-v2.json");
        Assert.Equal(2, package.SchemaVersion);
        AgentState agent = Assert.Single(package.Agents);
        Assert.Equal(new AgentStateCheckpointRef { Store = "redis", Sequence = 17, StateSha256 = Digest, CreatedAt = package.CreatedAt }, agent.Checkpoint);
        Fixtures.AssertEveryFieldSet(package, absent: [.. Fixtures.AddedInVersion3, .. Fixtures.SummarySectionFields]);
    }

    [Theory]
    [InlineData("store", "", "checkpoint store")]
    [InlineData("state_sha256", "abc", "state_sha256")]
    [InlineData("sequence", -1, "sequence")]
    public void Deserialize_MalformedCheckpoint_IsRefused(string field, object value, string expected)
    {
        JsonObject node = JsonNode.Parse(HandoffSerializer.Default.Serialize(Fixtures.Full(Id)))!.AsObject();
        node["agents"]![0]!["checkpoint"]![field] = JsonValue.Create(value);

        var error = Assert.Throws<GhostieSyncException>(() => HandoffSerializer.Default.Deserialize(Encoding.UTF8.GetBytes(node.ToJsonString()), "p.json"));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains("planner", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreFetch_PointerPackage_ArrivesWithItsPointer()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffPackage package = Fixtures.WithoutVersion3(Fixtures.Full(Id));
        await repository.Device("laptop").StoreAsync(package);

        HandoffPackage fetched = await repository.Device("phone").FetchAsync(Id);
        Assert.Equal(2, fetched.SchemaVersion);
        Assert.Equal(package.Agents[0].Checkpoint, fetched.Agents[0].Checkpoint);
    }

    internal static HandoffPackage WithoutPointers(HandoffPackage package) =>
        package with { Agents = [.. package.Agents.Select(a => a with { Checkpoint = null })] };
}
