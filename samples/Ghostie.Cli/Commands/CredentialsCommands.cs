using System.CommandLine;
using Ghostie.Cli.Output;
using Ghostie.Sync;
using Ghostie.Sync.Crypto;

namespace Ghostie.Cli.Commands;

/// <summary><c>ghostie sync credentials rotate</c>: replace the backend credential stored on this device.</summary>
internal static class CredentialsCommands
{
    public static Command Create(CliApplication app)
    {
        var credentials = new Command("credentials", "The backend credentials stored on this device (encrypted, never in sync/config.json).");
        credentials.Subcommands.Add(Rotate(app));
        return credentials;
    }

    private static Command Rotate(CliApplication app)
    {
        var noBrowser = new Option<bool>("--no-browser") { Description = "drive, dropbox: authorize without opening a browser here (paste the code instead)." };
        var command = new Command("rotate",
            "Replace this device's credential for the repository's storage: drive and dropbox authorize again (OAuth) for a new refresh token; s3, azure and gist ask for the new key, SAS or token on the terminal. The new credential is checked against the repository first; if the check fails the old one stays. The repository's data is not touched.")
        {
            noBrowser,
        };
        app.SetAction(command, (context, parse, cancellationToken) => RotateAsync(context, parse.GetValue(noBrowser), cancellationToken));
        return command;
    }

    private static async Task<int> RotateAsync(CliContext context, bool noBrowser, CancellationToken cancellationToken)
    {
        GhostieHome home = context.Home;
        SyncConfiguration configuration = Backends.ReadConfiguration(home);
        string backend = configuration.Backend;
        IReadOnlyDictionary<string, string> settings = configuration.Settings;
        switch (backend)
        {
            case Backends.Folder:
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "This home syncs with a folder repository, which has no credential to rotate.");
            case Backends.Postgres:
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"The postgres backend reads its connection string from {settings.GetValueOrDefault("connection_env") ?? Backends.PostgresConnectionVariable} on every run and never stores it: change that variable to rotate the password.");
        }

        IStorageBackendFactory factory = Backends.FindFactory(backend)
            ?? throw new GhostieSyncException(GhostieErrorCode.UnsupportedFormat, $"{home.ConfigPath} uses the backend '{backend}', which this version of ghostie does not support.");
        var store = new DeviceSecretStore(home.Root);
        var fresh = new RotationSecretSource();
        if (factory is IAuthorizingBackendFactory authorizing)
        {
            IReadOnlyDictionary<string, string> obtained = await authorizing.AuthorizeAsync(settings, new CliSecretSource(store, null),
                BackendAuthorizations.CreatePrompt(noBrowser, context), cancellationToken).ConfigureAwait(false);
            foreach ((string name, string value) in obtained)
            {
                fresh.Values[name] = value;
            }

            if (authorizing.HasCredentialInEnvironment(settings, Environment.GetEnvironmentVariable))
            {
                context.Warn($"A {backend} token is set in the environment and is used before the stored credential; unset it for the new authorization to take effect.");
            }
        }

        // Build the backend with the new credential only (never the stored or environment one), and check it reaches the
        // repository: the old credential is replaced only after that.
        IStorageBackend storage;
        try
        {
            storage = await factory.CreateAsync(settings, fresh, context.Loggers, createStore: false, cancellationToken).ConfigureAwait(false);
        }
        catch (MissingBackendCredentialException e)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"Rotating the {backend} credential needs a terminal to type the new one on. Nothing was replaced; run 'ghostie sync credentials rotate' on a terminal.", innerException: e);
        }

        string where;
        using (storage as IDisposable)
        {
            where = storage.DisplayName;
            if (fresh.Values.Count == 0)
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"No new credential was given for {where} (it comes from an AWS profile or another source ghostie does not store). Nothing was replaced.");
            }

            if (!await Backends.HoldsRepositoryAsync(storage, cancellationToken).ConfigureAwait(false))
            {
                throw new GhostieSyncException(GhostieErrorCode.NotFound,
                    $"The new credential reaches {where}, but no repository is there (another account, or another app's folder?). Nothing was replaced; the stored credential stays.");
            }
        }

        store.SetMany(fresh.Values);
        foreach (BackendSecret overridden in fresh.Kept.Where(s => s.EnvironmentVariable is { Length: > 0 } v && Environment.GetEnvironmentVariable(v) is { Length: > 0 }))
        {
            context.Warn($"{overridden.EnvironmentVariable} is set and is used before the stored credential; update or unset it.");
        }

        string[] names = [.. fresh.Values.Keys.Order(StringComparer.Ordinal)];
        context.Report(new CredentialsRotatedDocument(backend, where, names), CliJson.Output.CredentialsRotatedDocument,
            $"Replaced this device's {backend} credential ({string.Join(", ", names)}) after checking it reaches the repository in {where}.",
            "The repository and the memories were not touched; other devices keep their own credentials.");
        return ExitCodes.Success;
    }

    /// <summary>Gives the factory only the new credential: what the authorization returned, else a prompt on the terminal
    /// (never the environment or the stored one, so the check is of the new credential).</summary>
    private sealed class RotationSecretSource : IBackendSecretSource
    {
        public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

        public List<BackendSecret> Kept { get; } = [];

        public string? GetSecret(BackendSecret secret) => Values.GetValueOrDefault(secret.Name);

        public string? AskSecret(BackendSecret secret, string prompt, bool echo) =>
            Console.IsInputRedirected ? null : Prompt.Secret("New credential. " + prompt, echo);

        public void KeepSecret(BackendSecret secret, string value)
        {
            Values[secret.Name] = value;
            Kept.Add(secret);
        }
    }
}
