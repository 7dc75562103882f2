using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Testing;

/// <summary>One device of a <see cref="Cluster"/>: its manager, its home, and helpers that write memories as a user would.</summary>
public sealed class Device
{
    private readonly FakeTimeProvider _time;
    private int _counter;

    internal Device(string id, IStorageBackend backend, MemorySyncManager manager, FakeTimeProvider time)
    {
        Id = id;
        Backend = backend;
        Manager = manager;
        _time = time;
    }

    /// <summary>The device id.</summary>
    public string Id { get; }

    /// <summary>The backend this device talks to.</summary>
    public IStorageBackend Backend { get; }

    /// <summary>The device's manager (replaced by <see cref="Cluster.ReopenAsync"/>).</summary>
    public MemorySyncManager Manager { get; set; }

    /// <summary>The device's Ghostie home.</summary>
    public GhostieHome Home => Manager.Home;

    /// <summary>Saves a new memory (ids "&lt;device&gt;-00001", ...), 7 ms after the last write.</summary>
    /// <param name="content">The memory's text.</param>
    /// <param name="category">Its category.</param>
    public MemoryRecord Add(string content, string category = "note")
    {
        _time.Advance(TimeSpan.FromMilliseconds(7));
        var record = new MemoryRecord
        {
            Id = $"{Id}-{++_counter:D5}",
            Category = category,
            Content = content,
            DeviceId = Id,
            Timestamp = _time.GetUtcNow(),
        };
        Manager.Memories.Save(record);
        return record;
    }

    /// <summary>Changes a memory's text, 7 ms after the last write.</summary>
    /// <param name="memoryId">The memory.</param>
    /// <param name="content">Its new text.</param>
    public void Edit(string memoryId, string content)
    {
        _time.Advance(TimeSpan.FromMilliseconds(7));
        MemoryRecord current = Manager.Memories.Get(memoryId) ?? throw new InvalidOperationException("no " + memoryId);
        Manager.Memories.Save(current with { Content = content });
    }

    /// <summary>Pulls, then pushes.</summary>
    public Task<SyncResult> SyncAsync() => Manager.SyncAsync();

    /// <summary>id → content of every memory file, ignoring sync_metadata (fails on a file that does not read).</summary>
    public SortedDictionary<string, string> Snapshot()
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (LocalMemoryFile file in Manager.Memories.Scan())
        {
            Assert.True(file.Record is not null, $"{file.Path}: {file.Problem}");
            result[file.Id] = JsonSerializer.Serialize(file.Record with { SyncMetadata = null });
        }

        return result;
    }

    /// <summary>The ids of the conflict records in the home, sorted.</summary>
    public string[] ConflictIds() =>
        Directory.Exists(Home.ConflictsPath)
            ? Directory.GetFiles(Home.ConflictsPath, "*.json").Select(p => Path.GetFileNameWithoutExtension(p)).Order(StringComparer.Ordinal).ToArray()
            : [];
}
