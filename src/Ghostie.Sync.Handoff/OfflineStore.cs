using System.Security.Cryptography;
using System.Text.Json;
using Ghostie.Sync.Handoff.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Handoff;

/// <summary>
/// Offline packages and the queue of offline work, under the Ghostie home: <c>handoff/offline/&lt;package id&gt;.json</c>
/// and <c>handoff/queue.json</c>. On reconnection <see cref="MergeAsync"/> turns each queued item into a memory of the
/// home (category <c>handoff-&lt;kind&gt;</c>) and runs a normal sync, which pushes them like any memory.
/// </summary>
/// <remarks>Like <c>memories/</c>, these files are plaintext on the device; only what goes to the repository is encrypted.</remarks>
public sealed class OfflineStore
{
    private readonly GhostieHome _home;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _gate = new();

    /// <summary>Creates the store of a home.</summary>
    /// <param name="home">The Ghostie home.</param>
    /// <param name="timeProvider">The clock (default system).</param>
    /// <param name="logger">Where events go.</param>
    public OfflineStore(GhostieHome home, TimeProvider? timeProvider = null, ILogger<OfflineStore>? logger = null)
    {
        _home = home ?? throw new ArgumentNullException(nameof(home));
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<OfflineStore>.Instance;
    }

    private string OfflinePath => Path.Combine(_home.Root, "handoff", "offline");

    private string QueuePath => Path.Combine(_home.Root, "handoff", "queue.json");

    private string OutboxPath => Path.Combine(_home.Root, "handoff", "outbox");

    /// <summary>
    /// Queues a package built while the repository was out of reach (<see cref="HandoffService.BuildOfflineAsync"/>):
    /// <c>handoff/outbox/&lt;package id&gt;.json</c>, the package's JSON, written atomically. Like <c>memories/</c> it is
    /// plaintext on this device (already scrubbed of secrets); it is encrypted when <see cref="SendQueuedAsync"/> stores it.
    /// </summary>
    /// <param name="package">The package.</param>
    /// <returns>The file written.</returns>
    public string QueuePackage(HandoffPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (!HandoffService.IsPackageId(package.PackageId))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"'{package.PackageId}' is not a package id.");
        }

        string path = Path.Combine(OutboxPath, package.PackageId + ".json");
        WriteAtomic(path, HandoffSerializer.Default.Serialize(package));
        Log.PackageQueued(_logger, package.PackageId);
        return path;
    }

    /// <summary>The packages queued and not sent yet, oldest first; a file that is not a package is reported, never deleted.</summary>
    /// <param name="problems">Receives one line per unreadable file (its path and why).</param>
    public IReadOnlyList<HandoffPackage> QueuedPackages(ICollection<string>? problems = null)
    {
        var packages = new List<HandoffPackage>();
        if (!Directory.Exists(OutboxPath))
        {
            return packages;
        }

        foreach (string path in Directory.EnumerateFiles(OutboxPath, "*.json").Order(StringComparer.Ordinal))
        {
            if (!HandoffService.IsPackageId(Path.GetFileNameWithoutExtension(path)))
            {
                continue; // not ours (a temporary file is dot-named and .tmp)
            }

            try
            {
                packages.Add(HandoffSerializer.Default.Deserialize(File.ReadAllBytes(path), path));
            }
            catch (Exception e) when (e is GhostieSyncException or IOException or UnauthorizedAccessException)
            {
                problems?.Add($"{path}: {e.Message}");
            }
        }

        return packages.OrderBy(p => p.CreatedAt).ThenBy(p => p.PackageId, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// On reconnection: stores every queued package in the repository (encrypted, as <see cref="HandoffService.StoreAsync"/>
    /// does) and removes it from the queue once stored. An expired one is dropped unsent. A package the repository already
    /// holds (a send interrupted after the store) counts as sent. A failure stops the sending and leaves the rest queued.
    /// </summary>
    /// <param name="service">The handoff service of the reachable repository.</param>
    /// <param name="cancellationToken">Cancels between packages; a package stored stays stored.</param>
    /// <returns>The packages sent, and how many expired ones were dropped.</returns>
    public async Task<(IReadOnlyList<HandoffCreateResult> Sent, int Expired)> SendQueuedAsync(HandoffService service, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        var sent = new List<HandoffCreateResult>();
        int expired = 0;
        foreach (HandoffPackage package in QueuedPackages())
        {
            cancellationToken.ThrowIfCancellationRequested();
            string path = Path.Combine(OutboxPath, package.PackageId + ".json");
            if (package.ExpiresAt is { } expires && expires <= _time.GetUtcNow())
            {
                File.Delete(path);
                expired++;
                continue;
            }

            try
            {
                sent.Add(await service.StoreAsync(package, cancellationToken: cancellationToken).ConfigureAwait(false));
            }
            catch (GhostieSyncException e) when (e.Code == GhostieErrorCode.InvalidArgument && e.Message.Contains("already exists in the repository", StringComparison.Ordinal))
            {
                // stored by an earlier send that stopped before removing the file
            }

            File.Delete(path);
        }

        return (sent, expired);
    }

    /// <summary>Saves an offline package (replacing one of the same package).</summary>
    /// <param name="package">The offline package.</param>
    public void Save(OfflinePackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (!HandoffService.IsPackageId(package.PackageId))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"'{package.PackageId}' is not a package id.");
        }

        WriteAtomic(Path.Combine(OfflinePath, package.PackageId + ".json"), JsonSerializer.SerializeToUtf8Bytes(package, HandoffJson.Stored.OfflinePackage));
    }

    /// <summary>Loads the offline package of <paramref name="packageId"/>, or null.</summary>
    /// <param name="packageId">The package id.</param>
    /// <exception cref="GhostieSyncException">The file is not a valid offline package (<see cref="GhostieErrorCode.MalformedLocalFile"/>).</exception>
    public OfflinePackage? Load(string packageId)
    {
        if (!HandoffService.IsPackageId(packageId))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"'{packageId}' is not a package id.");
        }

        string path = Path.Combine(OfflinePath, packageId + ".json");
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), HandoffJson.Stored.OfflinePackage);
        }
        catch (JsonException ex)
        {
            throw new GhostieSyncException(GhostieErrorCode.MalformedLocalFile, $"{path} is not a valid offline package ({ex.Message}); it was left as is.", innerException: ex);
        }
    }

    /// <summary>Queues a piece of offline work.</summary>
    /// <param name="kind">"note", "decision", "task", "message", or a host's own (letters, digits, '-').</param>
    /// <param name="text">The text.</param>
    /// <param name="conversationId">The conversation it belongs to, if any.</param>
    /// <returns>The queued item.</returns>
    public OfflineWorkItem Enqueue(string kind, string text, string? conversationId = null)
    {
        if (string.IsNullOrEmpty(kind) || kind.Length > 32 || !kind.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"'{kind}' is not a work kind: use 1 to 32 letters, digits and '-'.");
        }

        ArgumentException.ThrowIfNullOrEmpty(text);
        var item = new OfflineWorkItem
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            Kind = kind,
            Text = text,
            ConversationId = conversationId,
            CreatedAt = _time.GetUtcNow(),
        };
        lock (_gate)
        {
            List<OfflineWorkItem> queue = [.. ReadQueue(), item];
            WriteQueue(queue);
        }

        return item;
    }

    /// <summary>The queued work, oldest first.</summary>
    public IReadOnlyList<OfflineWorkItem> Queue()
    {
        lock (_gate)
        {
            return ReadQueue();
        }
    }

    /// <summary>
    /// On reconnection: every queued item becomes a memory of this home (id <c>offline-&lt;item id&gt;</c>, so a merge
    /// interrupted and run again makes no duplicate), the queue is emptied once they are written, and a normal sync pushes them.
    /// </summary>
    /// <param name="manager">The home's sync manager.</param>
    /// <param name="cancellationToken">Cancels the sync; the memories already written stay and go with the next one.</param>
    public async Task<OfflineMergeResult> MergeAsync(MemorySyncManager manager, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manager);
        IReadOnlyList<OfflineWorkItem> items = Queue();
        int created = 0;
        foreach (OfflineWorkItem item in items)
        {
            string id = "offline-" + item.Id;
            if (manager.Memories.Get(id) is not null)
            {
                continue;
            }

            manager.Memories.Save(new MemoryRecord
            {
                Id = id,
                Category = "handoff-" + item.Kind,
                Content = item.Text,
                DeviceId = manager.DeviceId,
                Timestamp = item.CreatedAt,
                Context = ContextOf(item),
            });
            created++;
        }

        lock (_gate)
        {
            // Items queued while merging stay for the next merge.
            var merged = new HashSet<string>(items.Select(i => i.Id), StringComparer.Ordinal);
            WriteQueue(ReadQueue().Where(i => !merged.Contains(i.Id)).ToList());
        }

        Log.OfflineMerged(_logger, created);
        SyncResult sync = await manager.SyncAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return new OfflineMergeResult(created, sync);
    }

    private static JsonElement ContextOf(OfflineWorkItem item)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("source", "offline");
            writer.WriteString("kind", item.Kind);
            if (item.ConversationId is not null)
            {
                writer.WriteString("conversation_id", item.ConversationId);
            }

            writer.WriteString("queued_at", item.CreatedAt);
            writer.WriteEndObject();
        }

        using JsonDocument document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
    }

    private List<OfflineWorkItem> ReadQueue()
    {
        if (!File.Exists(QueuePath))
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(QueuePath), HandoffJson.Stored.ListOfflineWorkItem) ?? [];
        }
        catch (JsonException ex)
        {
            throw new GhostieSyncException(GhostieErrorCode.MalformedLocalFile,
                $"{QueuePath} is not a valid offline work queue ({ex.Message}); it was left as is. Fix or move it aside.", innerException: ex);
        }
    }

    private void WriteQueue(List<OfflineWorkItem> queue) => WriteAtomic(QueuePath, JsonSerializer.SerializeToUtf8Bytes(queue, HandoffJson.Stored.ListOfflineWorkItem));

    private static void WriteAtomic(string path, byte[] content)
    {
        string directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        string temp = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)) + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
