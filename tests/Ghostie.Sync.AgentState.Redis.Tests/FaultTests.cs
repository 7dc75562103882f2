using Ghostie.Sync.AgentState.Redis.Tests.Support;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Testing;
using StackExchange.Redis;

namespace Ghostie.Sync.AgentState.Redis.Tests;

// Inside Ghostie.Sync.*, the namespace Ghostie.Sync.AgentState would hide the type.
using AgentState = Ghostie.Sync.Handoff.AgentState;

/// <summary>Each fault against its own real redis-server: a typed error, nothing lost, checkpoints recoverable after.</summary>
public sealed class FaultTests
{
    private const string Password = "s3cret-Redis-pass";

    [Fact]
    public async Task WrongPassword_TypedAuthenticationError_StateKeptLocally_WrittenWithTheRightOne()
    {
        await using RedisServer server = await RedisServer.StartAsync("--requirepass", Password);
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        string local = Agents.TempDirectory();

        await using (RedisAgentStateStore wrong = await Agents.StoreAsync(keys, Agents.Options(server, local, password: "not-the-password")))
        {
            var error = await Assert.ThrowsAsync<AgentStateStoreException>(() => wrong.CheckpointAsync(Agents.State()));
            Assert.Equal(AgentStateFailure.AuthenticationFailed, error.Failure);
            Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
            Assert.False(error.IsTransient);
            Assert.True(error.KeptLocally);
            Assert.Contains($"127.0.0.1:{server.Port}", error.Message, StringComparison.Ordinal);
            Assert.Contains("password", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("not-the-password", error.ToString(), StringComparison.Ordinal);
            Assert.Equal(["planner"], wrong.PendingAgents());
        }

        await using RedisAgentStateStore right = await Agents.StoreAsync(keys, Agents.Options(server, local, password: Password));
        Assert.Equal(RecoveredFrom.LocalPending, (await right.LoadLatestAsync("planner"))!.Source);
        Assert.Equal(1, await right.FlushPendingAsync());
        Assert.Empty(right.PendingAgents());
        AgentStateRecovery recovered = (await right.LoadLatestAsync("planner"))!;
        Assert.Equal(RecoveredFrom.Redis, recovered.Source);
        Assert.Equal(Agents.Json(Agents.State()), Agents.Json(recovered.State));
    }

    [Fact]
    public async Task NewerCheckpoint_AfterRedisReturns_SupersedesTheKeptState()
    {
        await using RedisServer server = await RedisServer.StartAsync();
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        string local = Agents.TempDirectory();
        await using (RedisAgentStateStore crashed = await Agents.StoreAsync(keys, Agents.Options(server, local)))
        {
            await crashed.CheckpointAsync(Agents.State(messages: 1));
            await server.KillAsync();
            Assert.True((await Assert.ThrowsAsync<AgentStateStoreException>(() => crashed.CheckpointAsync(Agents.State(messages: 2)))).KeptLocally);
        }

        // The process restarts after Redis is back, and its agent checkpoints a newer state before any flush.
        await server.RestartAsync();
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, Agents.Options(server, local));
        AgentCheckpoint newer = await store.CheckpointAsync(Agents.State(messages: 3));

        // The kept state is older than the one just written: it must never be written over it.
        Assert.Empty(store.PendingAgents());
        Assert.Equal(0, await store.FlushPendingAsync());
        AgentStateRecovery recovered = (await store.LoadLatestAsync("planner"))!;
        Assert.Equal(newer.Sequence, recovered.Checkpoint!.Sequence);
        Assert.Equal(Agents.Json(Agents.State(messages: 3)), Agents.Json(recovered.State));
    }

    [Fact]
    public async Task NoPassword_ServerRequiresOne_TypedAuthenticationError()
    {
        await using RedisServer server = await RedisServer.StartAsync("--requirepass", Password);
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, Agents.Options(server));

        var error = await Assert.ThrowsAsync<AgentStateStoreException>(() => store.CheckpointAsync(Agents.State()));
        Assert.Equal(AgentStateFailure.AuthenticationFailed, error.Failure);
        Assert.True(error.KeptLocally);
        Assert.Null(error.LocalPath); // no LocalPath: kept in memory
        var read = await Assert.ThrowsAsync<AgentStateStoreException>(() => store.DeleteAsync("planner"));
        Assert.Equal(AgentStateFailure.AuthenticationFailed, read.Failure);
    }

    [Fact]
    public async Task ServerKilledMidWrite_TypedUnavailable_NothingLost_AndAllRecoverableAfterRestart()
    {
        await using RedisServer server = await RedisServer.StartAsync();
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        string local = Agents.TempDirectory();
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, Agents.Options(server, local));
        await store.CheckpointAsync(Agents.State(messages: 1));
        await store.CheckpointAsync(Agents.State(messages: 2));
        store.BetweenSteps = async (_, _) => await server.KillAsync(); // the object is written, the server dies before the head moves

        var error = await Assert.ThrowsAsync<AgentStateStoreException>(() => store.CheckpointAsync(Agents.State(messages: 3)));
        store.BetweenSteps = null;
        Assert.Equal(AgentStateFailure.Unavailable, error.Failure);
        Assert.True(error.IsTransient);
        Assert.True(error.KeptLocally);
        Assert.NotNull(error.LocalPath);
        Assert.True(File.Exists(error.LocalPath));
        Assert.Contains("went away", error.Message, StringComparison.Ordinal);
        Assert.Contains(error.LocalPath!, error.Message, StringComparison.Ordinal);

        // Work goes on while Redis is down: later states replace the kept one, and reading gives the newest.
        var down = await Assert.ThrowsAsync<AgentStateStoreException>(() => store.CheckpointAsync(Agents.State(messages: 4)));
        Assert.True(down.KeptLocally);
        Assert.Equal(Agents.Json(Agents.State(messages: 4)), Agents.Json((await store.LoadLatestAsync("planner"))!.State));

        // A new process after the crash sees what was acknowledged (append-only file) and what is kept on the device.
        await server.RestartAsync();
        await using RedisAgentStateStore after = await Agents.StoreAsync(keys, Agents.Options(server, local));
        Assert.Equal(1, await after.FlushPendingAsync());
        AgentStateRecovery recovered = (await after.LoadLatestAsync("planner"))!;
        Assert.Equal(RecoveredFrom.Redis, recovered.Source);
        Assert.Empty(recovered.Problems);
        Assert.Equal(3, recovered.Checkpoint!.Sequence);
        Assert.Equal(Agents.Json(Agents.State(messages: 4)), Agents.Json(recovered.State));
        Assert.False(File.Exists(error.LocalPath));
    }

    [Fact]
    public async Task ClientKilledMidWrite_TypedUnavailable_WrittenWhenTheConnectionReturns()
    {
        await using RedisServer server = await RedisServer.StartAsync();
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, Agents.Options(server, Agents.TempDirectory()));
        await store.CheckpointAsync(Agents.State(messages: 1));
        IServer admin = await server.AdminServerAsync();
        Task killing = Task.CompletedTask;
        store.BetweenSteps = (_, _) =>
        {
            // Hold writes so the head's script is in flight when the connection is killed (an idle connection that is
            // killed only reconnects), then kill every client but the admin one, then let writes go again.
            killing = Task.Run(async () =>
            {
                await Task.Delay(300);
                await admin.ExecuteAsync("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
                await admin.ExecuteAsync("CLIENT", "UNPAUSE");
            });
            return admin.ExecuteAsync("CLIENT", "PAUSE", "5000", "WRITE");
        };

        var error = await Assert.ThrowsAsync<AgentStateStoreException>(() => store.CheckpointAsync(Agents.State(messages: 2)));
        store.BetweenSteps = null;
        await killing;
        Assert.Equal(AgentStateFailure.Unavailable, error.Failure);
        Assert.True(error.KeptLocally);
        AgentStateRecovery meanwhile = (await store.LoadLatestAsync("planner"))!;
        Assert.Equal(RecoveredFrom.LocalPending, meanwhile.Source); // the newest state, from the device, while it waits
        Assert.Equal(Agents.Json(Agents.State(messages: 2)), Agents.Json(meanwhile.State));

        // The store reconnects by itself; the kept state goes out on the next flush (or when the connection is restored).
        await WaitUntilAsync(async () => store.PendingAgents().Count == 0 || await TryFlushAsync(store));
        AgentStateRecovery recovered = await ReadWithRetryAsync(store);
        Assert.Equal(RecoveredFrom.Redis, recovered.Source);
        Assert.Equal(Agents.Json(Agents.State(messages: 2)), Agents.Json(recovered.State));
        Assert.Empty(recovered.Problems);
    }

    [Fact]
    public async Task ServerStalls_DebugSleep_TypedUnavailable_NothingLost()
    {
        await using RedisServer server = await RedisServer.StartAsync();
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        RedisAgentStateOptions options = Agents.Options(server, Agents.TempDirectory());
        options.OperationTimeout = TimeSpan.FromMilliseconds(500);
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, options);
        await store.CheckpointAsync(Agents.State(messages: 1));
        IServer admin = await server.AdminServerAsync();
        Task sleeping = Task.CompletedTask;
        store.BetweenSteps = (_, _) =>
        {
            sleeping = admin.ExecuteAsync("DEBUG", "SLEEP", "2");
            return Task.Delay(100);
        };

        var error = await Assert.ThrowsAsync<AgentStateStoreException>(() => store.CheckpointAsync(Agents.State(messages: 2)));
        store.BetweenSteps = null;
        Assert.Equal(AgentStateFailure.Unavailable, error.Failure);
        Assert.True(error.KeptLocally);
        await sleeping;

        // The head may or may not have moved once the server woke up; either way the flush leaves Redis with the state.
        await WaitUntilAsync(() => TryFlushAsync(store));
        AgentStateRecovery recovered = await ReadWithRetryAsync(store);
        Assert.Equal(RecoveredFrom.Redis, recovered.Source);
        Assert.Equal(Agents.Json(Agents.State(messages: 2)), Agents.Json(recovered.State));
        Assert.Empty(store.PendingAgents());
    }

    [Fact]
    public async Task FullServer_Oom_TypedServerFull_EarlierCheckpointsReadable_WrittenOnceThereIsRoom()
    {
        await using RedisServer server = await RedisServer.StartAsync("--maxmemory-policy", "noeviction");
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, Agents.Options(server, Agents.TempDirectory()));
        await store.CheckpointAsync(Agents.State(messages: 1));

        // Fill the server up to a limit just above what it uses now, until it refuses writes; then keep it over the limit
        // (a refused command frees its own buffer, which could let a small write slip under the limit again).
        IDatabase admin = await server.AdminAsync();
        IServer adminServer = await server.AdminServerAsync();
        await adminServer.ConfigSetAsync("maxmemory", (await UsedMemoryAsync(adminServer) + 256 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        int filled = 0;
        try
        {
            for (; filled < 10_000; filled++)
            {
                await admin.StringSetAsync("filler:" + filled, new byte[1024]);
            }
        }
        catch (RedisServerException e) when (e.Message.StartsWith("OOM", StringComparison.Ordinal))
        {
        }

        Assert.InRange(filled, 1, 9_999);
        await adminServer.ConfigSetAsync("maxmemory", (await UsedMemoryAsync(adminServer) - 128 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var error = await Assert.ThrowsAsync<AgentStateStoreException>(() => store.CheckpointAsync(Agents.State(messages: 2)));
        Assert.Equal(AgentStateFailure.ServerFull, error.Failure);
        Assert.True(error.KeptLocally);
        Assert.Contains("maxmemory", error.Message, StringComparison.Ordinal);
        Assert.Contains("noeviction", error.Message, StringComparison.Ordinal);

        // Reads still work on a full server; the kept state is what the agent has now.
        await using (RedisAgentStateStore reader = await Agents.StoreAsync(keys, Agents.Options(server)))
        {
            Assert.Equal(Agents.Json(Agents.State(messages: 1)), Agents.Json((await reader.LoadLatestAsync("planner"))!.State));
        }

        await Assert.ThrowsAsync<AgentStateStoreException>(() => store.FlushPendingAsync());
        await adminServer.ConfigSetAsync("maxmemory", "0");
        Assert.Equal(1, await store.FlushPendingAsync());
        await using RedisAgentStateStore fresh = await Agents.StoreAsync(keys, Agents.Options(server));
        AgentStateRecovery recovered = (await fresh.LoadLatestAsync("planner"))!;
        Assert.Equal(2, recovered.Checkpoint!.Sequence);
        Assert.Equal(Agents.Json(Agents.State(messages: 2)), Agents.Json(recovered.State));
    }

    private static async Task<T> RetryAsync<T>(Func<Task<T>> action)
    {
        for (int i = 0; ; i++)
        {
            try
            {
                return await action();
            }
            catch (AgentStateStoreException) when (i < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task<long> UsedMemoryAsync(IServer server) =>
        long.Parse((await server.InfoAsync("memory")).SelectMany(g => g).First(p => p.Key == "used_memory").Value, System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<bool> TryFlushAsync(RedisAgentStateStore store)
    {
        try
        {
            await store.FlushPendingAsync();
            return store.PendingAgents().Count == 0;
        }
        catch (AgentStateStoreException)
        {
            return false;
        }
    }

    private static async Task<AgentStateRecovery> ReadWithRetryAsync(RedisAgentStateStore store)
    {
        for (int i = 0; ; i++)
        {
            try
            {
                return (await store.LoadLatestAsync("planner"))!;
            }
            catch (AgentStateStoreException) when (i < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (int i = 0; i < 100; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("the condition did not become true within 10 s");
    }
}
