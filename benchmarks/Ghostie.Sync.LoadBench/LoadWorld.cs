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

    /// <summary>Sessions ending before this are not recorded when <see cref="Sessions"/> is null.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);
}

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
            new RepositoryKeyOptions { Pbkdf2Iterations = 1_000, AllowWeakKdfForTesting = true });
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
        await stop.CancelAsync();
        int peak = await sampler;
        long opened = await ServerSessionsAsync() - sessionsBefore;
        return new PointResult(point.Users, point.Concurrency, measured, seconds,
            LatencyStats.From([.. lists.SelectMany(l => l.Push)]),
            LatencyStats.From([.. lists.SelectMany(l => l.Pull)]),
            LatencyStats.From([.. lists.SelectMany(l => l.Checkpoint)]),
            LatencyStats.From([.. lists.SelectMany(l => l.Session)]),
            errorCount, errors, peak, opened, completed);
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
