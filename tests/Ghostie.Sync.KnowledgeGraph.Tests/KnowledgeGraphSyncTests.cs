using System.Text;

namespace Ghostie.Sync.KnowledgeGraph.Tests;

public sealed class KnowledgeGraphSyncTests : IDisposable
{
    private readonly GraphCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    private async Task<(GraphDevice A, GraphDevice B)> TwoDevicesAsync()
    {
        GraphDevice a = await _cluster.AddDeviceAsync("device-a");
        GraphDevice b = await _cluster.AddDeviceAsync("device-b");
        return (a, b);
    }

    /// <summary>Syncs A, B, then A again: afterwards both have seen each other's changes.</summary>
    private static async Task RoundAsync(GraphDevice a, GraphDevice b)
    {
        await a.SyncGraphAsync();
        await b.SyncGraphAsync();
        await a.SyncGraphAsync();
    }

    [Fact]
    public async Task SyncAsync_AdditionsOnTwoDevices_BothKeptOnBoth()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Alice", "person", "likes tea"), Lines.Relation("Alice", "knows", "Bob"));
        b.WriteLines(Lines.Entity("Alice", "person", "lives in Oslo"), Lines.Entity("Bob", "person", "plays chess"));

        await RoundAsync(a, b);

        string[] expected = ["entity Alice:person [likes tea, lives in Oslo]", "entity Bob:person [plays chess]", "relation Alice-knows->Bob"];
        Assert.Equal(expected, a.Describe());
        Assert.Equal(expected, b.Describe());
        Assert.Equal(File.ReadAllBytes(a.GraphFile), File.ReadAllBytes(b.GraphFile)); // the same bytes: one canonical order
        Assert.Empty(a.Manager.ListConflicts()); // the same entity added on both devices is the same record
        Assert.Empty(b.Manager.ListConflicts());
    }

    [Fact]
    public async Task SyncAsync_DeletionsOnOneDevice_BecomeTombstonesEverywhere()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        a.WriteLines(
            Lines.Entity("Alice", "person", "likes tea", "likes coffee"), Lines.Entity("Bob", "person", "plays chess"), Lines.Entity("Temp", "scratch", "x"),
            Lines.Relation("Alice", "knows", "Bob"), Lines.Relation("Temp", "refers_to", "Bob"), Lines.Relation("Bob", "knows", "Alice"));
        await RoundAsync(a, b);
        Assert.Equal(6, b.Describe().Length);

        // As the server deletes: delete_entities Temp (and its relations), delete_observations, delete_relations.
        a.WriteLines(Lines.Entity("Alice", "person", "likes tea"), Lines.Entity("Bob", "person", "plays chess"), Lines.Relation("Alice", "knows", "Bob"));
        GraphSyncResult result = await a.SyncGraphAsync();
        await b.SyncGraphAsync();

        Assert.Equal(0, result.LocalAdditions);
        Assert.Equal(5, result.LocalDeletions); // entity Temp, its observation, two relations of Temp/Bob->Alice, "likes coffee"
        string[] expected = ["entity Alice:person [likes tea]", "entity Bob:person [plays chess]", "relation Alice-knows->Bob"];
        Assert.Equal(expected, a.Describe());
        Assert.Equal(expected, b.Describe());
    }

    [Fact]
    public async Task SyncAsync_EntityTypeChangedDifferently_ConflictRecordedAndTheSameWinnerEverywhere()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Acme", "company", "makes anvils"));
        await RoundAsync(a, b);

        a.WriteLines(Lines.Entity("Acme", "organization", "makes anvils"));
        b.WriteLines(Lines.Entity("Acme", "customer", "makes anvils"));
        await a.SyncGraphAsync();
        GraphSyncResult resultB = await b.SyncGraphAsync();
        GraphSyncResult resultA = await a.SyncGraphAsync();

        Assert.Equal(a.Describe(), b.Describe());
        string shown = Assert.Single(MemoryGraphFile.Parse(File.ReadAllBytes(a.GraphFile)).Graph.Entities).EntityType;
        Assert.Contains(shown, new[] { "organization", "customer" });
        foreach (GraphSyncResult result in new[] { resultA, resultB })
        {
            GraphEntityConflict conflict = Assert.Single(result.Conflicts);
            Assert.Equal("Acme", conflict.EntityName);
            Assert.Equal(shown, conflict.Versions[0].EntityType); // the file shows the first version
            Assert.Equal(["customer", "organization"], conflict.Versions.Select(v => v.EntityType).Order(StringComparer.Ordinal));
            Assert.Equal(["device-a", "device-b"], conflict.Versions.Select(v => v.DeviceId).Order(StringComparer.Ordinal));
            Assert.NotNull(a.Manager.GetConflict(conflict.MemoryId));
        }
    }

    [Fact]
    public async Task SyncAsync_EntityConflictResolved_ChosenTypeInEveryFileAndNoConflictLeft()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Zed", "person"));
        b.WriteLines(Lines.Entity("Zed", "robot", "beeps"));
        await RoundAsync(a, b);
        GraphEntityConflict conflict = Assert.Single((await b.SyncGraphAsync()).Conflicts);

        await b.Manager.ResolveConflictAsync(conflict.MemoryId, ConflictChoice.KeepMine); // as 'ghostie sync conflict resolve ... --keep mine'
        GraphSyncResult resultB = await b.SyncGraphAsync();
        GraphSyncResult resultA = await a.SyncGraphAsync();

        Assert.Empty(resultA.Conflicts);
        Assert.Empty(resultB.Conflicts);
        Assert.Equal(["entity Zed:robot [beeps]"], a.Describe());
        Assert.Equal(["entity Zed:robot [beeps]"], b.Describe());
    }

    [Fact]
    public async Task SyncAsync_ObservationAddedAgainWhileDeletedElsewhere_AdditionKeptWithoutConflict()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Alice", "person", "likes tea"), Lines.Relation("Alice", "knows", "Bob"));
        await RoundAsync(a, b);

        // A deletes the observation and the relation and syncs; B, offline, deletes and re-adds both.
        a.WriteLines(Lines.Entity("Alice", "person"));
        await a.SyncGraphAsync();
        b.WriteLines(Lines.Entity("Alice", "person"));
        await b.Graph().SyncAsync(); // B now has the tombstones too ...
        b.WriteLines(Lines.Entity("Alice", "person", "likes tea"), Lines.Relation("Alice", "knows", "Bob"));
        await b.SyncGraphAsync();
        await a.SyncGraphAsync();
        Assert.Equal(["entity Alice:person [likes tea]", "relation Alice-knows->Bob"], a.Describe());

        // Truly concurrent: A deletes again while B (not yet synced) keeps them and C, new, adds the same again.
        a.WriteLines(Lines.Entity("Alice", "person"));
        GraphDevice c = await _cluster.AddDeviceAsync("device-c");
        await b.SyncGraphAsync();
        c.WriteLines(Lines.Entity("Alice", "person", "likes tea"), Lines.Relation("Alice", "knows", "Bob"));
        await c.SyncGraphAsync();  // C's additions are new versions made without seeing A's coming deletion
        await a.SyncGraphAsync();  // A deletes, then pulls C's concurrent additions: add wins
        await c.SyncGraphAsync();
        await b.SyncGraphAsync();
        await a.SyncGraphAsync();

        string[] expected = ["entity Alice:person [likes tea]", "relation Alice-knows->Bob"];
        Assert.Equal(expected, a.Describe());
        Assert.Equal(expected, b.Describe());
        Assert.Equal(expected, c.Describe());
        Assert.Empty(a.Manager.ListConflicts());
        Assert.Empty(b.Manager.ListConflicts());
        Assert.Empty(c.Manager.ListConflicts());
    }

    [Fact]
    public async Task SyncAsync_EntityDeletedWhileAnotherDeviceAddedAnObservation_ObservationKeptHiddenAndBackWithTheEntity()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Alice", "person", "likes tea"));
        await RoundAsync(a, b);

        a.WriteLines();
        b.WriteLines(Lines.Entity("Alice", "person", "likes tea", "moved to Bergen"));
        await a.SyncGraphAsync();
        GraphSyncResult resultB = await b.SyncGraphAsync();
        GraphSyncResult resultA = await a.SyncGraphAsync();

        Assert.Empty(a.Describe());
        Assert.Empty(b.Describe());
        Assert.Equal(new HiddenObservations("Alice", 1), Assert.Single(resultA.HiddenObservations));
        Assert.Equal(new HiddenObservations("Alice", 1), Assert.Single(resultB.HiddenObservations));

        // The entity comes back: the observation kept in the repository is in the file again.
        a.WriteLines(Lines.Entity("Alice", "person"));
        await RoundAsync(a, b);
        Assert.Equal(["entity Alice:person [moved to Bergen]"], b.Describe());
    }

    [Fact]
    public async Task SyncAsync_MalformedLine_KeptInTheFileReportedAndNoDeletionTakenFromIt()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Alice", "person", "likes tea"), Lines.Entity("Bob", "person"));
        await RoundAsync(a, b);

        // Bob's line is damaged (cut off) and Carol added: Bob must not be deleted anywhere.
        const string damaged = "{\"type\":\"entity\",\"name\":\"Bob\",\"entityType\":\"per";
        a.WriteLines(Lines.Entity("Alice", "person", "likes tea"), damaged, Lines.Entity("Carol", "person"));
        GraphSyncResult result = await a.SyncGraphAsync();
        await b.SyncGraphAsync();

        Assert.False(result.Success);
        GraphFileLine kept = Assert.Single(result.KeptLines);
        Assert.Equal(2, kept.LineNumber);
        SyncProblem problem = Assert.Single(result.Problems, p => p.Code == GhostieErrorCode.MalformedLocalFile);
        Assert.Contains("Line 2", problem.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(damaged, problem.Message, StringComparison.Ordinal); // the line's number and reason, never its content
        Assert.Equal(0, result.LocalDeletions);
        Assert.Equal(damaged, a.ReadLines()[^1]); // kept, byte for byte, after the graph
        Assert.Equal(["entity Alice:person [likes tea]", "entity Bob:person []", "entity Carol:person []"], b.Describe());
    }

    [Fact]
    public async Task SyncAsync_FileMissingAfterASync_WrittenAgainAndNothingDeleted()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Alice", "person", "likes tea"));
        await RoundAsync(a, b);

        File.Delete(a.GraphFile);
        GraphSyncResult result = await a.SyncGraphAsync();
        await b.SyncGraphAsync();

        Assert.Equal(0, result.LocalDeletions);
        Assert.Contains(result.Problems, p => p.Code == GhostieErrorCode.NotFound && p.Message.Contains("is missing", StringComparison.Ordinal));
        Assert.Equal(["entity Alice:person [likes tea]"], a.Describe());
        Assert.Equal(["entity Alice:person [likes tea]"], b.Describe());
    }

    [Fact]
    public async Task SyncAsync_EmptyFileAsTheServerWritesIt_DeletesEverything()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Alice", "person", "likes tea"));
        await RoundAsync(a, b);

        a.WriteLines(); // the server's file after delete_entities of the last entity: ""
        await a.SyncGraphAsync();
        await b.SyncGraphAsync();

        Assert.Empty(b.Describe());
        Assert.Equal(0, new FileInfo(b.GraphFile).Length);
    }

    [Fact]
    public async Task SyncAsync_ServerWritesBetweenMergeAndWrite_ItsChangeIsKeptAndSynced()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        b.WriteLines(Lines.Entity("Bob", "person"));
        await b.SyncGraphAsync();
        a.WriteLines(Lines.Entity("Alice", "person"));
        KnowledgeGraphSync sync = a.Graph();
        int edits = 0;
        sync.TestHook = stage =>
        {
            if (stage == "merged" && edits++ == 0)
            {
                // The server adds an observation after graph sync read the file: the rename must not go over it.
                ServerWrite(a.GraphFile, Lines.Entity("Alice", "person", "added during sync"));
            }
        };

        GraphSyncResult result = await sync.SyncAsync();
        await b.SyncGraphAsync();

        Assert.Equal(2, result.Attempts);
        string[] expected = ["entity Alice:person [added during sync]", "entity Bob:person []"];
        Assert.Equal(expected, a.Describe());
        Assert.Equal(expected, b.Describe());
    }

    [Fact]
    public async Task SyncAsync_ServerOverwritesRightAfterTheWriteFromWhatItReadBefore_NothingLostOrTakenForADeletion()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        b.WriteLines(Lines.Entity("Bob", "person", "from b"));
        await b.SyncGraphAsync();
        a.WriteLines(Lines.Entity("Alice", "person"));
        await a.SyncGraphAsync(); // A's file now holds Alice and Bob

        b.WriteLines(Lines.Entity("Bob", "person", "from b"), Lines.Entity("Carol", "person"));
        await b.SyncGraphAsync();
        KnowledgeGraphSync sync = a.Graph();
        bool done = false;
        sync.TestHook = stage =>
        {
            if (stage == "renamed" && !done)
            {
                // A server that had read the file before the rename writes its version (without Carol) right after it.
                done = true;
                ServerWrite(a.GraphFile, Lines.Entity("Alice", "person", "server edit"), Lines.Entity("Bob", "person", "from b"));
            }
        };

        GraphSyncResult result = await sync.SyncAsync();
        await b.SyncGraphAsync();

        Assert.Equal(2, result.Attempts);
        string[] expected = ["entity Alice:person [server edit]", "entity Bob:person [from b]", "entity Carol:person []"];
        Assert.Equal(expected, a.Describe());
        Assert.Equal(expected, b.Describe());
    }

    [Fact]
    public async Task SyncAsync_FileKeepsChanging_BusyAfterEveryAttemptAndEveryChangeRecorded()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        b.WriteLines(Lines.Entity("Bob", "person"));
        await b.SyncGraphAsync(); // so every merge differs from the file and must be written
        a.WriteLines(Lines.Entity("Alice", "person"));
        KnowledgeGraphSync sync = a.Graph(o => o.MaxAttempts = 3);
        int n = 0;
        var written = new List<string>();
        sync.TestHook = stage =>
        {
            if (stage == "merged")
            {
                written.Add("edit " + ++n);
                ServerWrite(a.GraphFile, Lines.Entity("Alice", "person", [.. written]));
            }
        };

        GhostieSyncException error = await Assert.ThrowsAsync<GhostieSyncException>(() => sync.SyncAsync());

        Assert.Equal(GhostieErrorCode.Busy, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("3 attempts", error.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was lost", error.Message, StringComparison.Ordinal);
        Assert.Equal(["entity Alice:person [edit 1, edit 2, edit 3]"], a.Describe()); // the server's last write stays

        GraphSyncResult next = await a.SyncGraphAsync();
        await b.SyncGraphAsync();
        Assert.Equal(1, next.Attempts);
        string[] expected = ["entity Alice:person [edit 1, edit 2, edit 3]", "entity Bob:person []"];
        Assert.Equal(expected, a.Describe());
        Assert.Equal(expected, b.Describe());
    }

    [Fact]
    public async Task SyncAsync_ServerMidWrite_WaitsForItsTemporaryFileToGo()
    {
        (GraphDevice a, _) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Alice", "person"));
        string temporary = a.GraphFile + "." + new string('a', 32) + ".tmp";
        File.WriteAllText(temporary, Lines.Entity("Alice", "person", "being written"));
        _ = Task.Run(async () =>
        {
            await Task.Delay(300);
            File.Move(temporary, a.GraphFile, overwrite: true); // the server's rename
        });

        GraphSyncResult result = await a.SyncGraphAsync();

        Assert.False(File.Exists(temporary));
        Assert.Equal(["entity Alice:person [being written]"], a.Describe());
        Assert.Equal(2, result.LocalAdditions); // the entity and the observation the server was writing
    }

    [Fact]
    public async Task SyncAsync_ServerWritesForTooLong_BusyAndFileUntouched()
    {
        (GraphDevice a, _) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Alice", "person"));
        byte[] before = File.ReadAllBytes(a.GraphFile);
        string temporary = a.GraphFile + "." + new string('b', 32) + ".tmp";
        File.WriteAllText(temporary, "partial");

        GhostieSyncException error = await Assert.ThrowsAsync<GhostieSyncException>(() => a.Graph(o => o.WriterTimeout = TimeSpan.FromMilliseconds(150)).SyncAsync());

        Assert.Equal(GhostieErrorCode.Busy, error.Code);
        Assert.Contains(Path.GetFileName(temporary), error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(a.GraphFile));
        Assert.True(File.Exists(temporary));
    }

    [Fact]
    public async Task SyncAsync_StaleServerTemporaryFile_ReportedNotWaitedForNotDeleted()
    {
        (GraphDevice a, _) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Alice", "person"));
        string temporary = a.GraphFile + "." + new string('c', 32) + ".tmp";
        File.WriteAllText(temporary, "left by a killed server");
        File.SetLastWriteTimeUtc(temporary, DateTime.UtcNow.AddMinutes(-5));

        GraphSyncResult result = await a.Graph(o => o.WriterTimeout = TimeSpan.FromMilliseconds(100)).SyncAsync();

        Assert.Contains(result.Problems, p => p.Subject == temporary && p.Message.Contains("stopped mid-write", StringComparison.Ordinal));
        Assert.True(File.Exists(temporary));
    }

    [Fact]
    public async Task SyncAsync_NothingChanged_FileNotRewritten()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Alice", "person", "b", "a"));
        GraphSyncResult first = await a.SyncGraphAsync();
        Assert.True(first.FileWritten); // into the canonical order
        DateTime written = File.GetLastWriteTimeUtc(a.GraphFile);
        await b.SyncGraphAsync();

        GraphSyncResult second = await a.SyncGraphAsync();

        Assert.False(second.FileWritten);
        Assert.Equal(0, second.LocalAdditions + second.LocalDeletions);
        Assert.Equal(written, File.GetLastWriteTimeUtc(a.GraphFile));
        Assert.True(second.Success);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task SyncAsync_Rewrite_AtomicKeepsPermissionsAndLeavesNoTemporaryFile()
    {
        (GraphDevice a, GraphDevice b) = await TwoDevicesAsync();
        b.WriteLines(Lines.Entity("Bob", "person"));
        await b.SyncGraphAsync();
        a.WriteLines(Lines.Entity("Alice", "person"));
        File.SetUnixFileMode(a.GraphFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        long inode = Inode(a.GraphFile);

        GraphSyncResult result = await a.SyncGraphAsync();

        Assert.True(result.FileWritten);
        Assert.NotEqual(inode, Inode(a.GraphFile)); // a new file renamed into place, never the old one rewritten in place
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(a.GraphFile));
        Assert.Equal([Path.GetFileName(a.GraphFile)], Directory.GetFiles(Path.GetDirectoryName(a.GraphFile)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task SyncAsync_SecondSyncOfTheSameFileMeanwhile_Busy()
    {
        (GraphDevice a, _) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Alice", "person"));
        KnowledgeGraphSync sync = a.Graph();
        GhostieSyncException? inner = null;
        sync.TestHook = stage =>
        {
            if (stage == "merged" && inner is null)
            {
                inner = Assert.Throws<GhostieSyncException>(() => a.Graph().SyncAsync().GetAwaiter().GetResult());
            }
        };

        await sync.SyncAsync();

        Assert.NotNull(inner);
        Assert.Equal(GhostieErrorCode.Busy, inner.Code);
    }

    [Fact]
    public async Task RecordIds_AnyNamesAndTexts_ValidMemoryIdsInTheReservedCategory()
    {
        (GraphDevice a, _) = await TwoDevicesAsync();
        string longName = new('x', 5000);
        a.WriteLines(Lines.Entity(longName, "t/../..", "obs with / and \\ and \u0000"), Lines.Entity("日本 😀", ""), Lines.Relation(longName, "", "日本 😀"));

        await a.SyncGraphAsync();

        LocalMemoryFile[] files = a.Manager.Memories.Scan().ToArray();
        Assert.Equal(4, files.Length); // two entities, one observation, one relation
        Assert.All(files, f =>
        {
            Assert.NotNull(f.Record);
            Assert.True(MemoryRecord.IsValidId(f.Id), f.Id);
            Assert.Equal("knowledge-graph", f.Record.Category);
            Assert.Matches("^kg-[eor]-[0-9a-f]{64}$", f.Id);
        });
        Assert.Equal(3, files.Count(f => f.Id.StartsWith("kg-e-", StringComparison.Ordinal)) + files.Count(f => f.Id.StartsWith("kg-r-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Constructor_FolderMissingOrPathIsAFolder_InvalidArgumentNamingThePath()
    {
        (GraphDevice a, _) = await TwoDevicesAsync();
        string missing = Path.Combine(_cluster.Root, "no-such-folder", "memory.jsonl");

        GhostieSyncException noFolder = Assert.Throws<GhostieSyncException>(() => new KnowledgeGraphSync(a.Manager, new KnowledgeGraphSyncOptions { FilePath = missing }));
        GhostieSyncException isFolder = Assert.Throws<GhostieSyncException>(() => new KnowledgeGraphSync(a.Manager, new KnowledgeGraphSyncOptions { FilePath = _cluster.Root }));

        Assert.Equal(GhostieErrorCode.InvalidArgument, noFolder.Code);
        Assert.Contains(missing, noFolder.Message, StringComparison.Ordinal);
        Assert.Equal(GhostieErrorCode.InvalidArgument, isFolder.Code);
        Assert.Contains("is a folder", isFolder.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStatusAsync_PendingChangesAgainstTheLastSync_CountedWithoutSyncing()
    {
        (GraphDevice a, _) = await TwoDevicesAsync();
        a.WriteLines(Lines.Entity("Alice", "person", "likes tea"), Lines.Entity("Bob", "person"));
        GraphStatus before = await a.Graph().GetStatusAsync();
        await a.SyncGraphAsync();
        a.WriteLines(Lines.Entity("Alice", "person", "likes tea", "likes coffee"), Lines.Relation("Alice", "knows", "Carol"));

        GraphStatus status = await a.Graph().GetStatusAsync();

        Assert.False(before.SyncedBefore);
        Assert.Equal(3, before.PendingAdditions);
        Assert.True(status.SyncedBefore);
        Assert.Equal(2, status.PendingAdditions);
        Assert.Equal(1, status.PendingDeletions);
        Assert.Equal(0, (await a.Manager.GetStatusAsync()).PendingPush); // nothing was recorded by the status
    }

    /// <summary>Writes the file as the memory server's saveGraph does: a temporary file beside it, renamed over it.</summary>
    private static void ServerWrite(string path, params string[] lines)
    {
        string temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temporary, string.Join("\n", lines), new UTF8Encoding(false));
        File.Move(temporary, path, overwrite: true);
    }

    private static long Inode(string path) =>
        long.Parse(System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true })!
            .StandardOutput.ReadToEnd().Trim(), System.Globalization.CultureInfo.InvariantCulture);
}
