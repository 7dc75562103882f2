using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ghostie.Cli.Output;
using Ghostie.Sync;

namespace Ghostie.Cli.Commands;

/// <summary><c>ghostie sync conflict list | show &lt;id&gt; | resolve &lt;id&gt;</c></summary>
internal static class ConflictCommands
{
    public static Command Create(CliApplication app)
    {
        var conflict = new Command("conflict", "List, show and resolve memories that were edited concurrently on different devices.");
        conflict.Aliases.Add("conflicts");
        conflict.Subcommands.Add(List(app));
        conflict.Subcommands.Add(Show(app));
        conflict.Subcommands.Add(Resolve(app));
        return conflict;
    }

    private static Command List(CliApplication app)
    {
        var exitCode = new Option<bool>("--exit-code") { Description = "Exit with code 7 when any conflict exists (like 'git diff --exit-code')." };
        var command = new Command("list", "List the memories in conflict on this device (as of its last pull).") { exitCode };
        command.Aliases.Add("ls");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<ConflictInfo> conflicts = manager.ListConflicts();
            if (context.Json)
            {
                context.Document(new ConflictListDocument(conflicts.Select(ConflictDocument.From).ToArray()), CliJson.Output.ConflictListDocument);
            }
            else if (conflicts.Count == 0)
            {
                context.Hint("No conflicts.");  // stderr: stdout holds one line per conflict, nothing else
            }
            else
            {
                foreach (ConflictInfo info in conflicts)
                {
                    string devices = string.Join(", ", new[] { info.Current }.Concat(info.Others).Select(v => v.DeviceId).Distinct(StringComparer.Ordinal));
                    context.Line($"{info.Id}  {info.Others.Count + 1} versions from {devices}, detected {SyncCommands.Time(info.DetectedAt)}: {Excerpt(info.Current.Record?.Content)}");
                }

                context.Hint("Resolve each with 'ghostie sync conflict resolve <id> --keep mine|theirs|both' (or --merged <file.json>); 'ghostie sync conflict show <id>' shows every version.");
            }

            return conflicts.Count > 0 && parse.GetValue(exitCode) ? ExitCodes.ConflictsExist : ExitCodes.Success;
        });
        return command;
    }

    private static Command Show(CliApplication app)
    {
        var id = new Argument<string>("id") { Description = "The memory id." };
        var command = new Command("show", "Show every version of one memory in conflict.") { id };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            string memoryId = MemoryCommands.ValidId(parse.GetValue(id)!);
            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            ConflictInfo info = manager.GetConflict(memoryId) ?? throw NotInConflict(memoryId);
            if (context.Json)
            {
                context.Document(ConflictDocument.From(info), CliJson.Output.ConflictDocument);
                return ExitCodes.Success;
            }

            context.Line($"Memory {info.Id}: {info.Others.Count + 1} concurrent versions, detected {SyncCommands.Time(info.DetectedAt)}.");
            WriteVersion(context, "current (shown on every device until resolved)", info.Current, manager.DeviceId);
            foreach (ConflictVersionInfo other in info.Others)
            {
                WriteVersion(context, "other", other, manager.DeviceId);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Resolve(CliApplication app)
    {
        var id = new Argument<string>("id") { Description = "The memory id." };
        var keep = new Option<string>("--keep") { Description = "Which version to keep: mine (this device's), theirs (the other device's, the newest if several), or both (the others become new memories).", HelpName = "mine|theirs|both" };
        keep.AcceptOnlyFromAmong("mine", "theirs", "both");
        var merged = new Option<FileInfo>("--merged") { Description = "A JSON file with the merged memory to keep instead; fields it leaves out (id, category, timestamp, device_id, context) come from the current version.", HelpName = "file.json" };
        Option<double?> wait = BusyWait.CreateOption();
        var command = new Command("resolve", "Resolve a conflict on this device; the next push takes the choice to every device.") { id, keep, merged, wait };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            string memoryId = MemoryCommands.ValidId(parse.GetValue(id)!);
            string? keepValue = parse.GetValue(keep);
            FileInfo? mergedFile = parse.GetValue(merged);
            if ((keepValue is null) == (mergedFile is null))
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "Give exactly one of --keep mine|theirs|both or --merged <file.json>.");
            }

            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            ConflictInfo info = manager.GetConflict(memoryId) ?? throw NotInConflict(memoryId);
            (ConflictChoice choice, string choiceName) = keepValue switch
            {
                "mine" => (ConflictChoice.KeepMine, "mine"),
                "theirs" => (ConflictChoice.KeepTheirs, "theirs"),
                "both" => (ConflictChoice.KeepBoth, "both"),
                _ => (ConflictChoice.Merged, "merged"),
            };
            ConflictVersionInfo[] versions = [info.Current, .. info.Others];
            if (choice == ConflictChoice.KeepMine && !versions.Any(v => v.DeviceId == manager.DeviceId))
            {
                string devices = string.Join(", ", versions.Select(v => $"'{v.DeviceId}'").Distinct(StringComparer.Ordinal));
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"This device ('{manager.DeviceId}') wrote none of the versions of memory '{memoryId}' (they come from {devices}): --keep mine has nothing to keep. Use --keep theirs (the newest other version), --keep both, or --merged <file.json>; nothing was changed.");
            }

            EnsureNoUncommittedChange(context.Home, info);
            MemoryRecord? record = mergedFile is null ? null : ReadMerged(mergedFile, info);
            IReadOnlyList<string> kept = await BusyWait.RunAsync(context, parse.GetValue(wait),
                () => manager.ResolveConflictAsync(memoryId, choice, record, cancellationToken), cancellationToken).ConfigureAwait(false);
            bool deleted = !kept.Contains(memoryId, StringComparer.Ordinal);
            string others = string.Join(", ", kept.Where(k => k != memoryId));
            context.Report(new ResolveDocument(memoryId, choiceName, deleted, kept), CliJson.Output.ResolveDocument,
                (deleted, others.Length > 0) switch
                {
                    (false, true) => $"Resolved {memoryId}: kept the current version, and the others as {others}.",
                    (true, true) => $"Resolved {memoryId} ({choiceName}): the memory is deleted; the other versions are kept as {others}.",
                    (true, false) => $"Resolved {memoryId} ({choiceName}): the memory is deleted.",
                    _ => $"Resolved {memoryId} ({choiceName}).",
                },
                "Run 'ghostie sync push' to take the resolution to your other devices.");

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// Refuses to resolve over a change made to the memory file since the last sync. Resolving rewrites the file, and
    /// ResolveConflictAsync does not commit local changes first (push and pull do), so such a change would be lost.
    /// </summary>
    private static void EnsureNoUncommittedChange(GhostieHome home, ConflictInfo info)
    {
        MemoryRecord? onDisk;
        try
        {
            onDisk = new LocalMemoryStore(home).Get(info.Id);
        }
        catch (GhostieSyncException ex) when (ex.Code == GhostieErrorCode.MalformedLocalFile)
        {
            onDisk = null;
        }

        ConflictVersionInfo[] versions = [info.Current, .. info.Others];
        bool known = onDisk is null
            ? versions.Any(v => v.Deleted) && !File.Exists(home.MemoryPath(info.Id))
            : versions.Any(v => v.Record is { } r && Canonical(r) == Canonical(onDisk));
        if (!known)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Memory '{info.Id}' was changed on this device since the last sync, and resolving now would overwrite that change. Run 'ghostie sync push' first (it records the change as this device's version), then resolve.");
        }
    }

    private static string Canonical(MemoryRecord record) => JsonSerializer.Serialize(record with { SyncMetadata = null }, CliJson.Output.MemoryRecord);

    /// <summary>Reads a merged record; fields it leaves out come from the current version, so <c>{"content": "..."}</c> is enough.</summary>
    private static MemoryRecord ReadMerged(FileInfo file, ConflictInfo info)
    {
        if (!file.Exists)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"The merged record file {file.FullName} does not exist.");
        }

        JsonObject merged;
        try
        {
            merged = JsonNode.Parse(File.ReadAllBytes(file.FullName)) as JsonObject
                ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{file.FullName} must hold a JSON object (a memory).");
        }
        catch (JsonException ex)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{file.FullName} is not valid JSON: {ex.Message}");
        }

        MemoryRecord? current = info.Current.Record ?? info.Others.Select(o => o.Record).FirstOrDefault(r => r is not null);
        if (current is not null)
        {
            JsonObject defaults = JsonSerializer.SerializeToNode(current, CliJson.Output.MemoryRecord)!.AsObject();
            foreach ((string name, JsonNode? value) in defaults)
            {
                if (name != "sync_metadata" && !merged.ContainsKey(name))
                {
                    merged[name] = value?.DeepClone();
                }
            }
        }

        if (!merged.ContainsKey("id"))
        {
            merged["id"] = info.Id;
        }

        merged.Remove("sync_metadata");
        if (merged["content"] is not JsonValue content || content.GetValueKind() != JsonValueKind.String)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{file.FullName} needs a string field 'content'.");
        }

        try
        {
            return merged.Deserialize(CliJson.Output.MemoryRecord)
                ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{file.FullName} is not a memory.");
        }
        catch (JsonException ex)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{file.FullName} is not a valid memory: {ex.Message}");
        }
    }

    private static void WriteVersion(CliContext context, string role, ConflictVersionInfo version, string thisDevice)
    {
        string who = version.DeviceId == thisDevice ? $"{version.DeviceId} (this device)" : version.DeviceId;
        context.Line();
        context.Line($"  [{role}] from {who}, {SyncCommands.Time(version.LastModified)}");
        if (version.Deleted)
        {
            context.Line("    (deleted)");
        }
        else if (version.Record is { } record)
        {
            context.Line($"    category: {record.Category}");
            context.Line($"    content:  {record.Content.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\n" + new string(' ', 14), StringComparison.Ordinal)}");
        }
        else
        {
            context.Line("    (content not available on this device; pull again)");
        }
    }

    private static string Excerpt(string? content)
    {
        if (content is null)
        {
            return "(deleted)";
        }

        return MemoryCommands.Excerpt(content, 60);
    }

    private static GhostieSyncException NotInConflict(string id) =>
        new(GhostieErrorCode.NotFound, $"Memory '{id}' is not in conflict on this device. 'ghostie sync conflict list' shows the ones that are (pull first to see new ones).");
}
