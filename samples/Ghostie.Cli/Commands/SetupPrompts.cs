using Ghostie.Sync;

namespace Ghostie.Cli.Commands;

/// <summary>
/// The interactive <c>ghostie sync setup</c>: on a terminal, when the options that say where the repository is are
/// missing, ask for them (backend, its settings, this device's id and name) with defaults, and before anything is
/// written show a summary and ask to go on. Options given on the command line are not asked again. Credentials and
/// the passphrase are asked by the usual setup steps (they are never echoed). Scripts keep the flag-only form: with
/// stdin not a terminal nothing is asked.
/// </summary>
internal static class SetupPrompts
{
    private const int Attempts = 3;

    /// <summary>Whether <paramref name="options"/> lacks a setting its backend requires (so setup would stop with a usage error).</summary>
    public static bool MissingRequired(BackendSetupOptions options) => options.Backend switch
    {
        Backends.Folder => string.IsNullOrWhiteSpace(options.Path),
        Backends.S3 => string.IsNullOrWhiteSpace(options.Bucket),
        Backends.Azure => string.IsNullOrWhiteSpace(options.Container) || (string.IsNullOrWhiteSpace(options.Account) && string.IsNullOrWhiteSpace(options.Endpoint)),
        _ => false,
    };

    /// <summary>Asks for what is missing; returns the completed options, device id and device name.</summary>
    /// <param name="prompter">The terminal.</param>
    /// <param name="home">The Ghostie home (a home already set up keeps its device id, which is not asked).</param>
    /// <param name="given">The options from the command line.</param>
    /// <param name="backendGiven">Whether <c>--backend</c> was on the command line.</param>
    /// <param name="create">The value of <c>--create</c>.</param>
    /// <param name="device">The value of <c>--device</c>.</param>
    /// <param name="deviceName">The value of <c>--device-name</c>.</param>
    /// <exception cref="PromptCancelledException">Ctrl+C or Ctrl+D at a prompt.</exception>
    public static (BackendSetupOptions Options, bool Create, string Device, string DeviceName) Ask(IPrompter prompter, GhostieHome home,
        BackendSetupOptions given, bool backendGiven, bool create, string? device, string? deviceName)
    {
        prompter.Say($"Setting up sync for {home.Root}. Press Enter to take the [default]; Ctrl+C stops without writing anything.");
        string backend = backendGiven ? given.Backend : AskUntil(prompter, $"Backend ({string.Join(", ", Backends.Available)}):", Backends.Folder, answer =>
            Backends.Available.Contains(answer.ToLowerInvariant(), StringComparer.Ordinal) ? null : $"'{answer}' is not a backend; use one of: {string.Join(", ", Backends.Available)}.")
            .ToLowerInvariant();

        BackendSetupOptions options = given with { Backend = backend };
        for (int attempt = 1; ; attempt++)
        {
            (options, create) = AskSettings(prompter, options, create);
            try
            {
                Backends.SettingsFromSetup(options);
                break;
            }
            catch (GhostieSyncException e) when (e.Code == GhostieErrorCode.InvalidArgument && attempt < Attempts)
            {
                prompter.Say(e.Message);
                options = given with { Backend = backend };
            }
        }

        SyncConfiguration? existing = home.IsConfigured ? Backends.ReadConfiguration(home) : null;
        string id;
        if (device is not null || existing is { DeviceId.Length: > 0 })
        {
            id = device ?? existing!.DeviceId;  // a home keeps its device id; setup checks a --device against it
        }
        else
        {
            id = AskUntil(prompter, "This device's id (letters, digits, '-', '_', '.'):", DeviceIdentity.FromMachineName(), answer =>
            {
                try
                {
                    DeviceIdentity.Validate(answer);
                    return null;
                }
                catch (GhostieSyncException e)
                {
                    return e.Message;
                }
            });
        }

        string name = deviceName ?? AskUntil(prompter, "The name other devices show for it:", existing is { DeviceName.Length: > 0 } ? existing.DeviceName : id,
            answer => answer.Any(char.IsControl) ? "A device name is one line of text." : null);
        return (options, create, id, name);
    }

    /// <summary>Shows what setup is about to do and asks to go on; a "no" stops it with nothing written.</summary>
    /// <exception cref="PromptCancelledException">The answer is no, or Ctrl+C or Ctrl+D.</exception>
    public static void ConfirmSummary(IPrompter prompter, GhostieHome home, string backend, string location, bool joining, string deviceId, string deviceName,
        IReadOnlyCollection<string> typedCredentials, bool create)
    {
        prompter.Say("");
        prompter.Say("Summary:");
        prompter.Say($"  Home:        {home.Root}");
        prompter.Say($"  Backend:     {backend}");
        prompter.Say($"  Repository:  {location} ({(joining ? "join the repository there" : "create a new repository there" + (create && backend is Backends.S3 or Backends.Azure ? ", creating the bucket or container if missing" : ""))})");
        prompter.Say($"  Device:      {deviceId}{(deviceName != deviceId ? $" (\"{deviceName}\")" : "")}");
        if (typedCredentials.Count > 0)
        {
            prompter.Say("  Credentials: as typed, kept encrypted on this device (never in sync/config.json)");
        }

        prompter.Say($"  Key:         the unlocked key is cached on this device ({Path.Combine(home.Root, "keys", "master.key")}, 0600)");
        if (!prompter.Confirm("Write this setup?", defaultValue: true))
        {
            throw new PromptCancelledException("Setup cancelled at the summary.");
        }
    }

    private static (BackendSetupOptions Options, bool Create) AskSettings(IPrompter prompter, BackendSetupOptions o, bool create)
    {
        switch (o.Backend)
        {
            case Backends.Folder:
                return (o with
                {
                    Path = o.Path ?? ExpandHome(AskUntil(prompter, "Repository folder (local, USB disk, network share, or a folder another tool syncs):", null, Required)),
                }, create);
            case Backends.S3:
            {
                string bucket = o.Bucket ?? AskUntil(prompter, "S3 bucket:", null, Required);
                string? endpoint = o.Endpoint ?? Optional(prompter.Ask("Service URL of an S3-compatible store (MinIO, R2, B2; empty for AWS):", ""));
                bool pathStyle = o.PathStyle || (endpoint is not null && prompter.Confirm("Path-style addressing (most S3-compatible servers need it)?", defaultValue: true));
                string? region = o.Region ?? Optional(prompter.Ask("Region:", Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } r ? r : "us-east-1"));
                string? prefix = o.Prefix ?? Optional(prompter.Ask("Key prefix, so one bucket holds several repositories (empty for none):", ""));
                bool createBucket = create || prompter.Confirm($"Create the bucket '{bucket}' if it does not exist?", defaultValue: false);
                return (o with { Bucket = bucket, Endpoint = endpoint, PathStyle = pathStyle, Region = region, Prefix = prefix }, createBucket);
            }

            case Backends.Azure:
            {
                string container = o.Container ?? AskUntil(prompter, "Azure blob container:", null, Required);
                string? account = o.Account ?? (o.Endpoint is null ? Optional(prompter.Ask("Storage account name (empty to give a service URL instead):", "")) : null);
                string? endpoint = o.Endpoint ?? (account is null
                    ? AskUntil(prompter, "Blob service URL (for Azurite: http://127.0.0.1:10000/devstoreaccount1):", null, Required)
                    : null);
                string? prefix = o.Prefix ?? Optional(prompter.Ask("Blob name prefix, so one container holds several repositories (empty for none):", ""));
                bool createContainer = create || prompter.Confirm($"Create the container '{container}' if it does not exist?", defaultValue: false);
                return (o with { Container = container, Account = account, Endpoint = endpoint, Prefix = prefix }, createContainer);
            }

            case Backends.Postgres:
            {
                // The connection string itself is never asked for nor saved: setup reads it from the variable each time.
                string repository = o.Repository ?? AskUntil(prompter, "Repository name in the database (a-z, 0-9, '-', '_'):", "default", Required);
                string? secretEnv = o.SecretEnv ?? Optional(prompter.Ask("Environment variable holding the connection string:", Backends.PostgresConnectionVariable));
                return (o with { Repository = repository, SecretEnv = secretEnv == Backends.PostgresConnectionVariable ? null : secretEnv }, create);
            }

            case Backends.Drive:
            case Backends.Dropbox:
            {
                bool drive = o.Backend == Backends.Drive;
                string variable = drive ? Ghostie.Sync.Backends.GoogleDrive.GoogleDriveOAuthOptions.ClientIdVariable : Ghostie.Sync.Backends.Dropbox.DropboxOAuthOptions.AppKeyVariable;
                string? clientId = o.ClientId ?? Optional(prompter.Ask(drive ? "Google OAuth client id (a \"Desktop app\" client; none is shipped):" : "Dropbox app key (an App folder app; none is shipped):",
                    Environment.GetEnvironmentVariable(variable) ?? ""));
                string? folder = o.Folder ?? Optional(prompter.Ask(drive ? "Drive folder id (empty for the hidden app data folder):" : "Folder inside the app folder (empty for the app folder itself):", ""));
                return (o with { ClientId = clientId, Folder = folder }, create);
            }

            default:
            {
                string tag = o.Tag ?? prompter.Ask("Tag naming this repository's gists:", "default");
                string? api = o.Endpoint ?? Optional(prompter.Ask("GitHub API URL (GitHub Enterprise: https://HOST/api/v3):", "https://api.github.com"));
                return (o with { Tag = tag, Endpoint = api == "https://api.github.com" ? null : api }, create);
            }
        }
    }

    /// <summary>Asks until <paramref name="problem"/> finds nothing wrong with the answer (three tries, then a usage error).</summary>
    private static string AskUntil(IPrompter prompter, string question, string? defaultValue, Func<string, string?> problem)
    {
        for (int attempt = 1; ; attempt++)
        {
            string answer = prompter.Ask(question, defaultValue);
            if (problem(answer) is not { } wrong)
            {
                return answer;
            }

            if (attempt == Attempts)
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{wrong} Nothing was set up; run 'ghostie sync setup' again, or give the options on the command line.");
            }

            prompter.Say(wrong);
        }
    }

    private static string? Required(string answer) => answer.Length == 0 ? "An answer is needed here." : null;

    private static string? Optional(string answer) => answer.Length == 0 ? null : answer;

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "")
            : path;
}
