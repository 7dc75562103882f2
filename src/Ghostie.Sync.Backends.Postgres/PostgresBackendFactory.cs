using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.Postgres;

/// <summary>
/// Builds the PostgreSQL backend ("postgres") from saved settings: "repository" (required) and "connection_env", the
/// variable the connection string is read from (default GHOSTIE_PG_CONNECTION). The connection string holds the password,
/// so it is read from the environment every time and never stored, prompted for or kept by a secret source.
/// </summary>
public sealed class PostgresBackendFactory : IStorageBackendFactory<PostgresBackendOptions>
{
    /// <summary>The backend's name, "postgres".</summary>
    public const string BackendName = "postgres";

    /// <summary>The variable the connection string is read from unless the settings name another.</summary>
    public const string ConnectionVariable = "GHOSTIE_PG_CONNECTION";

    /// <inheritdoc/>
    public string Name => BackendName;

    /// <inheritdoc/>
    public string Describe(IReadOnlyDictionary<string, string> settings) => $"PostgreSQL repository '{BackendSettings.Optional(settings, "repository")}'";

    /// <inheritdoc/>
    public Dictionary<string, string> GetSettings(PostgresBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new Dictionary<string, string>(StringComparer.Ordinal) { ["repository"] = options.Repository, ["connection_env"] = ConnectionVariable };
    }

    /// <inheritdoc/>
    public Task<IStorageBackend> CreateAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets, bool createStore = false,
        CancellationToken cancellationToken = default) =>
        CreateAsync(settings, secrets, NullLoggerFactory.Instance, createStore, cancellationToken);

    /// <inheritdoc/>
    public async Task<IStorageBackend> CreateAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets, ILoggerFactory loggerFactory,
        bool createStore = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(secrets);
        string variable = BackendSettings.Optional(settings, "connection_env") ?? ConnectionVariable;
        if (secrets.GetSecret(new BackendSecret("postgres.connection_string", variable)) is not { } connectionString)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"No PostgreSQL connection string was found for repository '{BackendSettings.Optional(settings, "repository")}': set {variable} to an Npgsql connection string (Host=...;Database=...;Username=...;Password=...). It is read from the environment every time and never stored.");
        }

        // Connects once now, so a wrong password, a missing database or another role's repository is reported here.
        return await PostgresBackend.CreateAsync(new PostgresBackendOptions
        {
            ConnectionString = connectionString,
            Repository = BackendSettings.Required(settings, "repository", BackendName),
        }, loggerFactory.CreateLogger<PostgresBackend>(), cancellationToken).ConfigureAwait(false);
    }
}
