using Ghostie.Sync.AgentState.Redis.Tests.Support;
using Ghostie.Sync.Backends.FileSystem;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.AgentState.Redis.Tests;

public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task AddRedisAgentState_OpensAStoreOverTheHomesRepository()
    {
        await using RedisServer server = await RedisServer.StartAsync();
        string folder = Agents.TempDirectory();
        string home = Path.Combine(folder, "home"), repo = Path.Combine(folder, "repo");
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = home)
            .AddFileSystemBackend(o => o.Path = repo)
            .AddRedisAgentState(o => { o.Configuration = server.Configuration; o.MaxDeltas = 4; })
            .AddRedisAgentState(); // safe twice: keeps the first call's settings
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        RedisAgentStateOptions options = provider.GetRequiredService<IOptions<RedisAgentStateOptions>>().Value;
        Assert.Equal((server.Configuration, 4), (options.Configuration, options.MaxDeltas));
        Assert.Equal(Path.Combine(Path.GetFullPath(home), "agent-state", "pending"), options.LocalPath);
        using (MemorySyncManager _ = await provider.GetRequiredService<GhostieSyncClient>().SetupAsync(
            new SyncConfiguration { DeviceId = "laptop", Settings = { ["path"] = repo } }, Agents.Passphrase))
        {
        }

        GhostieRedisAgentStateClient client = provider.GetRequiredService<GhostieRedisAgentStateClient>();
        await using (RedisAgentStateStore store = await client.OpenAsync())
        {
            await store.CheckpointAsync(Agents.State());
        }

        await using RedisAgentStateStore again = await client.OpenAsync();
        Assert.Equal(Agents.Json(Agents.State()), Agents.Json((await again.LoadLatestAsync("planner"))!.State));
        await using AgentStateCheckpointer checkpointer = client.CreateCheckpointer(again);
        Assert.Null(checkpointer.LastRun);
    }

    [Theory]
    [InlineData("MaxDeltas")]
    [InlineData("Configuration")]
    [InlineData("KeyPrefix")]
    [InlineData("CheckpointInterval")]
    public void AddRedisAgentState_InvalidOptions_FailAtStart_NamingThem(string field)
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = "/tmp/x").AddRedisAgentState(o =>
        {
            switch (field)
            {
                case "MaxDeltas": o.MaxDeltas = -1; break;
                case "Configuration": o.Configuration = " "; break;
                case "KeyPrefix": o.KeyPrefix = "a{b}"; break;
                default: o.CheckpointInterval = TimeSpan.Zero; break;
            }
        });
        using ServiceProvider provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_ConfigurationWithAPassword_NeverShowsIt()
    {
        using Crypto.RepositoryKeys keys = await Agents.NewRepositoryAsync();
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => RedisAgentStateStore.ConnectAsync(keys,
            new RedisAgentStateOptions { Configuration = "127.0.0.1:1,password=hunter2-secret,notanoption=1" }));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
    }
}
