using System.CommandLine;
using System.Globalization;
using Ghostie.Cli.Output;
using Ghostie.Sync;
using Ghostie.Sync.Backends.FileSystem;

namespace Ghostie.Cli.Commands;

/// <summary><c>ghostie sync setup | push | pull | status | conflict ...</c></summary>
internal static class SyncCommands
{
    public static Command Create(CliApplication app)
    {
        var sync = new Command("sync", "Set up and run the encrypted sync of this Ghostie home with a repository shared by your devices. The seed's spelling 'ghostie --sync <command>' works too.");
        sync.Subcommands.Add(Setup(app));
        sync.Subcommands.Add(Transfer(app, "push", "Upload this device's new, edited and deleted memories."));
        sync.Subcommands.Add(Transfer(app, "pull", "Download and apply other devices' changes (local changes are committed first, so none is lost)."));
        sync.Subcommands.Add(Status(app));
        sync.Subcommands.Add(Forget(app));
        sync.Subcommands.Add(ConflictCommands.Create(app));
        return sync;
    }

    private static Command Setup(CliApplication app)
    {
        var backend = new Option<string>("--backend")
        {
            Description = $"The repository's storage. Available now: {string.Join(", ", Backends.Available)}.",
            DefaultValueFactory = _ => Backends.Folder,
        };
        var path = new Option<string>("--path") { Description = "The repository folder (local, USB disk, network share, or a folder another tool syncs).", HelpName = "folder" };
        var device = new Option<string>("--device") { Description = "This device's id (letters, digits, '-', '_', '.'). Default: the machine name, lowercased.", HelpName = "id" };
        var deviceName = new Option<string>("--device-name") { Description = "A display name other devices see. Default: the device id.", HelpName = "name" };
        var command = new Command("setup",
            "Join the repository in --path, or create it there if the folder holds none. The passphrase comes from GHOSTIE_PASSPHRASE, else a prompt; the unlocked key is cached on this device (0600).")
        {
            backend, path, device, deviceName,
        };
        app.SetAction(command, (context, parse, cancellationToken) =>
            SetupAsync(context, parse.GetValue(backend)!, parse.GetValue(path), parse.GetValue(device), parse.GetValue(deviceName), cancellationToken));
        return command;
    }

    private static async Task<int> SetupAsync(CliContext context, string backend, string? path, string? device, string? deviceName, CancellationToken cancellationToken)
    {
        Backends.EnsureAvailable(backend);
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "The folder backend needs --path <folder>: where the repository is (or is to be created).");
        }

        if (device is not null)
        {
            DeviceIdentity.Validate(device);
        }

        GhostieHome home = context.Home;
        SyncConfiguration? existing = home.IsConfigured ? home.ReadConfiguration() : null;
        string deviceId = device ?? (existing is { DeviceId.Length: > 0 } ? existing.DeviceId : DeviceIdentity.FromMachineName());
        if (existing is { DeviceId.Length: > 0 } && existing.DeviceId != deviceId)
        {
            // The library would accept a new id, but this home's history in the repository is under the old one.
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"{home.Root} is already set up as device '{existing.DeviceId}'; a home keeps its device id. Leave out --device, or use another --home for device '{deviceId}'.");
        }

        // The passphrase first: a setup that cannot get one leaves no trace, not even the folder (FileSystemBackend creates it).
        string fullPath = Path.GetFullPath(path);
        bool joining = Directory.Exists(fullPath) && await Backends.HoldsRepositoryAsync(new FileSystemBackend(fullPath), cancellationToken).ConfigureAwait(false);
        if (existing is { RepositoryId.Length: > 0 } && !joining)
        {
            // SetupAsync would create a repository there before noticing that this home belongs to another one.
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"{home.Root} already syncs with repository {existing.RepositoryId}, and {fullPath} holds no repository. Give the folder that holds it, or use another --home to create a new repository.");
        }

        string passphrase = Passphrase.Require(newRepository: !joining, fullPath);
        var storage = new FileSystemBackend(fullPath);
        var configuration = new SyncConfiguration
        {
            Backend = Backends.Folder,
            Settings = { ["path"] = fullPath },
            DeviceId = deviceId,
            DeviceName = deviceName ?? (existing is { DeviceName.Length: > 0 } ? existing.DeviceName : deviceId),
        };
        using MemorySyncManager manager = await MemorySyncManager.SetupAsync(storage, configuration, passphrase, new GhostieSyncOptions { Home = home.Root },
            cancellationToken: cancellationToken).ConfigureAwait(false);

        context.Report(new SetupDocument(home.Root, Backends.Folder, fullPath, manager.DeviceId, manager.DeviceName, manager.Keys.RepositoryId, !joining),
            CliJson.Output.SetupDocument,
            joining ? $"Joined repository {manager.Keys.RepositoryId} in {fullPath}." : $"Created repository {manager.Keys.RepositoryId} in {fullPath}.",
            $"This home ({home.Root}) syncs as device '{manager.DeviceId}'. The unlocked key is cached on this device; later commands need no passphrase.",
            joining ? "Next: 'ghostie sync pull' to fetch memories from your other devices." : "Next: 'ghostie sync push' to upload this device's memories.");

        return ExitCodes.Success;
    }

    private static Command Transfer(CliApplication app, string name, string description)
    {
        var command = new Command(name, description);
        bool push = name == "push";
        app.SetAction(command, (context, _, cancellationToken) => TransferAsync(context, push, cancellationToken));
        return command;
    }

    private static async Task<int> TransferAsync(CliContext context, bool push, CancellationToken cancellationToken)
    {
        using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
        Func<IProgress<SyncProgress>?, Task<SyncResult>> run = push
            ? progress => manager.PushAsync(progress, cancellationToken)
            : progress => manager.PullAsync(progress, cancellationToken);
        SyncResult result = context.ShowProgress
            ? await SyncProgressBars.RunAsync<SyncResult>(progress => run(progress)).ConfigureAwait(false)
            : await run(null).ConfigureAwait(false);
        int conflicts = manager.ListConflicts().Count;

        if (context.Json)
        {
            context.Document(new TransferDocument(push ? "push" : "pull", result.Uploaded, result.Downloaded, result.NewConflicts, conflicts,
                result.ObjectsWritten, result.ObjectsRead, result.Success, result.Problems.Select(ProblemDocument.From).ToArray()), CliJson.Output.TransferDocument);
        }
        else
        {
            context.Line(push
                ? result.Uploaded > 0 ? $"Pushed {Count(result.Uploaded, "change")} ({Count(result.ObjectsWritten, "object")} written)." : "Nothing to push."
                : result.Downloaded > 0 ? $"Pulled {Count(result.Downloaded, "change")} from other devices." : "Already up to date.");
            if (result.NewConflicts > 0)
            {
                context.Line($"{Count(result.NewConflicts, "new conflict")} detected.");
            }
        }

        foreach (SyncProblem problem in result.Problems)
        {
            context.Warn($"problem ({problem.Code}): {problem.Message}");
        }

        if (conflicts > 0 && !context.Json)
        {
            context.Warn($"{Count(conflicts, "memory")} in conflict. See 'ghostie sync conflict list', then resolve each with 'ghostie sync conflict resolve <id> --keep mine|theirs|both'.");
        }

        return result.Success ? ExitCodes.Success : ExitCodes.CompletedWithProblems;
    }

    private static Command Status(CliApplication app)
    {
        var command = new Command("status", "Show this device's sync status, from local state.");
        app.SetAction(command, StatusAsync);
        return command;
    }

    private static async Task<int> StatusAsync(CliContext context, ParseResult parse, CancellationToken cancellationToken)
    {
        using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
        SyncStatus status = await manager.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        if (context.Json)
        {
            context.Document(new StatusDocument(status.Backend, status.DeviceId, status.RepositoryId, status.LastSync, status.LocalCount, status.CloudCount,
                status.PendingPush, status.ConflictCount, status.KnownDevices.Select(d => new DeviceDocument(d.DeviceId, d.DeviceName, d.IsThisDevice, d.LastSeen)).ToArray()),
                CliJson.Output.StatusDocument);
            return ExitCodes.Success;
        }

        context.Line($"Backend:         {status.Backend}");
        context.Line($"Device ID:       {status.DeviceId}");
        context.Line($"Repository:      {status.RepositoryId}");
        context.Line($"Last Sync:       {Time(status.LastSync)}");
        context.Line($"Local Memories:  {status.LocalCount}");
        context.Line($"Cloud Memories:  {status.CloudCount}");
        context.Line($"Pending push:    {status.PendingPush}");
        context.Line($"Conflicts:       {status.ConflictCount}");
        context.Line($"Known Devices:   {status.KnownDevices.Count}");
        foreach (DeviceInfo known in status.KnownDevices)
        {
            string name = known.DeviceName.Length > 0 && known.DeviceName != known.DeviceId ? $" \"{known.DeviceName}\"" : "";
            string seen = known.IsThisDevice ? "this device" : "last seen " + Time(known.LastSeen);
            context.Line($"  - {known.DeviceId}{name} ({seen})");
        }

        return ExitCodes.Success;
    }

    private static Command Forget(CliApplication app)
    {
        var command = new Command("forget",
            "Forget the unlocked key cached on this device (keys/master.key is overwritten and deleted). Memories and sync settings stay; the next sync asks for the passphrase.");
        app.SetAction(command, (context, _, _) =>
        {
            var cache = Ghostie.Sync.Crypto.DeviceKeyCache.ForHome(context.Home.Root);
            bool forgotten = cache.Forget();
            context.Report(new ForgetDocument(forgotten, cache.FilePath), CliJson.Output.ForgetDocument,
                forgotten ? $"Forgot the cached key ({cache.FilePath}). The next sync on this device needs the passphrase." : $"No key was cached on this device ({cache.FilePath}).");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    internal static string Time(DateTimeOffset? time) =>
        time is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "never";

    internal static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {(noun.EndsWith('y') ? noun[..^1] + "ie" : noun)}s";
}
