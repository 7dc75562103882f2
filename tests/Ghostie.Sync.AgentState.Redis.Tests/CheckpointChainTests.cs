using System.Text;
using Ghostie.Sync.AgentState.Redis.Tests.Support;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Handoff;
using Ghostie.Sync.Testing;
using StackExchange.Redis;

namespace Ghostie.Sync.AgentState.Redis.Tests;

// Inside Ghostie.Sync.*, the namespace Ghostie.Sync.AgentState would hide the type.
using AgentState = Ghostie.Sync.Handoff.AgentState;

public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class CheckpointChainTests : IClassFixture<RedisFixture>
{
    private readonly RedisServer _server;

    public CheckpointChainTests(RedisFixture fixture) => _server = fixture.Server;

    [Fact]
    public async Task Checkpoint_SnapshotThenDeltas_LoadRebuildsTheExactState()
    {
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, Agents.Options(_server));

        AgentCheckpoint first = await store.CheckpointAsync(Agents.State(messages: 3));
        AgentCheckpoint second = await store.CheckpointAsync(Agents.State(messages: 5));
        AgentState latest = Agents.State(messages: 6, variable: "2") with { Variables = new Dictionary<string, string> { ["step"] = "2", ["new"] = "yes" } };
        AgentCheckpoint third = await store.CheckpointAsync(latest);

        Assert.Equal((1, CheckpointKind.Snapshot), (first.Sequence, first.Kind));
        Assert.Equal((2, CheckpointKind.Delta), (second.Sequence, second.Kind));
        Assert.Equal((3, CheckpointKind.Delta), (third.Sequence, third.Kind));
        Assert.True(second.StoredBytes < first.StoredBytes / 2, $"a delta of two messages took {second.StoredBytes} bytes, the snapshot {first.StoredBytes}");

        // A new store (another process) rebuilds it from Redis alone.
        await using RedisAgentStateStore other = await Agents.StoreAsync(keys, Agents.Options(_server));
        AgentStateRecovery recovered = (await other.LoadLatestAsync("planner"))!;
        Assert.Equal(RecoveredFrom.Redis, recovered.Source);
        Assert.Equal(3, recovered.Checkpoint!.Sequence);
        Assert.Empty(recovered.Problems);
        Assert.Equal(Agents.Json(latest), Agents.Json(recovered.State));
        Assert.Equal(third.StateSha256, recovered.Checkpoint.StateSha256);
    }

    [Fact]
    public async Task Checkpoint_SameState_WritesNothing()
    {
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, Agents.Options(_server));
        AgentCheckpoint written = await store.CheckpointAsync(Agents.State());
        List<string> before = await Agents.KeysOfAsync(_server, store, "planner");

        AgentCheckpoint again = await store.CheckpointAsync(Agents.State());

        Assert.False(written.Unchanged);
        Assert.True(again.Unchanged);
        Assert.Equal(written.Sequence, again.Sequence);
        Assert.Equal(before.Order(), (await Agents.KeysOfAsync(_server, store, "planner")).Order());
    }

    [Fact]
    public async Task Checkpoint_AfterMaxDeltas_RebasesIntoASnapshot_AndDeletesTheOldChain()
    {
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        RedisAgentStateOptions options = Agents.Options(_server);
        options.MaxDeltas = 3;
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, options);

        var kinds = new List<CheckpointKind>();
        for (int i = 1; i <= 9; i++)
        {
            kinds.Add((await store.CheckpointAsync(Agents.State(messages: i))).Kind);
        }

        CheckpointKind s = CheckpointKind.Snapshot, d = CheckpointKind.Delta;
        Assert.Equal([s, d, d, d, s, d, d, d, s], kinds);
        // Head + the one snapshot of the new chain: the superseded snapshot and deltas were deleted with the head's move.
        Assert.Equal(2, (await Agents.KeysOfAsync(_server, store, "planner")).Count);
        Assert.Equal(Agents.Json(Agents.State(messages: 9)), Agents.Json((await store.LoadLatestAsync("planner"))!.State));
    }

    [Fact]
    public async Task Checkpoint_DeltasOutgrowingTheSnapshot_Rebase()
    {
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, Agents.Options(_server));
        await store.CheckpointAsync(Agents.State(messages: 1));

        // Replacing the prompt with a large one makes a delta larger than half the snapshot: a new snapshot instead.
        AgentCheckpoint big = await store.CheckpointAsync(Agents.State(messages: 1) with { SystemPrompt = new string('p', 20_000) });

        Assert.Equal(CheckpointKind.Snapshot, big.Kind);
        Assert.Equal(2, big.Sequence);
    }

    [Fact]
    public async Task Redis_HoldsOnlyCiphertext_UnderOneHashTagPerAgent()
    {
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, Agents.Options(_server));
        await store.CheckpointAsync(Agents.State("agent-with-a-telling-name", messages: 2));
        await store.CheckpointAsync(Agents.State("agent-with-a-telling-name", messages: 4));

        List<string> agentKeys = await Agents.KeysOfAsync(_server, store, "agent-with-a-telling-name");
        Assert.Equal(3, agentKeys.Count); // head, snapshot, delta
        Dictionary<string, byte[]> dump = await _server.DumpAsync();
        foreach (string key in agentKeys)
        {
            Assert.DoesNotContain("telling", key, StringComparison.Ordinal);
            Assert.StartsWith("ghostie:as:{", key, StringComparison.Ordinal);
            byte[] value = dump[key];
            string latin = Encoding.Latin1.GetString(value);
            Assert.DoesNotContain(Agents.Marker, latin, StringComparison.Ordinal);
            Assert.DoesNotContain("telling", latin, StringComparison.Ordinal);
            Assert.DoesNotContain("snapshot", latin, StringComparison.Ordinal);
            Assert.Equal(ObjectKind.Generic, ObjectCipher.ReadInfo(value, key).Kind); // the repository's envelope
        }

        // One hash slot for all of an agent's keys: its checkpoint script runs on one Redis Cluster node.
        Assert.Single(agentKeys.Select(k => ClusterSlot(k)).Distinct());
    }

    [Fact]
    public async Task Checkpoint_SetsTheTtl_AndEachCheckpointRenewsIt()
    {
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        RedisAgentStateOptions options = Agents.Options(_server);
        options.TimeToLive = TimeSpan.FromHours(2);
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, options);
        await store.CheckpointAsync(Agents.State(messages: 1));
        IDatabase admin = await _server.AdminAsync();
        string snapshotKey = (await Agents.KeysOfAsync(_server, store, "planner")).Single(k => !k.EndsWith(":h", StringComparison.Ordinal));
        await admin.KeyExpireAsync(snapshotKey, TimeSpan.FromMinutes(1)); // as if it were about to expire

        await store.CheckpointAsync(Agents.State(messages: 2));

        foreach (string key in await Agents.KeysOfAsync(_server, store, "planner"))
        {
            TimeSpan? ttl = await admin.KeyTimeToLiveAsync(key);
            Assert.NotNull(ttl);
            Assert.InRange(ttl.Value, TimeSpan.FromMinutes(119), TimeSpan.FromHours(2));
        }
    }

    [Fact]
    public async Task Checkpoints_Expire_AfterTheTtl()
    {
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        RedisAgentStateOptions options = Agents.Options(_server);
        options.TimeToLive = TimeSpan.FromSeconds(1);
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, options);
        await store.CheckpointAsync(Agents.State());
        Assert.NotNull(await store.LoadLatestAsync("planner"));

        await Task.Delay(1600);

        Assert.Null(await store.LoadLatestAsync("planner"));
        Assert.Empty(await Agents.KeysOfAsync(_server, store, "planner"));
    }

    [Fact]
    public async Task TornWrite_CrashBetweenObjectAndHead_RecoversThePreviousCheckpoint_AndTheNextWriteSucceeds()
    {
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        RedisAgentStateStore crashing = await Agents.StoreAsync(keys, Agents.Options(_server));
        await crashing.CheckpointAsync(Agents.State(messages: 2));
        crashing.BetweenSteps = (_, _) => throw new InvalidOperationException("process died between the two steps");

        await Assert.ThrowsAsync<InvalidOperationException>(() => crashing.CheckpointAsync(Agents.State(messages: 3)));
        await crashing.DisposeAsync();

        // The object of the torn write is in Redis (unreferenced, with its TTL); the head still names checkpoint 1.
        await using RedisAgentStateStore restarted = await Agents.StoreAsync(keys, Agents.Options(_server));
        Assert.Equal(3, (await Agents.KeysOfAsync(_server, restarted, "planner")).Count);
        AgentStateRecovery recovered = (await restarted.LoadLatestAsync("planner"))!;
        Assert.Equal(1, recovered.Checkpoint!.Sequence);
        Assert.Empty(recovered.Problems);
        Assert.Equal(Agents.Json(Agents.State(messages: 2)), Agents.Json(recovered.State));

        AgentCheckpoint next = await restarted.CheckpointAsync(Agents.State(messages: 4));
        Assert.Equal((2, CheckpointKind.Delta), (next.Sequence, next.Kind));
        Assert.Equal(Agents.Json(Agents.State(messages: 4)), Agents.Json((await restarted.LoadLatestAsync("planner"))!.State));
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("flipped")]
    [InlineData("deleted")]
    [InlineData("replaced")]
    public async Task TornDelta_InRedis_IsNeverApplied_RecoveryStopsBeforeIt(string damage)
    {
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, Agents.Options(_server));
        await store.CheckpointAsync(Agents.State(messages: 1));
        List<string> before = await Agents.KeysOfAsync(_server, store, "planner");
        await store.CheckpointAsync(Agents.State(messages: 2));
        List<string> withFirstDelta = await Agents.KeysOfAsync(_server, store, "planner");
        await store.CheckpointAsync(Agents.State(messages: 3));
        string firstDelta = withFirstDelta.Except(before).Single();
        string secondDelta = (await Agents.KeysOfAsync(_server, store, "planner")).Except(withFirstDelta).Single();

        IDatabase admin = await _server.AdminAsync();
        byte[] bytes = (byte[])(await admin.StringGetAsync(secondDelta))!;
        switch (damage)
        {
            case "truncated":
                await admin.StringSetAsync(secondDelta, bytes[..(bytes.Length / 2)], null, keepTtl: true);
                break;
            case "flipped":
                bytes[^5] ^= 1;
                await admin.StringSetAsync(secondDelta, bytes, null, keepTtl: true);
                break;
            case "deleted":
                await admin.KeyDeleteAsync(secondDelta);
                break;
            case "replaced": // the first delta's (authentic) bytes under the second's key
                await admin.StringSetAsync(secondDelta, (byte[])(await admin.StringGetAsync(firstDelta))!, null, keepTtl: true);
                break;
        }

        await using RedisAgentStateStore reader = await Agents.StoreAsync(keys, Agents.Options(_server));
        AgentStateRecovery recovered = (await reader.LoadLatestAsync("planner"))!;
        Assert.Equal(2, recovered.Checkpoint!.Sequence);
        Assert.Equal(3, recovered.HeadSequence);
        Assert.Contains("delta 3", Assert.Single(recovered.Problems), StringComparison.Ordinal);
        Assert.Equal(Agents.Json(Agents.State(messages: 2)), Agents.Json(recovered.State));

        // The next checkpoint does not build on the damaged chain: it re-bases into a snapshot, and the chain is whole again.
        AgentCheckpoint next = await reader.CheckpointAsync(Agents.State(messages: 5));
        Assert.Equal((4, CheckpointKind.Snapshot), (next.Sequence, next.Kind));
        AgentStateRecovery again = (await reader.LoadLatestAsync("planner"))!;
        Assert.Empty(again.Problems);
        Assert.Equal(Agents.Json(Agents.State(messages: 5)), Agents.Json(again.State));
    }

    [Fact]
    public async Task AnotherRepository_SeesNothing_AndCannotOpenCopiedCheckpoints()
    {
        using RepositoryKeys mine = await Agents.NewRepositoryAsync();
        using RepositoryKeys theirs = await Agents.NewRepositoryAsync();
        await using RedisAgentStateStore store = await Agents.StoreAsync(mine, Agents.Options(_server));
        await using RedisAgentStateStore other = await Agents.StoreAsync(theirs, Agents.Options(_server));
        await store.CheckpointAsync(Agents.State());
        Assert.NotEqual(store.HeadKeyOf("planner"), other.HeadKeyOf("planner"));
        Assert.Null(await other.LoadLatestAsync("planner"));

        IDatabase admin = await _server.AdminAsync();
        await admin.StringSetAsync(other.HeadKeyOf("planner"), (byte[])(await admin.StringGetAsync(store.HeadKeyOf("planner")))!);
        await Assert.ThrowsAsync<IntegrityException>(() => other.LoadLatestAsync("planner"));
    }

    [Fact]
    public async Task Resolve_HandoffPointer_ReturnsTheStateItNames_EvenAfterLaterCheckpoints()
    {
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        await using RedisAgentStateStore laptop = await Agents.StoreAsync(keys, Agents.Options(_server));
        AgentState atHandoff = Agents.State(messages: 4);
        AgentCheckpoint checkpoint = await laptop.CheckpointAsync(atHandoff);
        AgentState carried = checkpoint.ToHandoffAgent(atHandoff);
        await laptop.CheckpointAsync(Agents.State(messages: 7)); // the laptop's agent goes on after the handoff

        // What the package carries: the pointer and the agent's metadata, none of its prompts, messages or memories.
        Assert.Equal(checkpoint.Pointer, carried.Checkpoint);
        Assert.Equal(("", 0, 0), (carried.SystemPrompt, carried.ContextWindow.Messages.Count, carried.MemorySnapshot.Count));
        var package = new HandoffPackage
        {
            PackageId = "0123456789abcdef01234567", Source = new HandoffSource { DeviceId = "laptop" }, Conversation = new ConversationMetadata { Id = "c" },
            Context = new CompressedContext(), Reconstruction = new ReconstructionInstructions(), Agents = [carried],
        };
        HandoffPackage received = HandoffSerializer.Default.Deserialize(HandoffSerializer.Default.Serialize(package), "package");
        Assert.Equal(2, received.SchemaVersion);

        await using RedisAgentStateStore phone = await Agents.StoreAsync(keys, Agents.Options(_server));
        HandoffPackage resolved = await phone.ResolveAsync(received);
        Assert.Equal(Agents.Json(atHandoff), Agents.Json(Assert.Single(resolved.Agents)));
    }

    [Fact]
    public async Task Resolve_PointerRebasedAway_IsNotFound_UnlessNewerIsAllowed()
    {
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        RedisAgentStateOptions options = Agents.Options(_server);
        options.MaxDeltas = 1;
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, options);
        AgentCheckpoint old = await store.CheckpointAsync(Agents.State(messages: 1));
        await store.CheckpointAsync(Agents.State(messages: 2));
        await store.CheckpointAsync(Agents.State(messages: 3)); // a snapshot: checkpoint 1 is gone

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => store.ResolveAsync("planner", old.Pointer));
        Assert.Equal(GhostieErrorCode.NotFound, error.Code);
        Assert.Contains("re-based", error.Message, StringComparison.Ordinal);
        Assert.Contains("allowNewer", error.Message, StringComparison.Ordinal);

        AgentStateRecovery newer = await store.ResolveAsync("planner", old.Pointer, allowNewer: true);
        Assert.Equal(3, newer.Checkpoint!.Sequence);

        var wrongStore = await Assert.ThrowsAsync<GhostieSyncException>(() => store.ResolveAsync("planner", old.Pointer with { Store = "postgres" }));
        Assert.Equal(GhostieErrorCode.InvalidArgument, wrongStore.Code);
        var wrongDigest = await Assert.ThrowsAsync<IntegrityException>(() => store.ResolveAsync("planner", newer.Checkpoint.Pointer with { StateSha256 = new string('0', 64) }));
        Assert.Contains("differs from the pointer", wrongDigest.Message, StringComparison.Ordinal);
    }

    private static int ClusterSlot(string key)
    {
        // The Redis Cluster rule: CRC16 of the text between the first '{' and the next '}' (when not empty), mod 16384.
        int open = key.IndexOf('{', StringComparison.Ordinal);
        int close = key.IndexOf('}', open + 1);
        string hashed = open >= 0 && close > open + 1 ? key[(open + 1)..close] : key;
        return Crc16(Encoding.UTF8.GetBytes(hashed)) % 16384;
    }

    private static int Crc16(byte[] data)
    {
        int crc = 0;
        foreach (byte b in data)
        {
            crc ^= b << 8;
            for (int i = 0; i < 8; i++)
            {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
        }

        return crc & 0xFFFF;
    }
}
