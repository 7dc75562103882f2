// The load simulation of benchmarks/Ghostie.Sync.LoadBench (docs/performance.md, "Load: many users on one PostgreSQL
// and one Redis"). Also compiled into tests/Ghostie.Sync.Backends.Postgres.Tests (LoadSimulationTests), which runs it
// small at a fixed seed and asserts correctness only.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ghostie.Sync.AgentState.Redis;
using Ghostie.Sync.Backends.Postgres;
using Ghostie.Sync.Crypto;
using Npgsql;
using StackExchange.Redis;
using HandoffAgentState = Ghostie.Sync.Handoff.AgentState;

namespace Ghostie.Sync.LoadBench;

/// <summary>How the simulated users reach PostgreSQL.</summary>
public enum LoadTenancy
{
    /// <summary>Each user is its own login role (the backend's tenancy model: row-level security on session_user).</summary>
    RolePerUser,

    /// <summary>One login role owns every repository (a trusted service connecting for its users): the database does not
    /// separate the users, only the application and the encryption do. For comparison only.</summary>
    SharedRole,
}

/// <summary>The fixed parameters of a simulation.</summary>
public sealed record LoadSetup
{
    /// <summary>Superuser connection strings (database "postgres"), one per PostgreSQL server; repositories are split
    /// over them by a hash of the repository name.</summary>
    public required IReadOnlyList<string> AdminConnectionStrings { get; init; }

    /// <summary>The StackExchange.Redis configuration of the one Redis.</summary>
    public required string RedisConfiguration { get; init; }

    /// <summary>A folder for the devices' homes (deleted on dispose).</summary>
    public required string Root { get; init; }

    /// <summary>Role per user (default) or one shared role.</summary>
    public LoadTenancy Tenancy { get; init; } = LoadTenancy.RolePerUser;

    /// <summary>Seeds the users' choice, content and passwords.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Memories each user pushes during setup.</summary>
    public int InitialMemories { get; init; } = 5;

    /// <summary>Prefix of role and repository names (so several runs can share a server).</summary>
    public string Prefix { get; init; } = "u";

    /// <summary>The database created on every server.</summary>
    public string Database { get; init; } = "ghostie_load";

    /// <summary>Users set up at once.</summary>
    public int SetupParallelism { get; init; } = 16;

    /// <summary>Npgsql Max Pool Size of each user's backend (each user is its own client with its own pool).</summary>
    public int MaxPoolSizePerUser { get; init; } = 2;

    /// <summary>Npgsql Connection Idle Lifetime (seconds): an idle user's connection closes after this.</summary>
    public int ConnectionIdleLifetimeSeconds { get; init; } = 2;
}

/// <summary>One simulated user: a repository with its own keys, two devices (a writer and a reader) and an agent whose
/// state is checkpointed to Redis.</summary>
public sealed class SimUser
{
    internal SimUser(int index, string repository, int shard, string connectionString, string passphrase)
    {
        Index = index;
        Repository = repository;
        Shard = shard;
        ConnectionString = connectionString;
        Passphrase = passphrase;
    }

    /// <summary>0-based position.</summary>
    public int Index { get; }

    /// <summary>The repository name (also the login role in <see cref="LoadTenancy.RolePerUser"/>).</summary>
    public string Repository { get; }

    /// <summary>The server holding the repository.</summary>
    public int Shard { get; }

    /// <summary>The user's connection string (its own login, or the shared one).</summary>
    public string ConnectionString { get; }

    /// <summary>The repository passphrase.</summary>
    public string Passphrase { get; }

    /// <summary>Text in every memory of this user and no other's.</summary>
    public string Marker => $"[owner {Repository}]";

    /// <summary>Every memory id the writer saved.</summary>
    public List<string> WrittenIds { get; } = [];

    /// <summary>The step of the latest checkpoint written.</summary>
    public long LastStep { get; internal set; }

    internal PostgresBackend Backend { get; set; } = null!;
    internal RepositoryKeys Keys { get; set; } = null!;
    internal MemorySyncManager Writer { get; set; } = null!;
    internal MemorySyncManager Reader { get; set; } = null!;
    internal RedisAgentStateStore States { get; set; } = null!;
    internal SemaphoreSlim Gate { get; } = new(1, 1);
}

/// <summary>What growing the user count cost.</summary>
public sealed record SetupReport(int Users, int Added, double RolesSeconds, double UsersSeconds, double PerUserMilliseconds);

/// <summary>One point of the capacity curve.</summary>
public sealed record LoadPoint
{
    /// <summary>Users taking part (the first this many).</summary>
    public required int Users { get; init; }

    /// <summary>Clients running sessions at once; at most <see cref="Users"/> (one session per user at a time).</summary>
    public required int Concurrency { get; init; }

    /// <summary>Run exactly this many sessions (tests), or ...</summary>
    public int? Sessions { get; init; }

    /// <summary>... run for this long after the warm-up (benchmark).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Sessions ending before this are not recorded when <see cref="Sessions"/> is null (closed loop); in the
    /// open loop, sessions scheduled before this are not recorded.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>How an open-loop client spaces its sessions.</summary>
public enum LoadArrivals
{
    /// <summary>The interval times a uniform factor in [1 - jitter, 1 + jitter] (a timer with jitter, as background sync).</summary>
    Uniform,

    /// <summary>Exponential gaps with the interval as their mean (a Poisson process per client).</summary>
    Poisson,
}

/// <summary>One open-loop point: <see cref="Clients"/> devices (client i serves user i), each starting a session at its
/// own cadence, whether or not the machine keeps up. Latency is measured from the scheduled start, so a session that
/// starts late (the previous one of that client still running, or the machine saturated) counts its delay.</summary>
public sealed record OpenLoadPoint
{
    /// <summary>Clients, each one user (the first this many users); at most the users set up.</summary>
    public required int Clients { get; init; }

    /// <summary>Mean time between the scheduled starts of one client's sessions.</summary>
    public required TimeSpan Interval { get; init; }

    /// <summary>Uniform jitter (default) or Poisson arrivals.</summary>
    public LoadArrivals Arrivals { get; init; } = LoadArrivals.Uniform;

    /// <summary>Uniform jitter as a fraction of the interval (default 0.1: 0.9 to 1.1 intervals).</summary>
    public double Jitter { get; init; } = 0.1;

    /// <summary>Sessions scheduled before this are run but not recorded (default: one interval, so that every client has
    /// synced once and its connection is as warm as its idle lifetime lets it be).</summary>
    public TimeSpan? Warmup { get; init; }

    /// <summary>Sessions scheduled in [warm-up, warm-up + duration) are recorded.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>After the window, how long sessions scheduled inside it may take to finish; those that have not by then
    /// are counted as unfinished, with their wait so far as their (lower-bound) latency.</summary>
    public TimeSpan DrainLimit { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Keep a record of every session (tests check the accounting against it).</summary>
    public bool KeepLog { get; init; }

    /// <summary>The effective warm-up.</summary>
    public TimeSpan EffectiveWarmup => Warmup ?? Interval;
}

/// <summary>The measurements of one open-loop point (latencies in milliseconds; session and start delay from the
/// scheduled start).</summary>
public sealed record OpenPointResult(
    int Clients,
    double IntervalSeconds,
    int Scheduled,
    int Completed,
    int EndedInWindow,
    int Unfinished,
    double Seconds,
    double AchievedPerSecond,
    LatencyStats Push,
    LatencyStats Pull,
    LatencyStats Checkpoint,
    LatencyStats Session,
    LatencyStats StartDelay,
    int ErrorCount,
    IReadOnlyList<string> Errors,
    int PeakConnections,
    long ConnectionsOpened,
    int SessionsRun,
    ServerFootprint? Footprint,
    CpuReport? Cpu)
{
    /// <summary>Every session, when <see cref="OpenLoadPoint.KeepLog"/> was set (else empty).</summary>
    public IReadOnlyList<OpenSessionRecord> Log { get; init; } = [];

    /// <summary>Sessions scheduled a second inside the window (about clients / mean interval).</summary>
    public double OfferedPerSecond => Seconds > 0 ? Scheduled / Seconds : 0;

    /// <summary>Connections the server accepted per session (every session of the point, warm-up included).</summary>
    public double ConnectionsPerSession => SessionsRun > 0 ? ConnectionsOpened / (double)SessionsRun : 0;
}

/// <summary>One open-loop session: when it was due, started and ended (milliseconds from the start of the point; ended
/// is null when it never finished before the drain limit, started too when it never started), and whether it was due
/// inside the measured window.</summary>
public sealed record OpenSessionRecord(int Client, double DueMs, double? StartedMs, double? EndedMs, bool Recorded);

/// <summary>The PostgreSQL server processes of the benchmark's database at one moment, and their private memory
/// (Private_Clean + Private_Dirty of /proc/&lt;pid&gt;/smaps_rollup: what each process costs beyond shared buffers).</summary>
public sealed record ServerFootprint(int Processes, long PrivateBytes);

/// <summary>CPU time used during a window (milliseconds): by this process (the clients: sealing, packs, devices), by
/// the PostgreSQL servers (postmaster and every backend, also those that exited) and by Redis.</summary>
public sealed record CpuReport(double ClientMs, double PostgresMs, double RedisMs, double WallMs);

/// <summary>Latency of one operation, in milliseconds (nearest-rank percentiles).</summary>
public sealed record LatencyStats(int Count, double P50, double P95, double P99, double Max, double Mean)
{
    internal static LatencyStats From(List<double> values)
    {
        if (values.Count == 0)
        {
            return new LatencyStats(0, 0, 0, 0, 0, 0);
        }

        values.Sort();
        double Rank(double p) => values[Math.Clamp((int)Math.Ceiling(p * values.Count) - 1, 0, values.Count - 1)];
        return new LatencyStats(values.Count, Rank(0.50), Rank(0.95), Rank(0.99), values[^1], values.Average());
    }
}

/// <summary>The measurements of one point.</summary>
public sealed record PointResult(
    int Users,
    int Concurrency,
    int Sessions,
    double Seconds,
    LatencyStats Push,
    LatencyStats Pull,
    LatencyStats Checkpoint,
    LatencyStats Session,
    int ErrorCount,
    IReadOnlyList<string> Errors,
    int PeakConnections,
    long ConnectionsOpened,
    int SessionsRun)
{
    /// <summary>CPU time used while the point ran (null where /proc is not readable).</summary>
    public CpuReport? Cpu { get; init; }

    /// <summary>Connections the server accepted per session (all sessions of the point, warm-up included).</summary>
    public double ConnectionsPerSession => SessionsRun > 0 ? ConnectionsOpened / (double)SessionsRun : 0;

    /// <summary>Whole sessions (push + pull + checkpoint) a second.</summary>
    public double SessionsPerSecond => Seconds > 0 ? Sessions / Seconds : 0;
}

/// <summary>The result of checking every user's devices and checkpoint.</summary>
public sealed record VerifyReport(int UsersChecked, long MemoriesChecked, IReadOnlyList<string> Problems);

/// <summary>What plain SQL under the users' own logins could see.</summary>
public sealed record IsolationReport(int UsersChecked, long RowsInDatabase, long OwnRowsVisible, long ForeignRowsVisible);

/// <summary>Bytes held for the users, per server and in Redis.</summary>
public sealed record StorageReport(int Users, long PostgresBytes, long ObjectRows, long RedisBytes, long RedisKeys);

/// <summary>
/// Many simulated users on PostgreSQL and Redis through the real SDK paths: each user's repository has its own keys
/// (PBKDF2 at 1,000 iterations, the test-only minimum, to keep setup affordable; everything after key derivation is
/// unchanged), a writer and a reader <see cref="MemorySyncManager"/> over a <see cref="PostgresBackend"/> of the user's
/// own login, and a <see cref="RedisAgentStateStore"/> over one shared Redis connection. A session is: the writer saves
/// one memory and pushes, the reader pulls (and must then hold it), and the agent checkpoints one changed step.
/// </summary>
public sealed class LoadWorld : IAsyncDisposable
{
    private const string AgentId = "planner";
    private readonly LoadSetup _setup;
    private readonly List<SimUser> _users = [];
    private readonly List<NpgsqlDataSource> _admins = [];
    private readonly List<NpgsqlConnectionStringBuilder> _servers = [];
    private readonly ConnectionMultiplexer _redis;
    private readonly string _ownerPassword;
    private readonly string _sharedPassword;
    private readonly Random _random;

    private LoadWorld(LoadSetup setup, ConnectionMultiplexer redis)
    {
        _setup = setup;
        _redis = redis;
        _random = new Random(setup.Seed);
        _ownerPassword = "owner-" + Hex(_random, 12);
        _sharedPassword = "shared-" + Hex(_random, 12);
    }

    /// <summary>The users set up so far.</summary>
    public IReadOnlyList<SimUser> Users => _users;

    /// <summary>The parameters.</summary>
    public LoadSetup Setup => _setup;

    private string OwnerRole => _setup.Prefix + "_owner";
    private string TenantsRole => _setup.Prefix + "_tenants";
    private string SharedRole => _setup.Prefix + "_shared";

    /// <summary>Creates the database, schema and roles on every server and connects to Redis.</summary>
    public static async Task<LoadWorld> CreateAsync(LoadSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        if (setup.AdminConnectionStrings.Count == 0)
        {
            throw new ArgumentException("At least one PostgreSQL server is needed.", nameof(setup));
        }

        var redisOptions = ConfigurationOptions.Parse(setup.RedisConfiguration);
        redisOptions.AbortOnConnectFail = false;
        redisOptions.AllowAdmin = true; // INFO and DBSIZE for the storage report
        redisOptions.AsyncTimeout = 30_000;
        redisOptions.SyncTimeout = 30_000;
        ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(redisOptions);
        var world = new LoadWorld(setup, redis);
        try
        {
            Directory.CreateDirectory(setup.Root);
            foreach (string admin in setup.AdminConnectionStrings)
            {
                await world.PrepareServerAsync(admin);
            }

            return world;
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    private async Task PrepareServerAsync(string adminConnectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = "postgres", MaxPoolSize = 4, Timeout = 60, CommandTimeout = 600 };
        _servers.Add(builder);
        NpgsqlDataSource admin = NpgsqlDataSource.Create(builder);
        _admins.Add(admin);
        await ExecuteAsync(admin, $"""
            CREATE ROLE {OwnerRole} LOGIN PASSWORD '{_ownerPassword}';
            CREATE ROLE {TenantsRole} NOLOGIN;
            CREATE ROLE {SharedRole} LOGIN PASSWORD '{_sharedPassword}' IN ROLE {TenantsRole};
            """);
        await ExecuteAsync(admin, $"CREATE DATABASE {_setup.Database} OWNER {OwnerRole}");
        string owner = UserConnectionString(_servers.Count - 1, OwnerRole, _ownerPassword, pooling: false);
        await PostgresSchema.MigrateAsync(owner);
        // The tenants' privileges are granted once to a group role; each user role is a member (CREATE ROLE ... IN ROLE).
        // Row-level security keys on session_user, the login itself, so membership of the group shares no rows.
        await PostgresSchema.GrantTenantAsync(owner, TenantsRole);
    }

    private string UserConnectionString(int shard, string role, string password, bool pooling = true) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = _servers[shard].Host,
            Port = _servers[shard].Port,
            Database = _setup.Database,
            Username = role,
            Password = password,
            Pooling = pooling,
            MaxPoolSize = _setup.MaxPoolSizePerUser,
            ConnectionIdleLifetime = _setup.ConnectionIdleLifetimeSeconds,
            ConnectionPruningInterval = 1,
            Timeout = 60,
            CommandTimeout = 120,
        }.ConnectionString;

    /// <summary>The server a repository lives on: FNV-1a of its name, modulo the servers (the partition key is the repository).</summary>
    public static int ShardOf(string repository, int shards)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(repository))
        {
            hash = (hash ^ b) * 16777619;
        }

        return (int)(hash % (uint)shards);
    }

    /// <summary>Adds users until there are <paramref name="total"/>: their roles (in batches), then each repository's keys,
    /// devices, initial memories (pushed and pulled) and first checkpoint.</summary>
    public async Task<SetupReport> AddUsersAsync(int total)
    {
        int first = _users.Count;
        var added = new List<SimUser>();
        for (int i = first; i < total; i++)
        {
            string repository = $"{_setup.Prefix}{i:D7}";
            int shard = ShardOf(repository, _servers.Count);
            string password = "pw-" + Hex(_random, 12);
            string connection = _setup.Tenancy == LoadTenancy.RolePerUser
                ? UserConnectionString(shard, repository, password)
                : UserConnectionString(shard, SharedRole, _sharedPassword);
            added.Add(new SimUser(i, repository, shard, connection, "passphrase " + Hex(_random, 8)) { LastStep = 0 });
            _passwords[repository] = password;
        }

        var watch = Stopwatch.StartNew();
        if (_setup.Tenancy == LoadTenancy.RolePerUser)
        {
            foreach (IGrouping<int, SimUser> byShard in added.GroupBy(u => u.Shard))
            {
                foreach (SimUser[] batch in byShard.Chunk(250))
                {
                    await ExecuteAsync(_admins[byShard.Key],
                        string.Concat(batch.Select(u => $"CREATE ROLE {u.Repository} LOGIN PASSWORD '{_passwords[u.Repository]}' IN ROLE {TenantsRole};\n")));
                }
            }
        }

        double rolesSeconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        await Parallel.ForEachAsync(added, new ParallelOptions { MaxDegreeOfParallelism = _setup.SetupParallelism }, async (user, _) => await SetUpUserAsync(user));
        double usersSeconds = watch.Elapsed.TotalSeconds;
        _users.AddRange(added);
        return new SetupReport(_users.Count, added.Count, rolesSeconds, usersSeconds, added.Count == 0 ? 0 : (rolesSeconds + usersSeconds) * 1000 / added.Count);
    }

    private readonly Dictionary<string, string> _passwords = new(StringComparer.Ordinal);

    private async Task SetUpUserAsync(SimUser user)
    {
        user.Backend = new PostgresBackend(new PostgresBackendOptions { ConnectionString = user.ConnectionString, Repository = user.Repository });
        user.Keys = await RepositoryKeys.InitializeAsync(user.Backend, user.Passphrase, "primary",
            new RepositoryKeyOptions { Kdf = KeyDerivationFunction.Pbkdf2HmacSha256, Pbkdf2Iterations = 1_000, AllowWeakKdfForTesting = true });
        user.Writer = Device(user, "writer");
        user.Reader = Device(user, "reader");
        user.States = RedisAgentStateStore.Create(_redis, user.Keys, new RedisAgentStateOptions { LocalPath = null });
        var random = new Random(HashCode.Combine(_setup.Seed, user.Index));
        for (int i = 0; i < _setup.InitialMemories; i++)
        {
            SaveMemory(user, random);
        }

        Require(user, "initial push", await user.Writer.PushAsync());
        Require(user, "initial pull", await user.Reader.PullAsync());
        await user.States.CheckpointAsync(State(user, 0));
    }

    private MemorySyncManager Device(SimUser user, string deviceId)
    {
        var options = new GhostieSyncOptions { Home = Path.Combine(_setup.Root, user.Repository, deviceId) };
        new GhostieHome(options.Home).EnsureCreated();
        return MemorySyncManager.Create(user.Backend, user.Keys, options, deviceId);
    }

    private static readonly string[] Vocabulary = ["the", "user", "prefers", "concise", "answers", "project", "uses", "dotnet", "tests",
        "sync", "memory", "device", "phone", "laptop", "network", "decided", "to", "keep", "tables", "review", "deploy"];

    private static string SaveMemory(SimUser user, Random random)
    {
        string id;
        lock (user.WrittenIds)
        {
            id = $"{user.Repository}-{user.WrittenIds.Count:D6}";
            user.WrittenIds.Add(id);
        }

        string words = string.Join(' ', Enumerable.Range(0, 30 + random.Next(30)).Select(_ => Vocabulary[random.Next(Vocabulary.Length)]));
        user.Writer.Memories.Save(new MemoryRecord
        {
            Id = id,
            Category = "note",
            Content = $"{user.Marker} {words}.",
            DeviceId = "writer",
            Timestamp = DateTimeOffset.UtcNow,
        });
        return id;
    }

    private static HandoffAgentState State(SimUser user, long step) => new()
    {
        Id = AgentId,
        Name = "planner",
        Role = "plans the user's work",
        SystemPrompt = "You plan. " + user.Marker,
        Variables = new Dictionary<string, string>
        {
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
            ["owner"] = user.Repository,
        },
    };

    private static void Require(SimUser user, string what, SyncResult result)
    {
        if (!result.Success)
        {
            throw new InvalidOperationException($"{user.Repository}: {what} failed: {string.Join("; ", result.Problems.Select(p => p.Message))}");
        }
    }

    /// <summary>Runs one point: <see cref="LoadPoint.Concurrency"/> clients, each repeatedly picking a user (seeded) that no
    /// other client is serving and running a session for it.</summary>
    public async Task<PointResult> RunAsync(LoadPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (point.Users > _users.Count || point.Users < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(point), $"{point.Users} users asked for; {_users.Count} are set up.");
        }

        if (point.Concurrency < 1 || point.Concurrency > point.Users)
        {
            throw new ArgumentOutOfRangeException(nameof(point), "Concurrency must be 1 to the number of users (one session per user at a time).");
        }

        var errors = new List<string>();
        int errorCount = 0;
        int started = 0;
        var lists = Enumerable.Range(0, point.Concurrency).Select(_ => (Push: new List<double>(), Pull: new List<double>(), Checkpoint: new List<double>(), Session: new List<double>())).ToArray();
        using var stop = new CancellationTokenSource();
        long sessionsBefore = await ServerSessionsAsync();
        Task<int> sampler = SampleConnectionsAsync(stop.Token);
        CpuSample? cpuBefore = await SampleCpuAsync();
        var clock = Stopwatch.StartNew();
        TimeSpan measureFrom = point.Sessions is null ? point.Warmup : TimeSpan.Zero;
        TimeSpan until = point.Sessions is null ? point.Warmup + point.Duration : TimeSpan.MaxValue;
        int measured = 0;
        int completed = 0;

        async Task ClientAsync(int client)
        {
            var random = new Random(HashCode.Combine(_setup.Seed, point.Users, point.Concurrency, client));
            var mine = lists[client];
            while (true)
            {
                if (point.Sessions is int limit ? Interlocked.Increment(ref started) > limit : clock.Elapsed >= until)
                {
                    return;
                }

                // A user another client is serving is skipped (a few tries), else waited for.
                SimUser user = _users[random.Next(point.Users)];
                bool held = user.Gate.Wait(0);
                for (int tries = 0; tries < 8 && !held; tries++)
                {
                    user = _users[random.Next(point.Users)];
                    held = user.Gate.Wait(0);
                }

                if (!held)
                {
                    await user.Gate.WaitAsync();
                }

                try
                {
                    double push, pull, checkpoint;
                    long t0 = Stopwatch.GetTimestamp();
                    try
                    {
                        (push, pull, checkpoint) = await SessionAsync(user, random);
                    }
                    catch (Exception e)
                    {
                        Interlocked.Increment(ref errorCount);
                        lock (errors)
                        {
                            if (errors.Count < 20)
                            {
                                errors.Add($"{user.Repository}: {e.GetType().Name}: {e.Message}");
                            }
                        }

                        continue;
                    }

                    Interlocked.Increment(ref completed);
                    // A session counts when it ends inside the measured window, whenever it began (a window shorter
                    // than two sessions would otherwise record almost nothing at high latency).
                    TimeSpan ended = clock.Elapsed;
                    if (ended >= measureFrom && ended <= until)
                    {
                        mine.Push.Add(push);
                        mine.Pull.Add(pull);
                        mine.Checkpoint.Add(checkpoint);
                        mine.Session.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                        Interlocked.Increment(ref measured);
                    }
                }
                finally
                {
                    user.Gate.Release();
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, point.Concurrency).Select(c => Task.Run(() => ClientAsync(c))));
        double seconds = (point.Sessions is null ? point.Duration : clock.Elapsed).TotalSeconds;
        CpuReport? cpu = CpuSample.Between(cpuBefore, await SampleCpuAsync());
        await stop.CancelAsync();
        int peak = await sampler;
        long opened = await ServerSessionsAsync() - sessionsBefore;
        return new PointResult(point.Users, point.Concurrency, measured, seconds,
            LatencyStats.From([.. lists.SelectMany(l => l.Push)]),
            LatencyStats.From([.. lists.SelectMany(l => l.Pull)]),
            LatencyStats.From([.. lists.SelectMany(l => l.Checkpoint)]),
            LatencyStats.From([.. lists.SelectMany(l => l.Session)]),
            errorCount, errors, peak, opened, completed) { Cpu = cpu };
    }

    /// <summary>Runs one open-loop point: client i serves user i and starts a session at each of its scheduled times
    /// (its first uniformly within one interval, then one interval apart with jitter, or Poisson), never two at once: a
    /// session due while the previous one runs starts when it ends, and its latency still counts from when it was due
    /// (no coordinated omission). Sessions due inside the window are recorded; after the window no new ones are
    /// scheduled and those due inside it are given <see cref="OpenLoadPoint.DrainLimit"/> to finish.</summary>
    public async Task<OpenPointResult> RunOpenAsync(OpenLoadPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (point.Clients < 1 || point.Clients > _users.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(point), $"{point.Clients} clients asked for; {_users.Count} users are set up (one client per user).");
        }

        if (point.Interval <= TimeSpan.Zero || point.Duration <= TimeSpan.Zero || point.Jitter is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(point), "Interval and duration must be positive and jitter in [0, 1).");
        }

        var errors = new List<string>();
        int errorCount = 0;
        int completed = 0;
        int scheduled = 0;
        int unfinished = 0;
        int endedInWindow = 0;
        var lists = Enumerable.Range(0, point.Clients)
            .Select(_ => (Push: new List<double>(), Pull: new List<double>(), Checkpoint: new List<double>(), Session: new List<double>(), Delay: new List<double>()))
            .ToArray();
        double interval = point.Interval.TotalMilliseconds;
        double from = point.EffectiveWarmup.TotalMilliseconds;
        double until = from + point.Duration.TotalMilliseconds;
        double drainUntil = until + point.DrainLimit.TotalMilliseconds;
        using var stop = new CancellationTokenSource();
        long sessionsBefore = await ServerSessionsAsync();
        Task<int> sampler = SampleConnectionsAsync(stop.Token);
        ServerFootprint? footprint = null;
        CpuSample? cpuBefore = null;
        CpuSample? cpuAfter = null;
        var clock = Stopwatch.StartNew();

        // The window's CPU and the server processes at its end, taken by a timer of their own (not by a client).
        async Task MarksAsync()
        {
            await Task.Delay(TimeSpan.FromMilliseconds(from));
            cpuBefore = await SampleCpuAsync();
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(0, until - clock.Elapsed.TotalMilliseconds)));
            cpuAfter = await SampleCpuAsync();
            footprint = await FootprintAsync();
        }

        Task marks = MarksAsync();

        var log = new List<OpenSessionRecord>();
        void Note(OpenSessionRecord record)
        {
            if (point.KeepLog)
            {
                lock (log)
                {
                    log.Add(record);
                }
            }
        }

        double Gap(Random random) => point.Arrivals == LoadArrivals.Poisson
            ? -Math.Log(1 - random.NextDouble()) * interval
            : interval * (1 + point.Jitter * (2 * random.NextDouble() - 1));

        async Task ClientAsync(int client)
        {
            SimUser user = _users[client];
            var random = new Random(HashCode.Combine(_setup.Seed, point.Clients, (int)interval, client));
            var mine = lists[client];
            double due = random.NextDouble() * interval; // the devices' phases spread over one interval
            for (; due < until; due += Gap(random))
            {
                bool recorded = due >= from;
                if (recorded)
                {
                    Interlocked.Increment(ref scheduled);
                }

                double now = clock.Elapsed.TotalMilliseconds;
                if (now >= drainUntil)
                {
                    // Due inside the window but never started before the drain limit: its wait so far is a lower bound.
                    if (recorded)
                    {
                        Interlocked.Increment(ref unfinished);
                        mine.Session.Add(now - due);
                        mine.Delay.Add(now - due);
                    }

                    Note(new OpenSessionRecord(client, due, null, null, recorded));
                    continue;
                }

                // Task.Delay counts whole milliseconds and may wake up to one early: wait again until it is due.
                while (now < due)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(due - now)));
                    now = clock.Elapsed.TotalMilliseconds;
                }

                double started = clock.Elapsed.TotalMilliseconds;
                double push, pull, checkpoint;
                try
                {
                    (push, pull, checkpoint) = await SessionAsync(user, random);
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref errorCount);
                    lock (errors)
                    {
                        if (errors.Count < 20)
                        {
                            errors.Add($"{user.Repository}: {e.GetType().Name}: {e.Message}");
                        }
                    }

                    Note(new OpenSessionRecord(client, due, started, null, recorded));
                    continue;
                }

                double ended = clock.Elapsed.TotalMilliseconds;
                Note(new OpenSessionRecord(client, due, started, ended, recorded));
                Interlocked.Increment(ref completed);
                if (ended >= from && ended < until)
                {
                    Interlocked.Increment(ref endedInWindow);
                }

                if (recorded)
                {
                    mine.Push.Add(push);
                    mine.Pull.Add(pull);
                    mine.Checkpoint.Add(checkpoint);
                    mine.Session.Add(ended - due);
                    mine.Delay.Add(started - due);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, point.Clients).Select(c => Task.Run(() => ClientAsync(c))));
        await marks;
        await stop.CancelAsync();
        int peak = await sampler;
        long opened = await ServerSessionsAsync() - sessionsBefore;
        double seconds = point.Duration.TotalSeconds;
        return new OpenPointResult(point.Clients, point.Interval.TotalSeconds, scheduled, completed, endedInWindow, unfinished, seconds, endedInWindow / seconds,
            LatencyStats.From([.. lists.SelectMany(l => l.Push)]),
            LatencyStats.From([.. lists.SelectMany(l => l.Pull)]),
            LatencyStats.From([.. lists.SelectMany(l => l.Checkpoint)]),
            LatencyStats.From([.. lists.SelectMany(l => l.Session)]),
            LatencyStats.From([.. lists.SelectMany(l => l.Delay)]),
            errorCount, errors, peak, opened, completed, footprint, CpuSample.Between(cpuBefore, cpuAfter)) { Log = log };
    }

    private sealed record CpuSample(double ClientMs, double PostgresMs, double RedisMs, long Timestamp)
    {
        public static CpuReport? Between(CpuSample? a, CpuSample? b) => a is null || b is null ? null
            : new CpuReport(b.ClientMs - a.ClientMs, b.PostgresMs - a.PostgresMs, b.RedisMs - a.RedisMs, Stopwatch.GetElapsedTime(a.Timestamp, b.Timestamp).TotalMilliseconds);
    }

    private List<int>? _postmasters;
    private int? _redisPid;

    /// <summary>CPU used so far by this process, the PostgreSQL servers (each postmaster's own and its reaped children's
    /// time, plus its live children's) and Redis; null where /proc is not readable (the servers on another machine).</summary>
    private async Task<CpuSample?> SampleCpuAsync()
    {
        try
        {
            if (_postmasters is null)
            {
                _postmasters = [];
                foreach (NpgsqlDataSource admin in _admins)
                {
                    await using NpgsqlCommand command = admin.CreateCommand("SELECT pg_backend_pid()");
                    int backend = (int)(await command.ExecuteScalarAsync())!;
                    _postmasters.Add(ParentOf(backend));
                }

                IServer redis = _redis.GetServer(_redis.GetEndPoints()[0]);
                foreach (IGrouping<string, KeyValuePair<string, string>> group in await redis.InfoAsync("server"))
                {
                    foreach (KeyValuePair<string, string> pair in group.Where(p => p.Key == "process_id"))
                    {
                        _redisPid = int.Parse(pair.Value, CultureInfo.InvariantCulture);
                    }
                }
            }

            double postgres = 0;
            var parents = new HashSet<int>(_postmasters);
            foreach (int postmaster in _postmasters)
            {
                postgres += Ticks(postmaster, withChildren: true);
            }

            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out int pid) && !parents.Contains(pid) && parents.Contains(TryParentOf(pid)))
                {
                    postgres += Ticks(pid, withChildren: false);
                }
            }

            double redisMs = _redisPid is int r ? Ticks(r, withChildren: false) : 0;
            return new CpuSample(Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds, postgres, redisMs, Stopwatch.GetTimestamp());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    // /proc/<pid>/stat after the command's closing parenthesis: state ppid ... utime(14) stime(15) cutime(16) cstime(17),
    // in clock ticks of 10 ms (USER_HZ 100 on Linux).
    private static string[] StatFields(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }

    private static double Ticks(int pid, bool withChildren)
    {
        try
        {
            string[] f = StatFields(pid);
            double ticks = double.Parse(f[11], CultureInfo.InvariantCulture) + double.Parse(f[12], CultureInfo.InvariantCulture);
            if (withChildren)
            {
                ticks += double.Parse(f[13], CultureInfo.InvariantCulture) + double.Parse(f[14], CultureInfo.InvariantCulture);
            }

            return ticks * 10;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0; // exited between the listing and the read: its time is in its parent's children's time now
        }
    }

    private static int ParentOf(int pid) => int.Parse(StatFields(pid)[1], CultureInfo.InvariantCulture);

    private static int TryParentOf(int pid)
    {
        try
        {
            return ParentOf(pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return -1;
        }
    }

    /// <summary>The server processes connected to the benchmark's database now and their private memory (null where
    /// /proc is not readable).</summary>
    private async Task<ServerFootprint?> FootprintAsync()
    {
        var pids = new List<int>();
        foreach (NpgsqlDataSource admin in _admins)
        {
            await using NpgsqlCommand command = admin.CreateCommand("SELECT pid FROM pg_stat_activity WHERE datname = @d");
            command.Parameters.AddWithValue("d", _setup.Database);
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                pids.Add(reader.GetInt32(0));
            }
        }

        long bytes = 0;
        int seen = 0;
        foreach (int pid in pids)
        {
            try
            {
                foreach (string line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
                {
                    if (line.StartsWith("Private_Clean:", StringComparison.Ordinal) || line.StartsWith("Private_Dirty:", StringComparison.Ordinal))
                    {
                        bytes += long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
                    }
                }

                seen++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return seen == 0 && pids.Count > 0 ? null : new ServerFootprint(seen, bytes);
    }

    private async Task<(double Push, double Pull, double Checkpoint)> SessionAsync(SimUser user, Random random)
    {
        string id = SaveMemory(user, random);
        long t = Stopwatch.GetTimestamp();
        Require(user, "push", await user.Writer.PushAsync());
        double push = Stopwatch.GetElapsedTime(t).TotalMilliseconds;

        t = Stopwatch.GetTimestamp();
        Require(user, "pull", await user.Reader.PullAsync());
        double pull = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        if (user.Reader.Memories.Get(id) is null)
        {
            throw new InvalidOperationException($"{user.Repository}: the reader's pull did not bring memory {id} pushed just before.");
        }

        t = Stopwatch.GetTimestamp();
        long step = user.LastStep + 1;
        await user.States.CheckpointAsync(State(user, step));
        double checkpoint = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        user.LastStep = step;
        return (push, pull, checkpoint);
    }

    /// <summary>Connections the servers have accepted into the database so far (pg_stat_database.sessions, PostgreSQL 14+).</summary>
    private async Task<long> ServerSessionsAsync()
    {
        long total = 0;
        foreach (NpgsqlDataSource admin in _admins)
        {
            await using NpgsqlCommand command = admin.CreateCommand("SELECT coalesce(sum(sessions), 0)::bigint FROM pg_stat_database WHERE datname = @d");
            command.Parameters.AddWithValue("d", _setup.Database);
            total += (long)(await command.ExecuteScalarAsync())!;
        }

        return total;
    }

    private async Task<int> SampleConnectionsAsync(CancellationToken stop)
    {
        int peak = 0;
        while (!stop.IsCancellationRequested)
        {
            int now = 0;
            foreach (NpgsqlDataSource admin in _admins)
            {
                await using NpgsqlCommand command = admin.CreateCommand("SELECT count(*)::int FROM pg_stat_activity WHERE datname = @d");
                command.Parameters.AddWithValue("d", _setup.Database);
                now += (int)(await command.ExecuteScalarAsync(CancellationToken.None))!;
            }

            peak = Math.Max(peak, now);
            try
            {
                await Task.Delay(250, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }

        return peak;
    }

    /// <summary>Checks the first <paramref name="users"/> users: the reader holds exactly the memories the writer saved,
    /// each with this user's marker, and the latest checkpoint loads back at the last step written.</summary>
    public async Task<VerifyReport> VerifyAsync(int users)
    {
        var problems = new List<string>();
        long memories = 0;
        foreach (SimUser user in _users.Take(users))
        {
            var held = new Dictionary<string, MemoryRecord>(StringComparer.Ordinal);
            foreach (LocalMemoryFile file in user.Reader.Memories.Scan())
            {
                if (file.Record is null)
                {
                    problems.Add($"{user.Repository}: unreadable memory file {file.Path}");
                    continue;
                }

                held[file.Id] = file.Record;
            }

            memories += held.Count;
            foreach (string id in user.WrittenIds.Where(id => !held.ContainsKey(id)))
            {
                problems.Add($"{user.Repository}: memory {id} never arrived at the reader");
            }

            foreach (MemoryRecord record in held.Values.Where(r => !user.WrittenIds.Contains(r.Id) || !r.Content.Contains(user.Marker, StringComparison.Ordinal)))
            {
                problems.Add($"{user.Repository}: the reader holds {record.Id}, which this user's writer never wrote");
            }

            AgentStateRecovery? recovered = await user.States.LoadLatestAsync(AgentId);
            string? step = recovered?.State.Variables.GetValueOrDefault("step");
            string? owner = recovered?.State.Variables.GetValueOrDefault("owner");
            if (step != user.LastStep.ToString(CultureInfo.InvariantCulture) || owner != user.Repository || recovered!.Problems.Count > 0)
            {
                problems.Add($"{user.Repository}: the latest checkpoint is step {step ?? "none"} of {owner ?? "nobody"}, expected step {user.LastStep}");
            }
        }

        return new VerifyReport(Math.Min(users, _users.Count), memories, problems);
    }

    /// <summary>Connects as <paramref name="sampleUsers"/> users (seeded sample) with plain SQL and counts the rows of other
    /// repositories each can see in <c>objects</c> and <c>chunks</c> (row-level security: none).</summary>
    public async Task<IsolationReport> CheckIsolationAsync(int sampleUsers)
    {
        long total = 0;
        for (int shard = 0; shard < _servers.Count; shard++)
        {
            // As the superuser, which row-level security does not bind: every row.
            await using NpgsqlDataSource database = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(_servers[shard].ConnectionString) { Database = _setup.Database, Pooling = false });
            await using NpgsqlCommand all = database.CreateCommand("SELECT count(*) FROM ghostie.objects");
            total += (long)(await all.ExecuteScalarAsync())!;
        }

        long own = 0;
        long foreign = 0;
        var random = new Random(_setup.Seed);
        SimUser[] sample = [.. _users.OrderBy(_ => random.Next()).Take(sampleUsers)];
        foreach (SimUser user in sample)
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(user.ConnectionString) { Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("""
                SELECT (SELECT count(*) FROM ghostie.objects WHERE repository = @r),
                       (SELECT count(*) FROM ghostie.objects WHERE repository <> @r) + (SELECT count(*) FROM ghostie.chunks WHERE repository <> @r)
                """, connection);
            command.Parameters.AddWithValue("r", user.Repository);
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            own += reader.GetInt64(0);
            foreign += reader.GetInt64(1);
        }

        return new IsolationReport(sample.Length, total, own, foreign);
    }

    /// <summary>What the servers hold: the ghostie tables' total size (with indexes and TOAST) and Redis' used memory.</summary>
    public async Task<StorageReport> MeasureStorageAsync()
    {
        long bytes = 0;
        long rows = 0;
        foreach (NpgsqlConnectionStringBuilder server in _servers)
        {
            await using NpgsqlDataSource database = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = _setup.Database, Pooling = false });
            await using NpgsqlCommand command = database.CreateCommand("""
                SELECT pg_total_relation_size('ghostie.objects') + pg_total_relation_size('ghostie.chunks') + pg_total_relation_size('ghostie.repositories'),
                       (SELECT count(*) FROM ghostie.objects)
                """);
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            bytes += reader.GetInt64(0);
            rows += reader.GetInt64(1);
        }

        IServer redis = _redis.GetServer(_redis.GetEndPoints()[0]);
        long keys = await redis.DatabaseSizeAsync();
        long used = 0;
        foreach (IGrouping<string, KeyValuePair<string, string>> group in await redis.InfoAsync("memory"))
        {
            foreach (KeyValuePair<string, string> pair in group.Where(p => p.Key == "used_memory"))
            {
                used = long.Parse(pair.Value, CultureInfo.InvariantCulture);
            }
        }

        return new StorageReport(_users.Count, bytes, rows, used, keys);
    }

    private static async Task ExecuteAsync(NpgsqlDataSource source, string sql)
    {
        await using NpgsqlCommand command = source.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static string Hex(Random random, int bytes)
    {
        byte[] buffer = new byte[bytes];
        random.NextBytes(buffer);
        return Convert.ToHexStringLower(buffer);
    }

    /// <summary>Closes every device, store, backend and connection, and deletes the homes.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (SimUser user in _users)
        {
            user.Writer?.Dispose();
            user.Reader?.Dispose();
            if (user.States is not null)
            {
                await user.States.DisposeAsync();
            }

            if (user.Backend is not null)
            {
                await user.Backend.DisposeAsync();
            }

            user.Keys?.Dispose();
        }

        foreach (NpgsqlDataSource admin in _admins)
        {
            await admin.DisposeAsync();
        }

        await _redis.DisposeAsync();
        try
        {
            if (Directory.Exists(_setup.Root))
            {
                Directory.Delete(_setup.Root, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
