// Load benchmark: simulated users (repositories) on PostgreSQL and Redis, N concurrent clients; throughput and
// p50/p95/p99 of push, pull and checkpoint at each (users, concurrency) point. benchmarks/compare-load.sh starts the
// servers and runs it; docs/performance.md reports it.
//
//   GHOSTIE_LOAD_PG='<superuser connection string>[|<another server>...]' GHOSTIE_LOAD_REDIS=127.0.0.1:6379 \
//   dotnet run -c Release --project benchmarks/Ghostie.Sync.LoadBench -- --users 100,1000,10000 --concurrency 10,100,1000
//
// --mode closed (default): N clients each run sessions back to back, no pause: the capacity (throughput) measurement.
// --mode open --interval 60,30,10: N clients (client i is user i), each starting a session every interval (jittered, or
// Poisson with --arrivals poisson), latency counted from the scheduled start: devices syncing at a cadence.
using System.Diagnostics;
using System.Globalization;
using Ghostie.Sync.LoadBench;

var options = new Dictionary<string, string>(StringComparer.Ordinal)
{
    ["users"] = "100,1000",
    ["concurrency"] = "10,100",
    ["seconds"] = "20",
    ["warmup"] = "3",
    ["seed"] = "1",
    ["tenancy"] = "roles",
    ["servers"] = "0",
    ["prefix"] = "u",
    ["memories"] = "5",
    ["pool"] = "2",
    ["idle"] = "2",
    ["mode"] = "closed",
    ["interval"] = "60",
    ["arrivals"] = "uniform",
    ["jitter"] = "0.1",
    ["drain"] = "60",
};
for (int i = 0; i < args.Length; i++)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length || !options.ContainsKey(args[i][2..]))
    {
        Console.Error.WriteLine($"""
            unknown or incomplete argument '{args[i]}'
            usage: loadbench [--users 100,1000,10000] [--concurrency 10,100,1000] [--seconds 20] [--warmup 3] [--seed 1]
                             [--tenancy roles|shared] [--servers N (first N of GHOSTIE_LOAD_PG; 0 = all)] [--prefix u]
                             [--memories 5 (per user at setup)] [--pool 2 (Max Pool Size per user)] [--idle 2 (s)]
                             [--mode closed|open] open loop: [--interval 60,30,10 (s per client)] [--arrivals uniform|poisson]
                             [--jitter 0.1] [--warmup auto (one interval)] [--drain 60 (s)]
            environment: GHOSTIE_LOAD_PG (superuser connection strings separated by '|'), GHOSTIE_LOAD_REDIS (host:port)
            """);
        return 2;
    }

    options[args[i][2..]] = args[++i];
}

static int[] Ints(string list) => [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
string[] servers = (Environment.GetEnvironmentVariable("GHOSTIE_LOAD_PG") ?? "").Split('|', StringSplitOptions.RemoveEmptyEntries);
string redis = Environment.GetEnvironmentVariable("GHOSTIE_LOAD_REDIS") ?? "";
if (servers.Length == 0 || redis.Length == 0)
{
    Console.Error.WriteLine("Set GHOSTIE_LOAD_PG and GHOSTIE_LOAD_REDIS (benchmarks/compare-load.sh does).");
    return 2;
}

int serverCount = int.Parse(options["servers"], CultureInfo.InvariantCulture);
if (serverCount > 0)
{
    servers = servers[..Math.Min(serverCount, servers.Length)];
}

if (double.Parse(options["seconds"], CultureInfo.InvariantCulture) <= 0)
{
    Console.Error.WriteLine($"--seconds is {options["seconds"]}; give the measured time of each point in seconds (more than 0).");
    return 2;
}

if (options["mode"] is not ("closed" or "open"))
{
    Console.Error.WriteLine($"--mode is '{options["mode"]}'; give closed (sessions back to back: capacity) or open (sessions at a cadence).");
    return 2;
}

bool open = options["mode"] == "open";
static double Seconds(string s) => double.Parse(s, CultureInfo.InvariantCulture);
double[] intervals = [.. options["interval"].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Seconds).OrderDescending()];
if (open && (intervals.Length == 0 || intervals.Any(i => i <= 0)))
{
    Console.Error.WriteLine($"--interval is '{options["interval"]}'; give seconds between one client's sessions, more than 0 (e.g. 300,60,10).");
    return 2;
}

LoadArrivals arrivals = options["arrivals"] == "poisson" ? LoadArrivals.Poisson : LoadArrivals.Uniform;
string warmupOption = options["warmup"];
if (open && !args.Contains("--warmup"))
{
    warmupOption = "auto";
}

int[] userPoints = [.. Ints(options["users"]).Order()];
int[] concurrencyPoints = [.. Ints(options["concurrency"]).Order()];
string root = Path.Combine(Path.GetTempPath(), "ghostie-loadbench-" + Guid.NewGuid().ToString("N")[..8]);
var setup = new LoadSetup
{
    AdminConnectionStrings = servers,
    RedisConfiguration = redis,
    Root = root,
    Tenancy = options["tenancy"] == "shared" ? LoadTenancy.SharedRole : LoadTenancy.RolePerUser,
    Seed = int.Parse(options["seed"], CultureInfo.InvariantCulture),
    Prefix = options["prefix"],
    Database = "ghostie_load_" + options["prefix"],
    InitialMemories = int.Parse(options["memories"], CultureInfo.InvariantCulture),
    MaxPoolSizePerUser = int.Parse(options["pool"], CultureInfo.InvariantCulture),
    ConnectionIdleLifetimeSeconds = int.Parse(options["idle"], CultureInfo.InvariantCulture),
};

static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
static string Ms(double value) => value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture);
static string Stats(LatencyStats s) => $"{Ms(s.P50)} / {Ms(s.P95)} / {Ms(s.P99)}";
static string Cpu(CpuReport? c, int sessions) => c is null || sessions == 0 ? "?"
    : $"{c.ClientMs / sessions:0.0} / {c.PostgresMs / sessions:0.0} / {c.RedisMs / sessions:0.0}";
static string Footprint(ServerFootprint? f) => f is null ? "?" : $"{f.Processes} / {f.PrivateBytes / 1024.0 / 1024:0}";

Console.WriteLine($"# loadbench {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, tenancy {setup.Tenancy}, "
    + $"{servers.Length} PostgreSQL server(s), seed {setup.Seed}, {setup.InitialMemories} memories per user at setup, "
    + $"Max Pool Size {setup.MaxPoolSizePerUser} per user, idle lifetime {setup.ConnectionIdleLifetimeSeconds} s, "
    + (open ? $"open loop ({arrivals}, jitter {options["jitter"]}, warm-up {warmupOption}), " : "closed loop, ") + $"load {Load()}");
var rows = new List<string>();
int failures = 0;
await using (LoadWorld world = await LoadWorld.CreateAsync(setup))
{
    foreach (int users in userPoints)
    {
        SetupReport grown = await world.AddUsersAsync(users);
        StorageReport storage = await world.MeasureStorageAsync();
        Console.WriteLine($"setup: {grown.Added} users added ({grown.Users} in all): roles {grown.RolesSeconds:0.0} s, keys + devices + first sync + "
            + $"checkpoint {grown.UsersSeconds:0.0} s, {grown.PerUserMilliseconds:0.0} ms per user; PostgreSQL {storage.PostgresBytes / 1024.0 / 1024:0.0} MiB "
            + $"({storage.PostgresBytes / Math.Max(1, storage.Users):N0} B/user, {storage.ObjectRows} objects), Redis {storage.RedisBytes / 1024.0 / 1024:0.0} MiB "
            + $"({storage.RedisBytes / Math.Max(1, storage.Users):N0} B/user incl. its base, {storage.RedisKeys} keys); load {Load()}");
        foreach (int concurrency in concurrencyPoints)
        {
            if (concurrency > users)
            {
                Console.WriteLine($"skip: {users} users x {concurrency} clients (one session per user at a time)");
                continue;
            }

            if (open)
            {
                foreach (double interval in intervals)
                {
                    string loadBefore = Load();
                    OpenPointResult o = await world.RunOpenAsync(new OpenLoadPoint
                    {
                        Clients = concurrency,
                        Interval = TimeSpan.FromSeconds(interval),
                        Arrivals = arrivals,
                        Jitter = Seconds(options["jitter"]),
                        Warmup = warmupOption == "auto" ? null : TimeSpan.FromSeconds(Seconds(warmupOption)),
                        Duration = TimeSpan.FromSeconds(Seconds(options["seconds"])),
                        DrainLimit = TimeSpan.FromSeconds(Seconds(options["drain"])),
                    });
                    string openRow = $"| {users:N0} | {concurrency:N0} | {interval:0.###} | {o.OfferedPerSecond:0.0} | {o.AchievedPerSecond:0.0} | {Stats(o.Push)} | "
                        + $"{Stats(o.Pull)} | {Stats(o.Checkpoint)} | {Stats(o.Session)} | {Ms(o.StartDelay.P95)} | {o.PeakConnections} | {Footprint(o.Footprint)} | "
                        + $"{o.ConnectionsPerSession:0.00} | {Cpu(o.Cpu, o.EndedInWindow)} | {o.ErrorCount} | {o.Unfinished} | {loadBefore} → {Load()} |";
                    rows.Add(openRow);
                    Console.WriteLine(openRow);
                    foreach (string error in o.Errors)
                    {
                        Console.WriteLine("  error: " + error);
                    }

                    failures += o.ErrorCount;
                }

                continue;
            }

            string before = Load();
            PointResult r = await world.RunAsync(new LoadPoint
            {
                Users = users,
                Concurrency = concurrency,
                Duration = TimeSpan.FromSeconds(double.Parse(options["seconds"], CultureInfo.InvariantCulture)),
                Warmup = TimeSpan.FromSeconds(double.Parse(options["warmup"], CultureInfo.InvariantCulture)),
            });
            string row = $"| {users:N0} | {concurrency:N0} | {r.SessionsPerSecond:0.0} | {Stats(r.Push)} | {Stats(r.Pull)} | {Stats(r.Checkpoint)} | "
                + $"{Stats(r.Session)} | {r.PeakConnections} | {r.ConnectionsPerSession:0.00} | {Cpu(r.Cpu, r.SessionsRun)} | {r.ErrorCount} | {before} → {Load()} |";
            rows.Add(row);
            Console.WriteLine(row);
            foreach (string error in r.Errors)
            {
                Console.WriteLine("  error: " + error);
            }

            failures += r.ErrorCount;
        }

        var watch = Stopwatch.StartNew();
        VerifyReport verify = await world.VerifyAsync(users);
        Console.WriteLine($"verify: {verify.UsersChecked} users, {verify.MemoriesChecked} memories, {verify.Problems.Count} problems ({watch.Elapsed.TotalSeconds:0.0} s)");
        foreach (string problem in verify.Problems.Take(20))
        {
            Console.WriteLine("  problem: " + problem);
        }

        failures += verify.Problems.Count;
    }

    IsolationReport isolation = await world.CheckIsolationAsync(sampleUsers: 50);
    Console.WriteLine($"isolation: {isolation.UsersChecked} users connected with plain SQL, {isolation.RowsInDatabase} object rows in the database, "
        + $"{isolation.OwnRowsVisible} of their own visible, {isolation.ForeignRowsVisible} rows of other users visible");
    StorageReport final = await world.MeasureStorageAsync();
    Console.WriteLine($"storage: {final.Users} users, PostgreSQL {final.PostgresBytes:N0} B ({final.PostgresBytes / Math.Max(1, final.Users):N0} B/user), "
        + $"Redis {final.RedisBytes:N0} B ({final.RedisBytes / Math.Max(1, final.Users):N0} B/user), objects per user {final.ObjectRows / (double)Math.Max(1, final.Users):0.0} objects");
}

Console.WriteLine();
if (open)
{
    Console.WriteLine("| users | clients | interval s | offered/s | achieved/s | push p50 / p95 / p99 ms | pull p50 / p95 / p99 ms | checkpoint p50 / p95 / p99 ms | "
        + "session from scheduled start p50 / p95 / p99 ms | start delay p95 ms | peak PG conns | PG processes / private MiB at window end | new conns / session | "
        + "CPU ms / session: clients / PostgreSQL / Redis | errors | unfinished | load before → after |");
    Console.WriteLine("|---:|---:|---:|---:|---:|---|---|---|---|---:|---:|---:|---:|---|---:|---:|---|");
}
else
{
    Console.WriteLine("| users | clients | sessions/s | push p50 / p95 / p99 ms | pull p50 / p95 / p99 ms | checkpoint p50 / p95 / p99 ms | session p50 / p95 / p99 ms | "
        + "peak PG conns | new conns / session | CPU ms / session: clients / PostgreSQL / Redis | errors | load before → after |");
    Console.WriteLine("|---:|---:|---:|---|---|---|---|---:|---:|---|---:|---|");
}

foreach (string row in rows)
{
    Console.WriteLine(row);
}

return failures == 0 ? 0 : 1;
