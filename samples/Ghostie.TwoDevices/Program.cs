// Two devices, one repository in a folder, no account anywhere: the README's main sample.
// It makes two Ghostie homes and a folder repository in a temporary directory, writes memories on both,
// syncs, makes a conflicting edit, shows the conflict record, resolves it, and prints both devices' status.
// Each device is a host of its own, wired as any host is: services.AddGhostieSync(...).AddFileSystemBackend(...).
using Ghostie.Sync;
using Ghostie.Sync.Backends.FileSystem;
using Microsoft.Extensions.DependencyInjection;

string root = Path.Combine(Path.GetTempPath(), "ghostie-two-devices-" + Guid.NewGuid().ToString("N")[..8]);
string repository = Path.Combine(root, "repository");
string passphrase = Environment.GetEnvironmentVariable("GHOSTIE_PASSPHRASE") is { Length: > 0 } p ? p : "two-device demo passphrase";
bool keep = args.Contains("--keep");
var hosts = new List<ServiceProvider>();

try
{
    Title($"Setting up two devices on one folder repository ({repository})");
    using MemorySyncManager laptop = await SetupAsync("laptop", "Desktop coding agent");
    using MemorySyncManager phone = await SetupAsync("phone", "Phone app");
    Console.WriteLine($"  both devices unlocked repository {laptop.Keys.RepositoryId} (PBKDF2-HMAC-SHA256, 600,000 iterations)");

    Title("Writing memories on both devices");
    MemoryRecord style = Remember(laptop, "preferences", "Prefers concise answers with code first.");
    Remember(laptop, "project", "Ghostie.Sync targets .NET 10 and keeps its tests under 15 minutes.");
    Remember(phone, "personal", "Is travelling to Lisbon next week.");

    Title("Syncing: laptop, phone, laptop");
    await SyncAsync(laptop);
    await SyncAsync(phone);
    await SyncAsync(laptop);

    Title("A conflicting edit: both devices change the same memory while offline");
    Edit(laptop, style.Id, "Prefers concise answers; tables over prose.");
    Edit(phone, style.Id, "Prefers detailed answers when on the phone.");
    await SyncAsync(laptop);
    await SyncAsync(phone);
    await SyncAsync(laptop);

    ConflictInfo conflict = laptop.ListConflicts().Single();
    Console.WriteLine($"  conflict record {Path.Combine("sync", "conflicts", conflict.Id + ".json")} on each device:");
    Console.WriteLine($"    shown now (winner, same on every device): \"{conflict.Current.Record?.Content}\" from {conflict.Current.DeviceId}");
    foreach (ConflictVersionInfo other in conflict.Others)
    {
        Console.WriteLine($"    kept aside:                               \"{other.Record?.Content}\" from {other.DeviceId}");
    }

    Title("Resolving on the laptop: keep mine");
    await laptop.ResolveConflictAsync(conflict.Id, ConflictChoice.KeepMine);
    await SyncAsync(laptop);
    await SyncAsync(phone);
    Console.WriteLine($"  phone now reads: \"{phone.Memories.Get(style.Id)!.Content}\"; conflicts left: laptop {laptop.ListConflicts().Count}, phone {phone.ListConflicts().Count}");

    Title("Status");
    await PrintStatusAsync(laptop);
    await PrintStatusAsync(phone);

    bool same = laptop.Memories.Scan().Select(f => (f.Id, f.Record!.Content)).Order()
        .SequenceEqual(phone.Memories.Scan().Select(f => (f.Id, f.Record!.Content)).Order());
    Console.WriteLine();
    Console.WriteLine(same ? "Both devices hold identical memories." : "The devices differ (this is a bug).");
    return same ? 0 : 1;
}
catch (GhostieSyncException ex)
{
    Console.Error.WriteLine($"error ({ex.Code}): {ex.Message}");
    return 1;
}
finally
{
    foreach (ServiceProvider host in hosts)
    {
        await host.DisposeAsync();
    }

    if (keep)
    {
        Console.WriteLine($"Kept {root} for inspection.");
    }
    else if (Directory.Exists(root))
    {
        Directory.Delete(root, recursive: true);
    }
}

// One device: its own home, the shared folder as its backend. Setup saves the registered backend's settings
// (backend "folder", its path) in the home's sync/config.json, so the ghostie CLI can open the same home later.
async Task<MemorySyncManager> SetupAsync(string deviceId, string deviceName)
{
    var services = new ServiceCollection();
    services.AddGhostieSync(o => o.Home = Path.Combine(root, deviceId))
            .AddFileSystemBackend(o => o.Path = repository);
    ServiceProvider host = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    hosts.Add(host);
    GhostieSyncClient client = host.GetRequiredService<GhostieSyncClient>();
    return await client.SetupAsync(new SyncConfiguration { DeviceId = deviceId, DeviceName = deviceName }, passphrase);
}

static MemoryRecord Remember(MemorySyncManager device, string category, string content)
{
    MemoryRecord record = MemoryRecord.Create(category, content, device.DeviceId, DateTimeOffset.UtcNow);
    device.Memories.Save(record);
    Console.WriteLine($"  {device.DeviceId,-7} remembers [{category}] {content}");
    return record;
}

static void Edit(MemorySyncManager device, string id, string content)
{
    device.Memories.Save(device.Memories.Get(id)! with { Content = content });
    Console.WriteLine($"  {device.DeviceId,-7} edits: {content}");
    Thread.Sleep(5); // distinct clocks make the winner easy to predict in the printout
}

static async Task SyncAsync(MemorySyncManager device)
{
    SyncResult result = await device.SyncAsync();
    Console.WriteLine($"  {device.DeviceId,-7} sync: uploaded {result.Uploaded}, downloaded {result.Downloaded}, new conflicts {result.NewConflicts} ({result.ObjectsRead} reads, {result.ObjectsWritten} writes)");
    foreach (SyncProblem problem in result.Problems)
    {
        Console.WriteLine($"          problem: {problem.Message}");
    }
}

static async Task PrintStatusAsync(MemorySyncManager device)
{
    SyncStatus status = await device.GetStatusAsync();
    Console.WriteLine($"  SYNC STATUS ({status.DeviceId})");
    Console.WriteLine($"    Backend:         {status.Backend}");
    Console.WriteLine($"    Device ID:       {status.DeviceId}");
    Console.WriteLine($"    Last Sync:       {status.LastSync:u}");
    Console.WriteLine($"    Local Memories:  {status.LocalCount}");
    Console.WriteLine($"    Cloud Memories:  {status.CloudCount}");
    Console.WriteLine($"    Conflicts:       {status.ConflictCount}");
    Console.WriteLine($"    Known Devices:   {string.Join(", ", status.KnownDevices.Select(d => $"{d.DeviceId} ({d.DeviceName})"))}");
}

static void Title(string text)
{
    Console.WriteLine();
    Console.WriteLine(text);
}
