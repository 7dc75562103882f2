using System.CommandLine;
using System.Globalization;
using Ghostie.Cli.Output;
using Ghostie.Sync;
using Ghostie.Sync.Backends.FileSystem;
using Microsoft.Extensions.Logging;

namespace Ghostie.Cli.Commands;

/// <summary><c>ghostie sync setup | push | pull | status | watch | conflict ...</c></summary>
internal static class SyncCommands
{
    public static Command Create(CliApplication app)
    {
        var sync = new Command("sync", "Set up and run the encrypted sync of this Ghostie home with a repository shared by your devices. The seed's spelling 'ghostie --sync <command>' works too.");
        sync.Subcommands.Add(Setup(app));
        sync.Subcommands.Add(Transfer(app, "push", "Upload this device's new, edited and deleted memories."));
        sync.Subcommands.Add(Transfer(app, "pull", "Download and apply other devices' changes (local changes are committed first, so none is lost)."));
        sync.Subcommands.Add(Status(app));
        sync.Subcommands.Add(WatchCommand.Create(app));
        sync.Subcommands.Add(Forget(app));
        sync.Subcommands.Add(RenameDevice(app));
        sync.Subcommands.Add(ConflictCommands.Create(app));
        sync.Subcommands.Add(CredentialsCommands.Create(app));
        return sync;
    }

    private static Command Setup(CliApplication app)
    {
        var backend = new Option<string>("--backend")
        {
            Description = $"The repository's storage: {string.Join(", ", Backends.Available)}. Default: folder.",
            DefaultValueFactory = _ => Backends.Folder,
        };
        var path = new Option<string>("--path") { Description = "folder: the repository folder (local, USB disk, network share, or a folder another tool syncs).", HelpName = "folder" };
        var bucket = new Option<string>("--bucket") { Description = "s3: the bucket.", HelpName = "name" };
        var container = new Option<string>("--container") { Description = "azure: the blob container.", HelpName = "name" };
        var account = new Option<string>("--account") { Description = "azure: the storage account name.", HelpName = "name" };
        var endpoint = new Option<string>("--endpoint")
        {
            Description = "s3: the service URL of an S3-compatible store (MinIO, R2, B2); azure: the blob service URL (default https://ACCOUNT.blob.core.windows.net); gist: the API URL (default https://api.github.com).",
            HelpName = "url",
        };
        var prefix = new Option<string>("--prefix") { Description = "s3, azure: a key prefix, so one bucket or container holds several repositories.", HelpName = "prefix" };
        var region = new Option<string>("--region") { Description = "s3: the region (default $AWS_REGION, else us-east-1).", HelpName = "region" };
        var pathStyle = new Option<bool>("--path-style") { Description = "s3: path-style addressing (http://host/bucket/key), needed by most S3-compatible servers." };
        var profile = new Option<string>("--profile") { Description = "s3: an AWS shared-credentials profile to use instead of keys.", HelpName = "name" };
        var tag = new Option<string>("--tag") { Description = "gist: names this repository's gists, so one account can hold several (default: default).", HelpName = "tag" };
        var create = new Option<bool>("--create", "--create-bucket", "--create-container") { Description = "s3, azure: create the bucket or container if it does not exist." };
        var accessKeyEnv = new Option<string>("--access-key-env") { Description = "s3: the environment variable holding the access key id (default AWS_ACCESS_KEY_ID).", HelpName = "var" };
        var secretEnv = new Option<string>("--secret-env")
        {
            Description = "The environment variable holding the secret: s3 default AWS_SECRET_ACCESS_KEY, azure AZURE_STORAGE_KEY (AZURE_STORAGE_SAS_TOKEN is also read), gist GHOSTIE_GITHUB_TOKEN (GITHUB_TOKEN is also read), postgres GHOSTIE_PG_CONNECTION (the whole connection string). Only its name is saved.",
            HelpName = "var",
        };
        var repository = new Option<string>("--repository") { Description = "postgres: the repository's name in the database (a-z, 0-9, '-', '_'; default: default). The first role to use a name owns it.", HelpName = "name" };
        var clientId = new Option<string>("--client-id")
        {
            Description = "drive: the Google OAuth client id of a \"Desktop app\" client (default $GHOSTIE_DRIVE_CLIENT_ID); dropbox: the app key (default $GHOSTIE_DROPBOX_APP_KEY). None is shipped; see docs/backends/oauth.md.",
            HelpName = "id",
        };
        var folderOption = new Option<string>("--folder") { Description = "drive: a Drive folder id to keep the repository in (scope drive.file) instead of the app data folder; dropbox: a folder inside the app folder.", HelpName = "folder" };
        var noBrowser = new Option<bool>("--no-browser") { Description = "drive, dropbox: authorize without opening a browser here: open the address shown on any device and paste back the code (or, for Google, the address it ends on)." };
        var redirectPort = new Option<int?>("--redirect-port") { Description = "dropbox: the port of the loopback redirect URI registered for the app (default 53682).", HelpName = "port" };
        var authUrl = new Option<string>("--auth-url") { Description = "drive, dropbox: the OAuth authorization endpoint, when not the provider's (a test double).", HelpName = "url" };
        var tokenUrl = new Option<string>("--token-url") { Description = "drive, dropbox: the OAuth token endpoint, when not the provider's (a test double).", HelpName = "url" };
        var contentEndpoint = new Option<string>("--content-endpoint") { Description = "dropbox: the content host, when not https://content.dropboxapi.com/ (a test double).", HelpName = "url" };
        var device = new Option<string>("--device") { Description = "This device's id (letters, digits, '-', '_', '.'). Default: the machine name, lowercased.", HelpName = "id" };
        var deviceName = new Option<string>("--device-name") { Description = "A display name other devices see. Default: the device id.", HelpName = "name" };
        var allowWeak = new Option<bool>(Passphrase.AllowWeakOption) { Description = "Create the repository even with a passphrase rated weak (empty or only spaces is always refused)." };
        var takeOver = new Option<bool>("--take-over-device")
        {
            Description = "Set up even though another Ghostie home writes to the repository under this device id (refused otherwise, exit code 12). Only for this same device set up again after its old home is gone for good: a home still using the id can no longer push or pull (it must run 'ghostie sync rename-device').",
        };
        Option<string> kdf = KeyCommands.KdfOption("the repository's first key file, when setup creates the repository (joining writes no key file)");
        var command = new Command("setup",
            "Join the repository in the given storage, or create it there if it holds none. The passphrase comes from GHOSTIE_PASSPHRASE, else a prompt; the unlocked key is cached on this device (0600). Credentials come from environment variables, else a prompt; a prompted credential is kept encrypted on this device, never in sync/config.json.")
        {
            backend, path, bucket, container, account, endpoint, prefix, region, pathStyle, profile, tag, create, accessKeyEnv, secretEnv, repository, device, deviceName, allowWeak, takeOver, kdf,
            clientId, folderOption, noBrowser, redirectPort, authUrl, tokenUrl, contentEndpoint,
        };
        app.SetAction(command, (context, parse, cancellationToken) =>
        {
            var options = new BackendSetupOptions(parse.GetValue(backend)!, parse.GetValue(path), parse.GetValue(bucket), parse.GetValue(container), parse.GetValue(account),
                parse.GetValue(endpoint), parse.GetValue(prefix), parse.GetValue(region), parse.GetValue(pathStyle), parse.GetValue(profile), parse.GetValue(tag),
                parse.GetValue(accessKeyEnv), parse.GetValue(secretEnv))
            {
                Repository = parse.GetValue(repository), ClientId = parse.GetValue(clientId), Folder = parse.GetValue(folderOption), AuthUrl = parse.GetValue(authUrl),
                TokenUrl = parse.GetValue(tokenUrl), ContentEndpoint = parse.GetValue(contentEndpoint), RedirectPort = parse.GetValue(redirectPort),
            };
            (bool createValue, string? deviceValue, string? nameValue) = (parse.GetValue(create), parse.GetValue(device), parse.GetValue(deviceName));

            // A person at a terminal who left out where the repository is gets asked (docs/cli.md, "Interactive setup");
            // a script (stdin not a terminal) gets the usage error naming the missing option, as before.
            IPrompter? prompter = null;
            if (Backends.Available.Contains(options.Backend, StringComparer.Ordinal) && SetupPrompts.MissingRequired(options) && TerminalPrompter.TryCreate() is { } terminal)
            {
                prompter = terminal;
                (options, createValue, deviceValue, nameValue) = SetupPrompts.Ask(terminal, context.Home, options, parse.GetResult(backend) is { Implicit: false },
                    createValue, deviceValue, nameValue);
            }

            context.KeyDerivation = KeyCommands.Profile(parse.GetValue(kdf));
            return SetupAsync(context, options, createValue, deviceValue, nameValue, parse.GetValue(allowWeak), parse.GetValue(takeOver), prompter, parse.GetValue(noBrowser), cancellationToken);
        });
        return command;
    }

    private static async Task<int> SetupAsync(CliContext context, BackendSetupOptions options, bool create, string? device, string? deviceName, bool allowWeak,
        bool takeOver, IPrompter? prompter, bool noBrowser, CancellationToken cancellationToken)
    {
        Backends.EnsureAvailable(options.Backend);
        Dictionary<string, string> settings = Backends.SettingsFromSetup(options);
        if (device is not null)
        {
            DeviceIdentity.Validate(device);
        }

        GhostieHome home = context.Home;
        SyncConfiguration? existing = home.IsConfigured ? Backends.ReadConfiguration(home) : null;
        string deviceId = device ?? (existing is { DeviceId.Length: > 0 } ? existing.DeviceId : DeviceIdentity.FromMachineName());
        if (existing is { DeviceId.Length: > 0 } && existing.DeviceId != deviceId)
        {
            // The library would accept a new id, but this home's history in the repository is under the old one.
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"{home.Root} is already set up as device '{existing.DeviceId}'; a home keeps its device id. Leave out --device, use another --home for device '{deviceId}', or rename this home's device with 'ghostie sync rename-device {deviceId}'.");
        }

        // Nothing is created before the passphrase is known and confirmed: not the folder (FileSystemBackend would
        // create it), not the bucket or container (--create), and no prompted credential is kept before setup succeeds.
        bool folder = options.Backend == Backends.Folder;
        string? folderPath = folder ? settings["path"] : null;
        var prompted = new Dictionary<string, string>(StringComparer.Ordinal);
        IStorageBackend? storage = null;
        try
        {
            bool joining = false;
            // drive, dropbox: authorize this device first (OAuth, PKCE), unless a token is set in the environment; the
            // refresh token joins the prompted credentials, kept only if setup succeeds.
            await BackendAuthorizations.AuthorizeIfNeededAsync(options.Backend, settings, home, prompted, noBrowser, context, cancellationToken).ConfigureAwait(false);
            if (!(folder && !Directory.Exists(folderPath)))
            {
                try
                {
                    storage = await Backends.CreateAsync(options.Backend, settings, home, prompted, createStore: false, context.Loggers, cancellationToken).ConfigureAwait(false);
                    joining = await Backends.HoldsRepositoryAsync(storage, cancellationToken).ConfigureAwait(false);
                    if (!joining && folder)
                    {
                        Backends.RefuseRepositorySkeleton(folderPath!);
                    }
                }
                catch (GhostieSyncException e) when (create && e.Code == GhostieErrorCode.StorageNotFound)
                {
                    (storage as IDisposable)?.Dispose();
                    storage = null;  // created below, once the passphrase is settled
                }
                catch (GhostieSyncException e) when (!create && e.Code == GhostieErrorCode.StorageNotFound && !folder && options.Backend != Backends.Postgres)
                {
                    // The library's message speaks of its options (CreateContainerIfMissing, ServiceUrl); the user has setup's.
                    string option = options.Backend switch { Backends.Azure => "--create-container", Backends.Dropbox or Backends.Drive => "--create", _ => "--create-bucket" };
                    string check = options.Backend switch
                    {
                        Backends.Azure => "--container and --endpoint or --account",
                        Backends.Dropbox or Backends.Drive => "--folder",
                        _ => "--bucket, --endpoint and --region",
                    };
                    throw new GhostieSyncException(GhostieErrorCode.StorageNotFound,
                        $"{Backends.Describe(options.Backend, settings)} does not exist. Add {option} to create it, or check {check}.", innerException: e);
                }
            }

            string location = storage?.DisplayName ?? folderPath ?? Backends.Describe(options.Backend, settings);
            if (existing is { RepositoryId.Length: > 0 } && !joining)
            {
                // SetupAsync would create a repository there before noticing that this home belongs to another one.
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"{home.Root} already syncs with repository {existing.RepositoryId}, and {location} holds no repository. Give the storage that holds it, or use another --home to create a new repository.");
            }

            string passphrase = joining
                ? Passphrase.Require(newRepository: false, location)
                : Passphrase.ChooseNew(Passphrase.EnvironmentVariable, $"the new repository in {location}", "nothing was set up", allowWeak, context.Warn);
            string chosenName = deviceName ?? (existing is { DeviceName.Length: > 0 } ? existing.DeviceName : deviceId);
            if (prompter is not null)
            {
                // Interactive: the last step before anything is created or written (nothing is, if the answer is no).
                SetupPrompts.ConfirmSummary(prompter, home, options.Backend, location, joining, deviceId, chosenName, prompted.Keys, create);
            }

            storage ??= await Backends.CreateAsync(options.Backend, settings, home, prompted, createStore: create, context.Loggers, cancellationToken).ConfigureAwait(false);
            var configuration = new SyncConfiguration
            {
                Backend = options.Backend,
                Settings = settings,
                DeviceId = deviceId,
                DeviceName = chosenName,
            };
            using MemorySyncManager manager = await MemorySyncManager.SetupAsync(storage, configuration, passphrase, new GhostieSyncOptions { Home = home.Root },
                context.KeyOptions(), context.Loggers.CreateLogger<MemorySyncManager>(), takeOver, cancellationToken).ConfigureAwait(false);
            Backends.SavePrompted(home, prompted);

            string where = folderPath ?? storage.DisplayName;
            context.Report(new SetupDocument(home.Root, options.Backend, where, manager.DeviceId, manager.DeviceName, manager.Keys.RepositoryId, !joining),
                CliJson.Output.SetupDocument,
                joining ? $"Joined repository {manager.Keys.RepositoryId} in {where}." : $"Created repository {manager.Keys.RepositoryId} in {where}.",
                $"This home ({home.Root}) syncs as device '{manager.DeviceId}'. The unlocked key is cached on this device; later commands need no passphrase.",
                joining ? "Next: 'ghostie sync pull' to fetch memories from your other devices." : "Next: 'ghostie sync push' to upload this device's memories.");
        }
        finally
        {
            (storage as IDisposable)?.Dispose();
        }

        return ExitCodes.Success;
    }

    private static Command Transfer(CliApplication app, string name, string description)
    {
        Option<double?> wait = BusyWait.CreateOption();
        var command = new Command(name, description) { wait };
        bool push = name == "push";
        app.SetAction(command, (context, parse, cancellationToken) => TransferAsync(context, push, parse.GetValue(wait), cancellationToken));
        return command;
    }

    private static async Task<int> TransferAsync(CliContext context, bool push, double? wait, CancellationToken cancellationToken)
    {
        using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
        Func<IProgress<SyncProgress>?, Task<SyncResult>> run = push
            ? progress => BusyWait.RunAsync(context, wait, () => manager.PushAsync(progress, cancellationToken), cancellationToken)
            : progress => BusyWait.RunAsync(context, wait, () => manager.PullAsync(progress, cancellationToken), cancellationToken);
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
                : result.Downloaded > 0 ? $"Pulled {Count(result.Downloaded, "change")} from other devices."
                : result.Success ? "Already up to date." : "Nothing new pulled, but not up to date: see the problems below.");
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
        string epoch = KeyCommands.Epoch(manager.Keys.CurrentEpoch);
        if (context.Json)
        {
            context.Document(new StatusDocument(status.Backend, status.DeviceId, status.RepositoryId, status.LastSync, status.LocalCount, status.CloudCount,
                status.PendingPush, status.ConflictCount, epoch, status.KnownDevices.Select(d => new DeviceDocument(d.DeviceId, d.DeviceName, d.IsThisDevice, d.LastSeen)).ToArray()),
                CliJson.Output.StatusDocument);
            return ExitCodes.Success;
        }

        context.Line($"Backend:         {status.Backend}");
        context.Line($"Device ID:       {status.DeviceId}");
        context.Line($"Repository:      {status.RepositoryId}");
        context.Line($"Last Sync:       {Time(status.LastSync)}");
        context.Line($"Local Memories:  {status.LocalCount}");
        context.Line($"Cloud Memories:  {status.CloudCount} (as of last sync)");
        context.Line($"Pending push:    {status.PendingPush}{(status.PendingPush > 0 ? " (not yet in the repository)" : "")}");
        context.Line($"Conflicts:       {status.ConflictCount}");
        context.Line($"Key epoch:       {epoch}");
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
            "Forget the unlocked key cached on this device (keys/master.key is overwritten and deleted) and any backend credentials stored on it. Memories and sync settings stay; the next sync asks for the passphrase.");
        app.SetAction(command, (context, _, _) =>
        {
            var cache = Ghostie.Sync.Crypto.DeviceKeyCache.ForHome(context.Home.Root);
            bool forgotten = cache.Forget();
            bool credentials = Backends.ForgetCredentials(context.Home);
            string line = forgotten ? $"Forgot the cached key ({cache.FilePath}). The next sync on this device needs the passphrase." : $"No key was cached on this device ({cache.FilePath}).";
            string[] lines = credentials ? [line, "Forgot the backend credentials stored on this device; set them in the environment or run 'ghostie sync setup' again."] : [line];
            context.Report(new ForgetDocument(forgotten, cache.FilePath, credentials), CliJson.Output.ForgetDocument, lines);
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command RenameDevice(CliApplication app)
    {
        var id = new Argument<string>("new-id") { Description = "The new device id (letters, digits, '-', '_', '.'), not used in the repository yet." };
        var deviceName = new Option<string>("--device-name") { Description = "A display name other devices see. Default: the new device id.", HelpName = "name" };
        var command = new Command("rename-device",
            "Give this home a new device id, keeping its memories and every change not yet pushed: the way back for a home that another home's setup locked out (exit code 12). Nothing is written to the repository; the next push uploads the changes under the new id.")
        {
            id, deviceName,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            string newId = parse.GetValue(id)!;
            DeviceIdentity.Validate(newId);
            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            string previous = manager.DeviceId;
            await manager.RenameDeviceAsync(newId, parse.GetValue(deviceName), cancellationToken).ConfigureAwait(false);
            SyncStatus status = await manager.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            context.Report(new RenameDeviceDocument(previous, manager.DeviceId, manager.DeviceName, status.PendingPush), CliJson.Output.RenameDeviceDocument,
                $"This home ({context.Home.Root}) now syncs as device '{manager.DeviceId}' (was '{previous}'); its memories are kept.",
                status.PendingPush > 0
                    ? $"Next: 'ghostie sync push' to upload its {Count(status.PendingPush, "pending change")} under the new id."
                    : "Next: 'ghostie sync pull' to continue syncing under the new id.");
            return ExitCodes.Success;
        });
        return command;
    }

    internal static string Time(DateTimeOffset? time) =>
        time is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "never";

    internal static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {(noun.EndsWith('y') ? noun[..^1] + "ie" : noun)}s";
}
