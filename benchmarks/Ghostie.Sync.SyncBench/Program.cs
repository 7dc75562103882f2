// Whole-process sync measurements that BenchmarkDotNet cannot express (peak memory of one big pull, request
// counts of a push, files for the restic comparison). Used by benchmarks/compare-restic.sh and docs/performance.md.
using System.Diagnostics;
using Ghostie.Sync;
using Ghostie.Sync.Backends.FileSystem;

string command = args.Length > 0 ? args[0] : "help";
switch (command)
{
    case "generate":
        Generate(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), seed: 1);
        return 0;
    case "edit":
        Edit(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), seed: 2);
        return 0;
    case "prepare-pull":
        await PreparePullAsync(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), args[2]);
        return 0;
    case "pull-memory":
        return await PullMemoryAsync(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), args[2]);
    default:
        Console.Error.WriteLine("""
            usage:
              syncbench generate <memories dir> <count>     write <count> memory files (fixed seed)
              syncbench edit <memories dir> <count>         edit <count> of them (fixed seed)
              syncbench prepare-pull <count> <work dir>     push <count> memories from a writer device into a folder repository
              syncbench pull-memory <count> <work dir>      pull them into an empty device and report the pull's peak managed
                                                            memory (run it in its own process, e.g. with DOTNET_GCHeapHardLimit)
            """);
        return 1;
}

static void Generate(string directory, int count, int seed)
{
    Directory.CreateDirectory(directory);
    var random = new Random(seed);
    string[] categories = ["preferences", "project", "network", "personal", "code", "decision"];
    var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    var store = new LocalMemoryStore(new GhostieHome(Path.GetDirectoryName(Path.GetFullPath(directory))!));
    for (int i = 0; i < count; i++)
    {
        DateTimeOffset at = start.AddSeconds(i * 37);
        var record = new MemoryRecord
        {
            Id = $"m{i:D7}",
            Timestamp = at,
            DeviceId = "bench-device",
            Category = categories[random.Next(categories.Length)],
            Content = $"Memory {i}: " + Sentence(random, 20 + random.Next(60)),
            Context = System.Text.Json.JsonDocument.Parse($"{{\"session\":{random.Next(1000)},\"tags\":[\"t{random.Next(50)}\",\"t{random.Next(50)}\"]}}").RootElement,
        };
        store.Save(record);
    }
}

static void Edit(string directory, int count, int seed)
{
    var random = new Random(seed);
    var store = new LocalMemoryStore(new GhostieHome(Path.GetDirectoryName(Path.GetFullPath(directory))!));
    string[] files = Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal).ToArray();
    foreach (string file in files.OrderBy(_ => random.Next()).Take(count))
    {
        string id = Path.GetFileNameWithoutExtension(file);
        MemoryRecord record = store.Get(id)!;
        store.Save(record with { Content = record.Content + " (edited " + random.Next() + ")" });
    }
}

static string Sentence(Random random, int words)
{
    string[] vocabulary = ["the", "user", "prefers", "concise", "answers", "project", "uses", "dotnet", "tests", "sync", "memory",
        "device", "phone", "laptop", "network", "topology", "decided", "to", "keep", "tables", "code", "first", "review", "deploy"];
    return string.Join(' ', Enumerable.Range(0, words).Select(_ => vocabulary[random.Next(vocabulary.Length)])) + ".";
}

static async Task PreparePullAsync(int count, string work)
{
    if (Directory.Exists(work))
    {
        Directory.Delete(work, recursive: true);
    }

    string repository = Path.Combine(work, "repository");
    var writerConfig = new SyncConfiguration { Settings = { ["path"] = repository }, DeviceId = "writer", DeviceName = "writer" };
    using MemorySyncManager writer = await MemorySyncManager.SetupAsync(new FileSystemBackend(repository), writerConfig, "bench passphrase", new GhostieSyncOptions { Home = Path.Combine(work, "writer") });
    Generate(writer.Home.MemoriesPath, count, seed: 1);
    Stopwatch push = Stopwatch.StartNew();
    SyncResult pushed = await writer.PushAsync();
    Console.WriteLine($"push: {pushed.Uploaded} memories, {pushed.ObjectsWritten} objects written, {push.Elapsed.TotalSeconds:F1} s");
}

static async Task<int> PullMemoryAsync(int count, string work)
{
    string repository = Path.Combine(work, "repository");
    const string passphrase = "bench passphrase";
    var readerConfig = new SyncConfiguration { Settings = { ["path"] = repository }, DeviceId = "reader", DeviceName = "reader" };
    using MemorySyncManager reader = await MemorySyncManager.SetupAsync(new FileSystemBackend(repository), readerConfig, passphrase, new GhostieSyncOptions { Home = Path.Combine(work, "reader") });
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    long baseline = GC.GetTotalMemory(forceFullCollection: true);
    long peak = 0, peakAfterGc = 0;
    using var cts = new CancellationTokenSource();
    Task sampler = Task.Run(async () =>
    {
        while (!cts.IsCancellationRequested)
        {
            peak = Math.Max(peak, GC.GetTotalMemory(false));
            GCMemoryInfo last = GC.GetGCMemoryInfo(GCKind.Any);
            peakAfterGc = Math.Max(peakAfterGc, last.HeapSizeBytes - last.FragmentedBytes);
            await Task.Delay(5);
        }
    });
    Stopwatch pull = Stopwatch.StartNew();
    SyncResult pulled = await reader.PullAsync();
    pull.Stop();
    cts.Cancel();
    await sampler;
    peak = Math.Max(peak, GC.GetTotalMemory(false));
    long live = GC.GetTotalMemory(forceFullCollection: true);
    Console.WriteLine($"pull: {pulled.Downloaded} memories applied, {pulled.ObjectsRead} objects read, {pull.Elapsed.TotalSeconds:F1} s");
    Console.WriteLine($"pull peak managed heap: {peak / 1048576.0:F1} MiB (baseline before pull {baseline / 1048576.0:F1} MiB; sampled every 5 ms)");
    Console.WriteLine($"pull peak heap after a collection (live data high-water mark): {peakAfterGc / 1048576.0:F1} MiB; live after the pull: {live / 1048576.0:F1} MiB");
    Console.WriteLine($"process peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F1} MiB");
    return pulled.Success && pulled.Downloaded == count ? 0 : 1;
}
