// Whole-process sync measurements that BenchmarkDotNet cannot express (peak memory of one big pull, request
// counts of a push, files for the restic comparison). Used by benchmarks/compare-restic.sh and docs/performance.md.
using System.Diagnostics;
using Ghostie.Sync;
using Ghostie.Sync.Backends.FileSystem;

string command = args.Length > 0 ? args[0] : "help";
switch (command)
{
    case "generate" when args.Length > 3 && args[3] == "nested":
        GenerateNested(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), seed: 3);
        return 0;
    case "generate":
        Generate(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), seed: 1);
        return 0;
    case "edit":
        Edit(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), seed: 2);
        return 0;
    case "add":
        Add(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), seed: 4);
        return 0;
    case "prepare-pull":
        await PreparePullAsync(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), args[2]);
        return 0;
    case "pull-memory":
        return await PullMemoryAsync(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), args[2]);
    default:
        Console.Error.WriteLine("""
            usage:
              syncbench generate <memories dir> <count> [flat|nested]
                                                            write <count> memory files (fixed seed); flat: the project's own
                                                            shape (LocalMemoryStore.Save, about 600 bytes); nested: indented
                                                            JSON with nested context objects, 400-800 bytes, no id field
              syncbench edit <memories dir> <count>         edit the content of <count> of them in place, keeping their shape (fixed seed)
              syncbench add <memories dir> <count>          add <count> new small memories (fixed seed)
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

// Memories shaped unlike the project's own: written by hand (indented with tabs or 4 spaces), nested context objects
// several levels deep, 400-800 bytes, and no "id" field (the id is the file name).
static void GenerateNested(string directory, int count, int seed)
{
    Directory.CreateDirectory(directory);
    var random = new Random(seed);
    string[] kinds = ["fact", "preference", "todo", "decision", "observation"];
    var start = new DateTimeOffset(2025, 6, 1, 8, 0, 0, TimeSpan.Zero);
    var options = new System.Text.Json.JsonWriterOptions { Indented = true };
    for (int i = 0; i < count; i++)
    {
        using var buffer = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer, options))
        {
            writer.WriteStartObject();
            writer.WriteString("timestamp", start.AddMinutes(i * 3.5 + random.Next(3)).ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteString("category", kinds[random.Next(kinds.Length)]);
            writer.WriteString("content", Sentence(random, 15 + random.Next(45)));
            writer.WriteStartObject("context");
            writer.WriteStartObject("source");
            writer.WriteString("app", random.Next(2) == 0 ? "editor" : "chat");
            writer.WriteNumber("session", random.Next(100000));
            writer.WriteStartObject("location");
            writer.WriteString("file", $"src/module{random.Next(40)}/file{random.Next(300)}.cs");
            writer.WriteNumber("line", random.Next(2000));
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteStartArray("related");
            for (int r = random.Next(4); r > 0; r--)
            {
                writer.WriteStartObject();
                writer.WriteString("ref", $"n{random.Next(count):D6}");
                writer.WriteNumber("weight", Math.Round(random.NextDouble(), 3));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartObject("scores");
            writer.WriteNumber("relevance", Math.Round(random.NextDouble(), 4));
            writer.WriteNumber("confidence", Math.Round(random.NextDouble(), 4));
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        File.WriteAllBytes(Path.Combine(directory, $"n{i:D6}.json"), buffer.ToArray());
    }
}

// Changes the content of <count> files in place (parse, change "content", write back indented): the file keeps its
// shape (an "id" field or none), as an editor would leave it.
static void Edit(string directory, int count, int seed)
{
    var random = new Random(seed);
    string[] files = Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal).ToArray();
    foreach (string file in files.OrderBy(_ => random.Next()).Take(count))
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllBytes(file))!.AsObject();
        node.Remove("sync_metadata");
        node["content"] = (string?)node["content"] + " (edited " + random.Next() + ")";
        File.WriteAllText(file, node.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }
}

static void Add(string directory, int count, int seed)
{
    var random = new Random(seed);
    var store = new LocalMemoryStore(new GhostieHome(Path.GetDirectoryName(Path.GetFullPath(directory))!));
    for (int i = 0; i < count; i++)
    {
        store.Save(new MemoryRecord { Id = $"added{seed}x{i:D5}", Timestamp = DateTimeOffset.UnixEpoch.AddDays(20000 + i), DeviceId = "bench-device", Category = "added", Content = Sentence(random, 20) });
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
