using Ghostie.Sync.Backends.Postgres;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.LoadBench;
using Ghostie.Sync.Testing;
using Npgsql;

namespace Ghostie.Sync.Tests;

/// <summary>
/// The load benchmark (benchmarks/Ghostie.Sync.LoadBench) at a small fixed seed: a few hundred users, each its own
/// login role and repository with its own keys, pushed, pulled and checkpointed by concurrent clients over one
/// PostgreSQL and one Redis. Asserts correctness, never timing: every user's memories arrive, checkpoints load back,
/// and no user sees another's rows or repository.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LoadSimulationTests(PostgresFixture postgres) : IAsyncLifetime
{
    private RedisServer? _redis;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-load-test-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync("--appendfsync", "everysec");

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private LoadSetup Setup(LoadTenancy tenancy, string prefix) => new()
    {
        AdminConnectionStrings = [postgres.Server.AdminConnectionString()],
        RedisConfiguration = _redis!.Configuration,
        Root = Path.Combine(_root, prefix),
        Tenancy = tenancy,
        Seed = 7,
        InitialMemories = 3,
        Prefix = prefix,
        Database = "load_" + prefix,
        SetupParallelism = 8, // the fixture's server allows 200 connections; each user is its own login and pool
    };

    [Fact]
    public async Task FixedSeed_300Users_24Clients_EveryMemoryArrives_NoCrossTenantLeakage()
    {
        await using LoadWorld world = await LoadWorld.CreateAsync(Setup(LoadTenancy.RolePerUser, "lt"));
        SetupReport setup = await world.AddUsersAsync(300);
        Assert.Equal(300, setup.Users);
        Assert.Equal(300, world.Users.Count);

        PointResult result = await world.RunAsync(new LoadPoint { Users = 300, Concurrency = 24, Sessions = 600 });
        Assert.Equal(600, result.Sessions);
        Assert.Empty(result.Errors);
        Assert.Equal(600, result.Push.Count);
        Assert.Equal(600, result.Pull.Count);
        Assert.Equal(600, result.Checkpoint.Count);
        Assert.True(result.PeakConnections > 1, "clients should have run at once");
        // 600 sessions over 300 users at a fixed seed: some users had several sessions, so pulls met earlier pushes.
        Assert.Contains(world.Users, u => u.WrittenIds.Count >= 3 + 3);

        VerifyReport verify = await world.VerifyAsync(300);
        Assert.Equal(300, verify.UsersChecked);
        Assert.Empty(verify.Problems);

        // Independently of the benchmark's own check: a fresh device of each of 40 users (its own backend, keys
        // unlocked from the database by passphrase) pulls exactly that user's memories and nothing else.
        var random = new Random(7);
        foreach (SimUser user in world.Users.OrderBy(_ => random.Next()).Take(40))
        {
            await using var backend = new PostgresBackend(new PostgresBackendOptions { ConnectionString = user.ConnectionString, Repository = user.Repository });
            using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, user.Passphrase);
            using MemorySyncManager fresh = MemorySyncManager.Create(backend, keys,
                new GhostieSyncOptions { Home = Path.Combine(_root, "verify", user.Repository) }, "verifier");
            new GhostieHome(fresh.Home.Root).EnsureCreated();
            SyncResult pulled = await fresh.PullAsync();
            Assert.True(pulled.Success, string.Join("; ", pulled.Problems.Select(p => p.Message)));
            List<MemoryRecord> memories = [.. fresh.Memories.Scan().Select(f => f.Record!)];
            Assert.Equal(user.WrittenIds.Order(StringComparer.Ordinal), memories.Select(m => m.Id).Order(StringComparer.Ordinal));
            Assert.All(memories, m => Assert.Contains(user.Marker, m.Content, StringComparison.Ordinal));
        }

        // Another user's repository cannot even be opened, and plain SQL under a user's login sees none of the other
        // 299 users' rows, although the database holds them.
        SimUser a = world.Users[0];
        SimUser b = world.Users[1];
        await using (var intruder = new PostgresBackend(new PostgresBackendOptions { ConnectionString = a.ConnectionString, Repository = b.Repository }))
        {
            GhostieSyncException denied = await Assert.ThrowsAsync<GhostieSyncException>(() => intruder.InitializeAsync());
            Assert.Equal(GhostieErrorCode.AccessDenied, denied.Code);
        }

        IsolationReport isolation = await world.CheckIsolationAsync(sampleUsers: 20);
        Assert.Equal(20, isolation.UsersChecked);
        Assert.Equal(0, isolation.ForeignRowsVisible);
        Assert.True(isolation.RowsInDatabase > isolation.OwnRowsVisible, "the other users' rows must exist for the check to mean anything");
        await using var connection = new NpgsqlConnection(a.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM ghostie.objects WHERE repository <> @r", connection);
        count.Parameters.AddWithValue("r", a.Repository);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task OpenLoop_SessionsDueFasterThanTheyRun_LatencyCountsFromTheScheduledStart()
    {
        // 10 devices, each due to sync every 20 ms for 0.4 s: far faster than a push, pull and checkpoint can run, so
        // the sessions queue behind each other. The open loop must still run every one it scheduled, one at a time per
        // client, never before it was due, and report each latency from when it was due, not from when it started
        // (else the queue would vanish from the numbers: coordinated omission).
        await using LoadWorld world = await LoadWorld.CreateAsync(Setup(LoadTenancy.RolePerUser, "lo"));
        await world.AddUsersAsync(10);
        OpenPointResult result = await world.RunOpenAsync(new OpenLoadPoint
        {
            Clients = 10,
            Interval = TimeSpan.FromMilliseconds(20),
            Jitter = 0.1,
            Warmup = TimeSpan.FromMilliseconds(100),
            Duration = TimeSpan.FromMilliseconds(300),
            DrainLimit = TimeSpan.FromSeconds(120),
            KeepLog = true,
        });

        Assert.Empty(result.Errors);
        Assert.Equal(0, result.Unfinished);
        Assert.InRange(result.Scheduled, 120, 180); // 10 clients x 300 ms / (20 ms +- 10%)
        OpenSessionRecord[] recorded = [.. result.Log.Where(r => r.Recorded)];
        Assert.Equal(result.Scheduled, recorded.Length);
        Assert.All(result.Log, r => Assert.True(r.StartedMs >= r.DueMs && r.EndedMs > r.StartedMs, $"client {r.Client}: due {r.DueMs}, started {r.StartedMs}, ended {r.EndedMs}"));
        foreach (IGrouping<int, OpenSessionRecord> client in result.Log.GroupBy(r => r.Client))
        {
            OpenSessionRecord[] ordered = [.. client.OrderBy(r => r.DueMs)];
            for (int i = 1; i < ordered.Length; i++)
            {
                Assert.True(ordered[i].StartedMs >= ordered[i - 1].EndedMs, $"client {client.Key} ran two sessions at once");
            }
        }

        // The reported latencies are end minus due, and the queue is in them: the later sessions started long after
        // they were due, so the session latency far exceeds the time the session itself took.
        double[] fromDue = [.. recorded.Select(r => r.EndedMs!.Value - r.DueMs).Order()];
        Assert.Equal(fromDue[^1], result.Session.Max, 3);
        Assert.Equal(fromDue.Average(), result.Session.Mean, 3);
        Assert.True(result.StartDelay.Max > 10 * 20, $"the queue must show: start delay max {result.StartDelay.Max} ms");
        Assert.True(result.Session.Mean > result.Push.Mean + result.Pull.Mean + result.Checkpoint.Mean + result.StartDelay.Mean - 1);
        Assert.True(result.OfferedPerSecond > result.AchievedPerSecond, "sessions due every 20 ms per device cannot all run");

        VerifyReport verify = await world.VerifyAsync(10);
        Assert.Empty(verify.Problems);
        Assert.All(world.Users, u => Assert.True(u.WrittenIds.Count > 3 + 10, $"{u.Repository} synced {u.WrittenIds.Count - 3} times"));
    }

    [Fact]
    public async Task SharedRoleMode_IsolationCheck_SeesTheOtherUsersRows()
    {
        // The comparison mode (one login for every repository, as a trusted service would connect) syncs correctly
        // but the database no longer separates the users: the isolation check must report it.
        await using LoadWorld world = await LoadWorld.CreateAsync(Setup(LoadTenancy.SharedRole, "ls"));
        await world.AddUsersAsync(30);
        PointResult result = await world.RunAsync(new LoadPoint { Users = 30, Concurrency = 8, Sessions = 60 });
        Assert.Empty(result.Errors);
        Assert.Empty((await world.VerifyAsync(30)).Problems);
        IsolationReport isolation = await world.CheckIsolationAsync(sampleUsers: 5);
        Assert.True(isolation.ForeignRowsVisible > 0);
    }
}
