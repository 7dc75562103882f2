namespace Ghostie.Sync.Internal;

/// <summary>
/// A device's head never disappears legitimately: a push replaces it (the new one is written before the old one is
/// deleted), compaction retires packs, never heads, and no operation removes a device. So a device that this one has
/// applied a head of, that another device's head acknowledges, or whose edits a version vector includes, must have a
/// head in the listing; if it has none, its history (every memory only it holds) can no longer reach any device that
/// lacks it. Reported on every pull until the head is back, naming the device; nothing is deleted or forgotten because
/// of it (the device stays known, so packs it has not acknowledged are not deleted either).
/// </summary>
internal sealed class MissingHistories
{
    private readonly SyncContext _sync;
    private readonly Dictionary<string, string> _ids = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, Evidence> _missing = new(StringComparer.Ordinal);

    public MissingHistories(SyncContext sync) => _sync = sync;

    /// <summary>What shows that a device's history existed: the sequence of its head this device applied, devices
    /// whose heads acknowledge it, and how many memories hold versions including its edits.</summary>
    private sealed class Evidence
    {
        public long SeenHere { get; set; }

        public List<(string Witness, long Seq)> Witnesses { get; } = [];

        public int Memories { get; set; }
    }

    /// <summary>Reports (as problems) every device with evidence of a history and no head in <paramref name="heads"/>.</summary>
    public void Report(Dictionary<string, List<string>> heads)
    {
        NoteAppliedAndAcknowledged(heads);
        NoteIncludedInVectors(heads);
        foreach ((string prefix, Evidence evidence) in _missing)
        {
            string? id = _ids.GetValueOrDefault(prefix);
            _sync.Problem(evidence.SeenHere > 0 ? GhostieErrorCode.Rollback : GhostieErrorCode.NotFound, id ?? "device prefix " + prefix, Describe(prefix, id, evidence));
        }
    }

    private Evidence Note(string prefix)
    {
        if (!_missing.TryGetValue(prefix, out Evidence? evidence))
        {
            evidence = new Evidence();
            _missing[prefix] = evidence;
        }

        return evidence;
    }

    /// <summary>A removed device's head may go (its objects can be deleted once nothing needs them): never reported.</summary>
    private bool IsMissing(Dictionary<string, List<string>> heads, string prefix) =>
        prefix != _sync.Prefix && !heads.ContainsKey(prefix) && !_sync.State.Removed.ContainsKey(prefix);

    private void NoteAppliedAndAcknowledged(Dictionary<string, List<string>> heads)
    {
        foreach ((string prefix, RemoteDeviceState device) in _sync.State.Devices)
        {
            if (device.DeviceId.Length > 0)
            {
                _ids[prefix] = device.DeviceId;
            }

            if (device.Head is not null && IsMissing(heads, prefix))
            {
                Evidence evidence = Note(prefix);
                evidence.SeenHere = Math.Max(evidence.SeenHere, Math.Max(device.Seq, 1));
            }
        }

        foreach (RemoteDeviceState device in _sync.State.Devices.Values.Where(d => d.DeviceId.Length > 0).OrderBy(d => d.DeviceId, StringComparer.Ordinal))
        {
            foreach ((string acked, long seq) in device.Acks)
            {
                if (seq > 0 && IsMissing(heads, acked))
                {
                    Note(acked).Witnesses.Add((device.DeviceId, seq));
                }
            }
        }
    }

    private void NoteIncludedInVectors(Dictionary<string, List<string>> heads)
    {
        // Per device id in any surviving version vector: how many memories hold a version including its edits.
        var included = new Dictionary<string, (int Count, string Last)>(StringComparer.Ordinal);
        foreach ((string id, RecordState record) in _sync.State.Records)
        {
            foreach (VersionInfo version in record.Versions)
            {
                foreach (string device in version.VersionVector.Keys)
                {
                    included.TryGetValue(device, out var seen);
                    if (!ReferenceEquals(seen.Last, id))
                    {
                        included[device] = (seen.Count + 1, id);
                    }
                }
            }
        }

        foreach ((string device, (int count, _)) in included)
        {
            if (device == _sync.DeviceId)
            {
                continue;
            }

            string prefix = _sync.PrefixOf(device);
            if (IsMissing(heads, prefix))
            {
                _ids[prefix] = device;
                Note(prefix).Memories += count;
            }
        }
    }

    private static string Describe(string prefix, string? id, Evidence found)
    {
        string who = id is not null ? $"device '{id}'" : $"a device whose id is not known here (device prefix {prefix})";
        var evidence = new List<string>();
        if (found.SeenHere > 0)
        {
            evidence.Add($"this device applied its head (sequence {found.SeenHere})");
        }

        evidence.AddRange(found.Witnesses.Select(w => $"device '{w.Witness}' applied its history up to sequence {w.Seq}"));
        if (found.Memories > 0)
        {
            evidence.Add(found.Memories == 1 ? "1 memory here holds a version that includes its edits" : $"{found.Memories} memories here hold versions that include its edits");
        }

        return $"{char.ToUpperInvariant(who[0])}{who[1..]} has no head in storage (h/{prefix}/), although {string.Join(", and ", evidence)}: "
            + (found.SeenHere > 0
                ? "its head was deleted or the storage lost it, so its history can no longer reach other devices. "
                : "its history is missing, so the memories only it holds are not on this device. ")
            + $"Nothing was deleted here. If a file-sync tool is still copying the repository, wait for it and sync again; otherwise restore h/{prefix}/ "
            + $"and p/{prefix}/ from a backup, or sync {(id is not null ? who : "that device")} once: it writes its head again.";
    }
}
