using System.Text.Json;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync.Tests;

/// <summary>
/// <see cref="HomeArchive"/>: a round trip keeps every memory, version, conflict, tombstone and file; an import into
/// a populated home merges through the sync protocol; a newer, truncated, tampered or wrongly unlocked archive is a
/// typed error that imports nothing; a cancelled export leaves no file.
/// </summary>
public sealed class HomeArchiveTests : IDisposable
{
    private const string ArchivePassphrase = "archive passphrase, not the repository's";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ghostie-archive-" + Guid.NewGuid().ToString("N")[..10]);

    public HomeArchiveTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static HomeArchiveExportOptions Encrypted(bool overwrite = false) =>
        new() { Passphrase = ArchivePassphrase, Pbkdf2Iterations = 1_000, AllowWeakKdfForTesting = true, Overwrite = overwrite };

    /// <summary>Contents a memory may hold that break naive writers: unicode of every plane, terminal escapes, controls, JSON-ish text.</summary>
    private static readonly string[] Awkward =
    [
        "plain ascii",
        "日本語のメモ — ünïcödé ✓",
        "emoji 🧠👻 and a lone combining mark e\u0301",
        "\u001b[31mred\u001b[0m \u001b]0;title\u0007 terminal escapes",
        "tabs\tand\r\nnewlines\u0000and NUL",
        "right-to-left \u202eevil.txt",
        "{\"looks\": \"like json\", \"n\": 1.0}",
        "quotes \" ' ` < > & + \\ backslash",
    ];

    /// <summary>A home of two devices with a few hundred memories (fixed seed): edits, deletions, conflicts, and
    /// handoff and vector files.</summary>
    private static async Task<(Cluster Cluster, Device A, Device B)> PopulatedAsync(int count = 300)
    {
        var random = new Random(1216);
        var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("alpha");
        Device b = await cluster.AddDeviceAsync("beta");
        var ids = new List<string>();
        for (int i = 0; i < count; i++)
        {
            Device writer = i % 3 == 0 ? b : a;
            string content = Awkward[random.Next(Awkward.Length)] + " #" + i;
            MemoryRecord record = writer.Add(content, i % 5 == 0 ? "ünicode-category" : "note");
            if (i % 7 == 0)
            {
                JsonElement context = JsonDocument.Parse($"{{\"n\": {random.Next(1000)}.0, \"nested\": {{\"s\": \"\\u001b[1m\"}}, \"list\": [1, null, true]}}").RootElement.Clone();
                writer.Manager.Memories.Save(record with { Context = context });
            }

            ids.Add(record.Id);
        }

        await a.SyncAsync();
        await b.SyncAsync();
        await a.SyncAsync();
        for (int i = 0; i < 40; i++)
        {
            a.Edit(ids[random.Next(ids.Count)], "edited " + Awkward[random.Next(Awkward.Length)]);
        }

        foreach (string id in ids.Where((_, i) => i % 37 == 5))
        {
            a.Manager.Memories.Delete(id);
        }

        await a.SyncAsync();
        await b.SyncAsync();

        // Concurrent edits: every tenth memory edited on both devices before either syncs.
        foreach (string id in ids.Where((_, i) => i % 10 == 1 && a.Manager.Memories.Get(ids[i]) is not null))
        {
            a.Edit(id, "alpha's side " + Awkward[random.Next(Awkward.Length)]);
            b.Edit(id, "beta's side " + Awkward[random.Next(Awkward.Length)]);
        }

        await a.SyncAsync();
        await b.SyncAsync();
        await a.SyncAsync();
        Assert.NotEmpty(a.Manager.ListConflicts());

        WriteFile(a.Home, "handoff/queue.json", "[{\"text\":\"queued \u001b[0m\"}]"u8.ToArray());
        WriteFile(a.Home, "handoff/offline/0123456789abcdef01234567.json", JsonSerializer.SerializeToUtf8Bytes(new { id = "0123456789abcdef01234567", summary = "日本語" }));
        byte[] vectors = new byte[(3 << 20) + 12_345]; // more than three chunks
        random.NextBytes(vectors);
        WriteFile(a.Home, "vectors/memories.gvx", vectors);
        WriteFile(a.Home, "vectors/empty.gvx", []);
        return (cluster, a, b);
    }

    private static void WriteFile(GhostieHome home, string relative, byte[] content)
    {
        string path = Path.Combine(home.Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
    }

    /// <summary>Every memory file of the home, as bytes (content and sync_metadata), by id.</summary>
    private static SortedDictionary<string, string> MemoryFiles(GhostieHome home) =>
        new(Directory.GetFiles(home.MemoriesPath, "*.json").ToDictionary(p => Path.GetFileName(p)!, p => File.ReadAllText(p)), StringComparer.Ordinal);

    /// <summary>Every version the state keeps, per memory: vector, clock, origin, deletion, hash.</summary>
    private static SortedDictionary<string, string> Versions(MemorySyncManager manager) =>
        new(manager.RecordStates.Where(r => r.Value.Versions.Count > 0).ToDictionary(r => r.Key, r => string.Join(" | ", r.Value.Versions.Select(v =>
            $"{string.Join(",", v.VersionVector.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value))} t{v.WallMs}.{v.Counter} o{v.Origin} d{v.Deleted} {v.Hash}"))), StringComparer.Ordinal);

    /// <summary>Every conflict with every side (device, clock, deletion, record); not when this home detected it.</summary>
    private static string Conflicts(MemorySyncManager manager) =>
        string.Join("\n", manager.ListConflicts().OrderBy(c => c.Id, StringComparer.Ordinal).Select(c =>
            c.Id + ": " + string.Join(" / ", c.Others.Prepend(c.Current).Select(v => $"{v.DeviceId} {v.LastModified:O} {v.Deleted} {(v.Record is null ? "-" : JsonSerializer.Serialize(v.Record))}"))));

    private static SortedDictionary<string, string> Files(GhostieHome home)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string folder in new[] { "handoff", "vectors" })
        {
            string root = Path.Combine(home.Root, folder);
            if (Directory.Exists(root))
            {
                foreach (string path in Directory.GetFiles(root, "*", SearchOption.AllDirectories))
                {
                    files[Path.GetRelativePath(home.Root, path)] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
                }
            }
        }

        return files;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ExportThenImport_IntoAFreshHomeOfAnotherRepository_KeepsEveryMemoryVersionConflictAndFile_AndPushesThem(bool plain)
    {
        (Cluster source, Device a, _) = await PopulatedAsync();
        await using var _s = source;
        string archive = Path.Combine(_folder, "home.ghostie-archive");
        HomeArchiveExportOptions options = plain ? new HomeArchiveExportOptions { Plain = true } : Encrypted();
        HomeArchiveExportResult exported = await HomeArchive.ExportAsync(a.Manager, archive, options);

        await using var target = new Cluster(); // another repository, another device, an empty home
        Device desktop = await target.AddDeviceAsync("desktop");
        HomeArchiveImportResult imported = await HomeArchive.ImportAsync(desktop.Manager, archive, plain ? null : ArchivePassphrase);

        Assert.Empty(exported.Problems);
        Assert.Empty(imported.Problems);
        Assert.Null(imported.PushError);
        Assert.Equal(exported.Versions, imported.Merged);
        Assert.True(exported.Memories >= 290, $"{exported.Memories} memories exported");
        Assert.True(exported.Conflicts > 0);
        Assert.Equal(exported.Conflicts, imported.NewConflicts);
        Assert.Equal(4, imported.FilesWritten);
        Assert.Equal(a.Snapshot(), desktop.Snapshot()); // every content field: id, timestamp, device, category, content, context
        Assert.Equal(Versions(a.Manager), Versions(desktop.Manager)); // vectors, clocks (last_modified), origins, tombstones
        Assert.Equal(Conflicts(a.Manager), Conflicts(desktop.Manager));
        Assert.Equal(Files(a.Home), Files(desktop.Home));
        Assert.Equal(0, (await desktop.Manager.GetStatusAsync()).PendingPush);

        // Pushed: another device of the target repository receives all of it by an ordinary pull.
        Device phone = await target.AddDeviceAsync("phone");
        SyncResult phoneSync = await phone.SyncAsync();
        SyncResult desktopSync = await desktop.SyncAsync();
        Assert.True(phoneSync.Success && desktopSync.Success, string.Join("; ", phoneSync.Problems.Concat(desktopSync.Problems).Select(p => p.Message))); // relayed devices: no "missing history"
        Assert.Equal(a.Snapshot(), phone.Snapshot());
        Assert.Equal(MemoryFiles(desktop.Home), MemoryFiles(phone.Home)); // sync_metadata too: both rendered by sync from the same versions
        Assert.Equal(Versions(a.Manager), Versions(phone.Manager));
        Assert.Equal(Conflicts(a.Manager), Conflicts(phone.Manager));
    }

    [Fact]
    public async Task Import_IntoAPopulatedHome_KeepsNewerLocalEditsAndConcurrentOnesAsConflicts_AddsWhatIsNew_LosesNothing()
    {
        await using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("alpha");
        Device b = await cluster.AddDeviceAsync("beta");
        MemoryRecord newerHere = a.Add("v1 of a memory beta edits later");
        MemoryRecord concurrent = a.Add("v1 of a memory both edit");
        MemoryRecord untouched = a.Add("a memory nobody edits");
        await a.SyncAsync();
        await b.SyncAsync();
        a.Edit(concurrent.Id, "alpha's edit, in the archive");
        MemoryRecord onlyInArchive = a.Add("written on alpha, never synced");
        string archive = Path.Combine(_folder, "alpha.archive");
        await HomeArchive.ExportAsync(a.Manager, archive, Encrypted());

        b.Edit(newerHere.Id, "beta's newer edit");
        await b.SyncAsync();
        b.Edit(concurrent.Id, "beta's concurrent edit, not committed yet");
        MemoryRecord onlyHere = b.Add("only on beta");

        HomeArchiveImportResult result = await HomeArchive.ImportAsync(b.Manager, archive, ArchivePassphrase);

        Assert.Empty(result.Problems);
        Assert.Equal(1, result.NewConflicts);
        Assert.Equal(2, result.Merged); // alpha's edit of the shared memory and alpha's new memory
        Assert.Equal(2, result.AlreadyPresent); // beta's newer edit includes the archive's version; the untouched one is the same version
        Assert.Equal("beta's newer edit", b.Manager.Memories.Get(newerHere.Id)!.Content);
        Assert.Equal("a memory nobody edits", b.Manager.Memories.Get(untouched.Id)!.Content);
        Assert.Equal("written on alpha, never synced", b.Manager.Memories.Get(onlyInArchive.Id)!.Content);
        Assert.Equal("only on beta", b.Manager.Memories.Get(onlyHere.Id)!.Content);
        ConflictInfo conflict = Assert.Single(b.Manager.ListConflicts());
        Assert.Equal(concurrent.Id, conflict.Id);
        Assert.Equal(
            new[] { "alpha's edit, in the archive", "beta's concurrent edit, not committed yet" },
            conflict.Others.Prepend(conflict.Current).Select(v => v.Record!.Content).Order(StringComparer.Ordinal));

        // Importing the same archive again changes nothing.
        HomeArchiveImportResult again = await HomeArchive.ImportAsync(b.Manager, archive, ArchivePassphrase);
        Assert.Equal(0, again.Merged);
        Assert.Equal(0, again.NewConflicts);
    }

    [Fact]
    public async Task Import_AnArchiveOfANewerFormat_SaysToUpgrade_AndImportsNothing()
    {
        (Cluster source, Device a, _) = await PopulatedAsync(count: 20);
        await using var _s = source;
        string archive = Path.Combine(_folder, "newer.archive");
        await HomeArchive.ExportAsync(a.Manager, archive, Encrypted());
        byte[] bytes = File.ReadAllBytes(archive);
        bytes[4] = 7;
        File.WriteAllBytes(archive, bytes);
        await using var target = new Cluster();
        Device fresh = await target.AddDeviceAsync("fresh");

        var error = await Assert.ThrowsAsync<HomeArchiveException>(() => HomeArchive.ImportAsync(fresh.Manager, archive, ArchivePassphrase));

        Assert.Equal(GhostieErrorCode.UnsupportedFormat, error.Code);
        Assert.Equal(7, error.FormatVersion);
        Assert.Contains("Upgrade Ghostie.Sync to read this archive (archive format 7, this version reads up to 1)", error.Message, StringComparison.Ordinal);
        AssertNothingImported(fresh);
    }

    public static TheoryData<int> Cuts => [1, 7, 40, 1000, -1, -60, -2_000_000];

    [Theory]
    [MemberData(nameof(Cuts))]
    public async Task Import_ATruncatedArchive_IsAnIntegrityErrorNamingIt_AndImportsNothing(int cut)
    {
        (Cluster source, Device a, _) = await PopulatedAsync(count: 40);
        await using var _s = source;
        string archive = Path.Combine(_folder, "cut.archive");
        await HomeArchive.ExportAsync(a.Manager, archive, Encrypted());
        byte[] bytes = File.ReadAllBytes(archive);
        int length = cut > 0 ? cut : bytes.Length + cut;
        File.WriteAllBytes(archive, bytes[..length]);
        await using var target = new Cluster();
        Device fresh = await target.AddDeviceAsync("fresh");

        var error = await Assert.ThrowsAsync<HomeArchiveException>(() => HomeArchive.ImportAsync(fresh.Manager, archive, ArchivePassphrase));

        Assert.Equal(GhostieErrorCode.IntegrityFailure, error.Code);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.Contains("cut.archive", error.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was imported", error.Message, StringComparison.Ordinal);
        AssertNothingImported(fresh);
    }

    [Theory]
    [InlineData(false, 0.5)]
    [InlineData(false, 0.999)]
    [InlineData(true, 0.5)]
    [InlineData(true, 0.999)]
    public async Task Import_ATamperedArchive_IsAnIntegrityError_AndImportsNothing(bool plain, double where)
    {
        (Cluster source, Device a, _) = await PopulatedAsync(count: 40);
        await using var _s = source;
        string archive = Path.Combine(_folder, "tampered.archive");
        await HomeArchive.ExportAsync(a.Manager, archive, plain ? new HomeArchiveExportOptions { Plain = true } : Encrypted());
        byte[] bytes = File.ReadAllBytes(archive);
        bytes[(int)(bytes.Length * where)] ^= 0x20;
        File.WriteAllBytes(archive, bytes);
        await using var target = new Cluster();
        Device fresh = await target.AddDeviceAsync("fresh");

        var error = await Assert.ThrowsAsync<HomeArchiveException>(() => HomeArchive.ImportAsync(fresh.Manager, archive, plain ? null : ArchivePassphrase));

        Assert.Equal(GhostieErrorCode.IntegrityFailure, error.Code);
        Assert.Contains("damaged or was tampered with", error.Message, StringComparison.Ordinal);
        AssertNothingImported(fresh);
    }

    [Fact]
    public async Task Import_WithTheWrongPassphrase_IsAWrongPassphraseError_AndImportsNothing()
    {
        (Cluster source, Device a, _) = await PopulatedAsync(count: 10);
        await using var _s = source;
        string archive = Path.Combine(_folder, "locked.archive");
        await HomeArchive.ExportAsync(a.Manager, archive, Encrypted());
        await using var target = new Cluster();
        Device fresh = await target.AddDeviceAsync("fresh");

        var error = await Assert.ThrowsAsync<HomeArchiveException>(() => HomeArchive.ImportAsync(fresh.Manager, archive, "not the passphrase"));
        var missing = await Assert.ThrowsAsync<HomeArchiveException>(() => HomeArchive.ImportAsync(fresh.Manager, archive, null));

        Assert.Equal(GhostieErrorCode.WrongPassphrase, error.Code);
        Assert.DoesNotContain("not the passphrase", error.Message, StringComparison.Ordinal);
        Assert.Equal(GhostieErrorCode.InvalidArgument, missing.Code);
        AssertNothingImported(fresh);
    }

    [Fact]
    public async Task Export_IsEncryptedUnlessPlainIsAsked_AndAPlainArchiveIsReadableWithoutAKey()
    {
        (Cluster source, Device a, _) = await PopulatedAsync(count: 10);
        await using var _s = source;
        string encrypted = Path.Combine(_folder, "encrypted.archive"), plain = Path.Combine(_folder, "plain.archive");
        string secret = a.Manager.Memories.Scan().First().Record!.Content;

        var neither = await Assert.ThrowsAsync<GhostieSyncException>(() => HomeArchive.ExportAsync(a.Manager, encrypted, new HomeArchiveExportOptions()));
        await HomeArchive.ExportAsync(a.Manager, encrypted, Encrypted());
        await HomeArchive.ExportAsync(a.Manager, plain, new HomeArchiveExportOptions { Plain = true });
        var exists = await Assert.ThrowsAsync<GhostieSyncException>(() => HomeArchive.ExportAsync(a.Manager, encrypted, Encrypted()));
        await HomeArchive.ExportAsync(a.Manager, encrypted, Encrypted(overwrite: true));

        Assert.Equal(GhostieErrorCode.InvalidArgument, neither.Code);
        Assert.Equal(GhostieErrorCode.InvalidArgument, exists.Code);
        string needle = JsonSerializer.Serialize(secret)[1..^1][..12];
        Assert.DoesNotContain(needle, File.ReadAllText(encrypted), StringComparison.Ordinal);
        Assert.DoesNotContain("queued", File.ReadAllText(encrypted), StringComparison.Ordinal);
        Assert.Contains("queued", File.ReadAllText(plain), StringComparison.Ordinal);
        Assert.Equal((byte)1, File.ReadAllBytes(encrypted)[5]);
        Assert.Equal((byte)0, File.ReadAllBytes(plain)[5]);
    }

    [Fact]
    public async Task Export_Cancelled_LeavesNoFile_AndReportsProgressUntilThen()
    {
        (Cluster source, Device a, _) = await PopulatedAsync(count: 600);
        await using var _s = source;
        string archive = Path.Combine(_folder, "cancelled.archive");
        using var cancel = new CancellationTokenSource();
        var reports = new List<HomeArchiveProgress>();
        var progress = new SynchronousProgress(p =>
        {
            reports.Add(p);
            cancel.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => HomeArchive.ExportAsync(a.Manager, archive, Encrypted(), progress, cancel.Token));

        Assert.False(File.Exists(archive));
        Assert.Empty(Directory.GetFiles(_folder));
        HomeArchiveProgress report = Assert.Single(reports);
        Assert.Equal(256, report.Memories);
        Assert.True(report.TotalMemories >= 590);
    }

    [Fact]
    public async Task Import_Cancelled_KeepsWhatWasMergedConsistent_AndAFinishedImportCompletesIt()
    {
        (Cluster source, Device a, _) = await PopulatedAsync(count: 300);
        await using var _s = source;
        string archive = Path.Combine(_folder, "home.archive");
        await HomeArchive.ExportAsync(a.Manager, archive, Encrypted());
        await using var target = new Cluster();
        Device fresh = await target.AddDeviceAsync("fresh");
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p.Stage == "import")
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => HomeArchive.ImportAsync(fresh.Manager, archive, ArchivePassphrase, push: true, progress, cancel.Token));
        SyncResult sync = await fresh.SyncAsync(); // a later operation finds a consistent home
        HomeArchiveImportResult rest = await HomeArchive.ImportAsync(fresh.Manager, archive, ArchivePassphrase);

        Assert.True(sync.Success, string.Join("; ", sync.Problems.Select(p => p.Message)));
        Assert.True(sync.Uploaded > 0 && rest.AlreadyPresent > 0 && rest.Merged > 0, $"{sync.Uploaded} {rest.AlreadyPresent} {rest.Merged}");
        Assert.Equal(a.Snapshot(), fresh.Snapshot());
        Assert.Equal(Versions(a.Manager), Versions(fresh.Manager));
    }

    [Fact]
    public async Task ExportThenImport_TwentyThousandMemories_KeepsEveryOne()
    {
        await using var source = new Cluster();
        Device a = await source.AddDeviceAsync("alpha");
        for (int i = 0; i < 20_000; i++)
        {
            a.Add($"memory {i} " + Awkward[i % Awkward.Length]);
        }

        string archive = Path.Combine(_folder, "large.archive");
        var reports = new List<HomeArchiveProgress>();
        HomeArchiveExportResult exported = await HomeArchive.ExportAsync(a.Manager, archive, Encrypted(), new SynchronousProgress(reports.Add)); // commits the 20,000 files first
        await using var target = new Cluster();
        Device b = await target.AddDeviceAsync("beta");
        HomeArchiveImportResult imported = await HomeArchive.ImportAsync(b.Manager, archive, ArchivePassphrase, push: false);

        Assert.Equal(20_000, exported.Memories);
        Assert.Equal(20_000, imported.Merged);
        Assert.Equal(20_000, (await b.Manager.GetStatusAsync()).PendingPush);
        Assert.Equal(a.Snapshot(), b.Snapshot());
        Assert.Equal(Versions(a.Manager), Versions(b.Manager));
        Assert.Equal(20_000 / 256, reports.Count(r => r.Memories < 20_000));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Archive_IsReadByTheReaderWrittenFromFormatMd_WithEveryMemoryVersionAndFile(bool plain)
    {
        (Cluster source, Device a, _) = await PopulatedAsync(count: 60);
        await using var _s = source;
        string archive = Path.Combine(_folder, "interop.archive");
        await HomeArchive.ExportAsync(a.Manager, archive, plain ? new HomeArchiveExportOptions { Plain = true } : Encrypted());

        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(ServerProcess.RepositoryRoot, "tests", "interop", "read_archive.py"));
        start.ArgumentList.Add(archive);
        start.Environment["GHOSTIE_ARCHIVE_PASSPHRASE"] = plain ? null : ArchivePassphrase;
        using var process = System.Diagnostics.Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await stderr);

        using JsonDocument read = JsonDocument.Parse(await stdout);
        Assert.Equal(!plain, read.RootElement.GetProperty("encrypted").GetBoolean());
        Assert.Equal("alpha", read.RootElement.GetProperty("manifest").GetProperty("device_id").GetString());
        var versions = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonProperty memory in read.RootElement.GetProperty("memories").EnumerateObject())
        {
            versions[memory.Name] = string.Join(" | ", memory.Value.EnumerateArray().Select(v =>
                $"{string.Join(",", v.GetProperty("vv").EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => p.Name + "=" + p.Value.GetInt64()))} t{v.GetProperty("t").GetInt64()}.{v.GetProperty("c").GetInt32()} o{v.GetProperty("o").GetString()} d{(v.GetProperty("d").GetBoolean() ? "True" : "False")} {v.GetProperty("h").GetString()}"));
        }

        Assert.Equal(Versions(a.Manager), versions);
        Assert.Equal(
            Files(a.Home).ToDictionary(f => f.Key.Replace(Path.DirectorySeparatorChar, '/'), f => f.Value.ToLowerInvariant()),
            read.RootElement.GetProperty("files").EnumerateObject().ToDictionary(f => f.Name, f => f.Value.GetString()!));
    }

    private static void AssertNothingImported(Device device)
    {
        Assert.Empty(Directory.GetFiles(device.Home.MemoriesPath));
        Assert.Empty(device.Manager.RecordStates);
        Assert.False(File.Exists(device.Home.OutboxPath));
        Assert.False(Directory.Exists(Path.Combine(device.Home.Root, "vectors")));
        Assert.False(Directory.Exists(Path.Combine(device.Home.Root, "handoff")));
        Assert.Empty(Directory.GetFiles(device.Home.SyncPath, ".import.*"));
    }

    private sealed class SynchronousProgress(Action<HomeArchiveProgress> report) : IProgress<HomeArchiveProgress>
    {
        public void Report(HomeArchiveProgress value) => report(value);
    }
}
