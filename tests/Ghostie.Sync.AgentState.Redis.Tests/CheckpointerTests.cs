using Ghostie.Sync.AgentState.Redis.Tests.Support;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.AgentState.Redis.Tests;

// Inside Ghostie.Sync.*, the namespace Ghostie.Sync.AgentState would hide the type.
using AgentState = Ghostie.Sync.Handoff.AgentState;

public sealed class CheckpointerTests
{
    [Fact]
    public async Task Schedule_EveryFiveMinutesByDefault_WritesOnlyWhatChanged()
    {
        await using RedisServer server = await RedisServer.StartAsync();
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-06T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        RedisAgentStateOptions options = Agents.Options(server);
        options.TimeProvider = time;
        Assert.Equal(TimeSpan.FromMinutes(5), options.CheckpointInterval);
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, options);
        await using var checkpointer = new AgentStateCheckpointer(store, options);
        int messages = 1;
        checkpointer.Track("planner", _ => ValueTask.FromResult(Agents.State(messages: messages)));
        checkpointer.Start();

        time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.Null(checkpointer.CurrentRun);
        Assert.Null(await store.LoadLatestAsync("planner"));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(new CheckpointRun(Written: 1, Unchanged: 0, KeptLocally: 0, Flushed: 0, Failed: 0), await checkpointer.CurrentRun!);
        AgentStateRecovery first = (await store.LoadLatestAsync("planner"))!;
        Assert.Equal(time.GetUtcNow(), first.Checkpoint!.CreatedAt);

        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(new CheckpointRun(0, 1, 0, 0, 0), await checkpointer.CurrentRun!);

        messages = 2;
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(new CheckpointRun(1, 0, 0, 0, 0), await checkpointer.CurrentRun!);
        Assert.Equal(Agents.Json(Agents.State(messages: 2)), Agents.Json((await store.LoadLatestAsync("planner"))!.State));
        Assert.Equal(2, (await store.LoadLatestAsync("planner"))!.Checkpoint!.Sequence);
    }

    [Fact]
    public async Task RedisDown_WorkGoesOn_KeptLocally_WrittenAtTheFirstRunAfterItReturns()
    {
        await using RedisServer server = await RedisServer.StartAsync();
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        var time = new FakeTimeProvider();
        RedisAgentStateOptions options = Agents.Options(server, Agents.TempDirectory());
        options.TimeProvider = time;
        options.CheckpointInterval = TimeSpan.FromMinutes(1);
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, options);
        await using var checkpointer = new AgentStateCheckpointer(store, options);
        int messages = 1;
        checkpointer.Track("planner", _ => ValueTask.FromResult(Agents.State(messages: messages)));
        checkpointer.Track("coder", _ => ValueTask.FromResult(Agents.State("coder", messages: messages)));
        checkpointer.Start();
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(new CheckpointRun(2, 0, 0, 0, 0), await checkpointer.CurrentRun!);

        await server.KillAsync();
        messages = 2;
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(new CheckpointRun(0, 0, 2, 0, 0), await checkpointer.CurrentRun!); // no exception out of the timer
        messages = 3;
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(new CheckpointRun(0, 0, 2, 0, 0), await checkpointer.CurrentRun!);
        Assert.Equal(["coder", "planner"], store.PendingAgents().Order());

        await server.RestartAsync();
        await WaitForConnectionAsync(store);
        messages = 4;
        time.Advance(TimeSpan.FromMinutes(1));
        CheckpointRun back = await checkpointer.CurrentRun!;
        Assert.Equal(0, back.KeptLocally);
        Assert.Equal(2, back.Written + back.Flushed); // kept states out first (unless a reconnect flush beat the run), then the new ones
        Assert.Empty(store.PendingAgents());
        foreach (string agent in (string[])["planner", "coder"])
        {
            AgentStateRecovery recovered = (await store.LoadLatestAsync(agent))!;
            Assert.Equal(RecoveredFrom.Redis, recovered.Source);
            Assert.Equal(Agents.Json(Agents.State(agent, messages: 4)), Agents.Json(recovered.State));
        }
    }

    [Fact]
    public async Task Capture_ReturningAnotherAgent_CountsAsFailed_AndOthersStillRun()
    {
        await using RedisServer server = await RedisServer.StartAsync();
        using RepositoryKeys keys = await Agents.NewRepositoryAsync();
        RedisAgentStateOptions options = Agents.Options(server);
        await using RedisAgentStateStore store = await Agents.StoreAsync(keys, options);
        await using var checkpointer = new AgentStateCheckpointer(store, options);
        checkpointer.Track("planner", _ => ValueTask.FromResult(Agents.State("someone-else")));
        checkpointer.Track("coder", _ => ValueTask.FromResult(Agents.State("coder")));

        Assert.Equal(new CheckpointRun(1, 0, 0, 0, 1), await checkpointer.RunOnceAsync());
        Assert.Null(await store.LoadLatestAsync("someone-else"));
        Assert.NotNull(await store.LoadLatestAsync("coder"));
    }

    private static async Task WaitForConnectionAsync(RedisAgentStateStore store)
    {
        for (int i = 0; i < 100; i++)
        {
            try
            {
                await store.LoadLatestAsync("nobody");
                return;
            }
            catch (AgentStateStoreException)
            {
                await Task.Delay(100);
            }
        }
    }
}
