using System.Runtime.CompilerServices;
using Ghostie.Sync.Backends.Postgres.Internal;
using Ghostie.Sync.Shared;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Ghostie.Sync.Backends.Postgres;

/// <summary>
/// A repository in a PostgreSQL database: one row per object in <c>&lt;schema&gt;.objects</c>, keyed by (repository,
/// name), with a random version that compare-and-swap writes check; the bytes in rows of
/// <see cref="PostgresBackendOptions.ChunkSizeBytes"/> in <c>&lt;schema&gt;.chunks</c>, written and read one chunk at a
/// time. Many users' repositories share one database: the login role is the tenant, and row-level security lets it reach
/// only the repositories it owns. The schema is created (or migrated) on first use when the role may.
/// </summary>
/// <remarks>
/// A write is atomic: its last chunk, the object's row and the removal of the previous version's chunks commit in one
/// transaction (earlier chunks of a large object are written first, under a version no row points to yet), so a reader
/// sees the old object or the new one, never a mix, and a failed or cancelled write leaves the old object. Every
/// statement is retried through <see cref="BackendRetry"/>; a retried commit whose first answer was lost recognises its own
/// version and reports success. Thread-safe; dispose it to close its connection pool.
/// </remarks>
public sealed partial class PostgresBackend : IConditionalStorageBackend, IAsyncDisposable, IDisposable
{
    private const int ListPageSize = 1000;

    private readonly NpgsqlDataSource _source;
    private readonly string _s;
    private readonly string _where;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _readyLock = new(1, 1);
    private volatile bool _ready;
    private bool _disposed;

    /// <summary>Creates the backend. Nothing is sent to the server until the first operation, which checks (and if
    /// allowed creates or migrates) the schema and claims the repository name for the role.</summary>
    /// <param name="options">The options (validated here).</param>
    /// <param name="logger">An optional logger (never given the connection string or a password).</param>
    /// <exception cref="GhostieSyncException">Invalid options (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public PostgresBackend(PostgresBackendOptions options, ILogger<PostgresBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _s = options.Schema;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        NpgsqlConnectionStringBuilder builder = PostgresBackendOptions.TryParse(options.ConnectionString)!;
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "ghostie-sync";
        }

        _where = PgErrors.Where(builder);
        DisplayName = $"PostgreSQL repository '{options.Repository}' in {_where}";
        _source = NpgsqlDataSource.Create(builder);
    }

    /// <summary>The validated options.</summary>
    public PostgresBackendOptions Options { get; }

    /// <summary>The repository's name in the database.</summary>
    public string Repository => Options.Repository;

    /// <inheritdoc />
    /// <remarks>For example "PostgreSQL repository 'alice' in database 'ghostie' at db.example.com:5432 as role 'alice'";
    /// never the password.</remarks>
    public string DisplayName { get; }

    /// <summary>Creates the backend and runs its first-use checks at once (schema, repository claim), so a wrong password,
    /// a missing database or a repository of another role is reported here rather than at the first operation.</summary>
    /// <param name="options">The options.</param>
    /// <param name="logger">An optional logger.</param>
    /// <param name="cancellationToken">Cancels the checks.</param>
    /// <exception cref="GhostieSyncException">As for <see cref="InitializeAsync"/>.</exception>
    public static async Task<PostgresBackend> CreateAsync(PostgresBackendOptions options, ILogger<PostgresBackend>? logger = null, CancellationToken cancellationToken = default)
    {
        var backend = new PostgresBackend(options, logger);
        try
        {
            await backend.InitializeAsync(cancellationToken).ConfigureAwait(false);
            return backend;
        }
        catch
        {
            await backend.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs the first-use checks now (every operation runs them once otherwise): reads the schema version, creates or
    /// migrates the schema when it is missing or older and <see cref="PostgresBackendOptions.CreateSchema"/> allows, checks
    /// that its tables exist, claims the repository name for the role, then removes abandoned upload chunks and applies
    /// <see cref="PostgresBackendOptions.HandoffRetention"/> (best effort: a failure there is logged, not thrown).</summary>
    /// <param name="cancellationToken">Cancels the checks.</param>
    /// <exception cref="GhostieSyncException">Wrong credentials or a role without the grants (<see cref="GhostieErrorCode.AccessDenied"/>);
    /// the repository belongs to another role (<see cref="GhostieErrorCode.AccessDenied"/>); the database, the schema or one of
    /// its tables is missing (<see cref="GhostieErrorCode.StorageNotFound"/>); the schema is newer than this build
    /// (<see cref="UnsupportedFormatException"/>); the server cannot be reached (<see cref="GhostieErrorCode.BackendUnavailable"/>).</exception>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ready)
        {
            return;
        }

        await _readyLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_ready)
            {
                return;
            }

            await RunUncheckedAsync("PostgreSQL open", PrepareAsync, cancellationToken).ConfigureAwait(false);
            _ready = true;
        }
        finally
        {
            _readyLock.Release();
        }

        await HousekeepAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        return WriteAsync(name, content, WriteMode.Put, 0, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The stream reads one chunk at a time, each with its own retried query under the version the read began
    /// with: if the object is replaced or deleted while it is being read, the read fails
    /// (<see cref="GhostieErrorCode.BackendUnavailable"/>, transient: read it again) instead of mixing two versions.</remarks>
    public async Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        Head? head = await RunAsync("PostgreSQL GET " + name, async (connection, ct) =>
        {
            await using NpgsqlCommand command = Command(connection, Sql.Head(_s), name);
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                return null;
            }

            return new Head(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetFieldValue<byte[]>(3));
        }, cancellationToken).ConfigureAwait(false);
        if (head is null)
        {
            return null;
        }

        if (head.Chunks > 0 && head.First is null)
        {
            throw Changed(name, null);
        }

        return new PostgresReadStream(this, name, head.Version, head.Size, head.Chunks, head.First ?? [], Options.ChunkSizeBytes);
    }

    /// <inheritdoc />
    /// <remarks>Pages of 1,000 names by key (never OFFSET), in byte order: the name column is <c>COLLATE "C"</c>.</remarks>
    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        await foreach (PostgresObjectInfo item in ListPagesAsync(prefix, detailed: false, cancellationToken).ConfigureAwait(false))
        {
            yield return item.Name;
        }
    }

    /// <summary>Lists objects under a prefix with what the database knows of them anyway: size and last write time (by the
    /// writer's clock). For handoff packages (<c>x/&lt;recipient tag&gt;/</c>) this lists one device's pending packages
    /// without reading them.</summary>
    /// <param name="prefix">The prefix, possibly empty.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public IAsyncEnumerable<PostgresObjectInfo> ListDetailedAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return ListPagesAsync(prefix, detailed: true, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The row and its chunks go in one statement; a retry after a lost answer reports <see langword="false"/>.</remarks>
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        return RunAsync("PostgreSQL DELETE " + name, async (connection, ct) =>
        {
            await using NpgsqlCommand command = Command(connection, Sql.Delete(_s), name);
            return Convert.ToInt64(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> TryCreateAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        return WriteAsync(name, content, WriteMode.Create, 0, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The version is the object's random 63-bit version number, in decimal. Every write gets a new one, so an
    /// object deleted and written again never matches a version read before.</remarks>
    public Task<string?> GetVersionAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        return RunAsync("PostgreSQL VERSION " + name, async (connection, ct) =>
        {
            await using NpgsqlCommand command = Command(connection, Sql.Version(_s), name);
            object? value = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
            return value is long version ? FormatVersion(version) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> TryReplaceAsync(string name, Stream content, string expectedVersion, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrEmpty(expectedVersion);
        if (!long.TryParse(expectedVersion, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long expected))
        {
            return Task.FromResult(false); // no object ever has that version
        }

        return WriteAsync(name, content, WriteMode.Replace, expected, cancellationToken);
    }

    /// <summary>Closes the connection pool.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _source.DisposeAsync().ConfigureAwait(false);
        _readyLock.Dispose();
    }

    /// <summary>Closes the connection pool.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _source.Dispose();
        _readyLock.Dispose();
    }

    internal static string FormatVersion(long version) => version.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Reads chunk <paramref name="seq"/> of version <paramref name="version"/> into <paramref name="buffer"/> (no
    /// allocation per chunk); fails when that version is gone.</summary>
    /// <returns>The chunk's length.</returns>
    internal Task<int> ReadChunkAsync(string name, long version, int seq, byte[] buffer, CancellationToken cancellationToken) =>
        RunAsync($"PostgreSQL GET {name} (chunk {seq})", async (connection, ct) =>
        {
            await using NpgsqlCommand command = Command(connection, Sql.Chunk(_s), name);
            command.Parameters.Add(new NpgsqlParameter<long>("version", version));
            command.Parameters.Add(new NpgsqlParameter<int>("seq", seq));
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, ct).ConfigureAwait(false);
            if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                throw Changed(name, null);
            }

            await using Stream data = await reader.GetStreamAsync(0, ct).ConfigureAwait(false);
            if (data.Length > buffer.Length)
            {
                // Written by a client with a larger ChunkSizeBytes: the reader retries with a buffer that fits.
                throw new ChunkTooLarge(data.Length);
            }

            int filled = 0;
            int read;
            while ((read = await data.ReadAsync(buffer.AsMemory(filled, (int)data.Length - filled), ct).ConfigureAwait(false)) > 0)
            {
                filled += read;
            }

            return filled;
        }, cancellationToken);

    /// <summary>Thrown by <see cref="ReadChunkAsync"/> when the buffer is too small for a chunk.</summary>
    internal sealed class ChunkTooLarge(long length) : GhostieSyncException(GhostieErrorCode.Unknown, "chunk larger than the buffer")
    {
        public long Length { get; } = length;
    }

    internal GhostieSyncException Changed(string name, string? detail) =>
        new(GhostieErrorCode.BackendUnavailable,
            $"'{name}' in {DisplayName} was replaced or deleted while it was being read{detail}. Read it again (sync again).", isTransient: true);

    private async IAsyncEnumerable<PostgresObjectInfo> ListPagesAsync(string prefix, bool detailed, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string after = "";
        while (true)
        {
            string from = after;
            List<PostgresObjectInfo> page = await RunAsync("PostgreSQL LIST " + (prefix.Length == 0 ? "(all)" : prefix), async (connection, ct) =>
            {
                await using NpgsqlCommand command = connection.CreateCommand();
                command.CommandText = detailed ? Sql.ListDetailed(_s) : Sql.List(_s);
                command.Parameters.Add(new NpgsqlParameter<string>("repository", Repository));
                command.Parameters.Add(new NpgsqlParameter<string>("after", from));
                command.Parameters.Add(new NpgsqlParameter<string>("prefix", prefix));
                command.Parameters.Add(new NpgsqlParameter<int>("limit", ListPageSize));
                var names = new List<PostgresObjectInfo>(ListPageSize);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    names.Add(detailed
                        ? new PostgresObjectInfo(reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2))
                        : new PostgresObjectInfo(reader.GetString(0), -1, default));
                }

                return names;
            }, cancellationToken).ConfigureAwait(false);
            foreach (PostgresObjectInfo item in page)
            {
                // Rows put there by other tools are skipped, as the other backends skip foreign keys.
                if (ObjectName.IsValid(item.Name))
                {
                    yield return item;
                }
            }

            if (page.Count < ListPageSize)
            {
                yield break;
            }

            after = page[^1].Name;
        }
    }

    private NpgsqlCommand Command(NpgsqlConnection connection, string sql, string name)
    {
        NpgsqlCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.Add(new NpgsqlParameter<string>("repository", Repository));
        command.Parameters.Add(new NpgsqlParameter<string>("name", name));
        return command;
    }

    private static NpgsqlParameter<DateTimeOffset> Time(string name, DateTimeOffset value) =>
        new(name, NpgsqlDbType.TimestampTz) { TypedValue = value.ToUniversalTime() };

    /// <summary>Runs one retried attempt on a pooled connection, after the first-use checks.</summary>
    private async Task<T> RunAsync<T>(string operation, Func<NpgsqlConnection, CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await RunUncheckedAsync(operation, attempt, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> RunUncheckedAsync<T>(string operation, Func<NpgsqlConnection, CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            return await BackendRetry.ExecuteAsync(operation, async ct =>
            {
                await using NpgsqlConnection connection = await _source.OpenConnectionAsync(ct).ConfigureAwait(false);
                return await attempt(connection, ct).ConfigureAwait(false);
            }, PgErrors.Classify, Options.Retry, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw PgErrors.Translate(e, operation, _where, _s, Repository);
        }
    }

    /// <summary>The first-use checks, on one connection (one retried attempt).</summary>
    private async Task<bool> PrepareAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        int version = await PostgresSchema.ReadVersionAsync(connection, _s, cancellationToken).ConfigureAwait(false);
        PostgresSchema.CheckNotNewer(version, _s, _where);
        if (version < PostgresSchema.CurrentVersion)
        {
            if (!Options.CreateSchema)
            {
                throw new GhostieSyncException(GhostieErrorCode.StorageNotFound, version == 0
                    ? $"{DisplayName}: the Ghostie schema '{_s}' does not exist, and CreateSchema is off. Have the database owner run PostgresSchema.MigrateAsync, or turn CreateSchema on for a role that may create it."
                    : $"{DisplayName}: the Ghostie schema '{_s}' is at version {version}, this build needs {PostgresSchema.CurrentVersion}, and CreateSchema is off. Have the database owner run PostgresSchema.MigrateAsync.");
            }

            try
            {
                await PostgresSchema.MigrateOnAsync(connection, _s, _where, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == "42501")
            {
                throw new GhostieSyncException(GhostieErrorCode.AccessDenied,
                    $"{DisplayName}: the Ghostie schema '{_s}' is {(version == 0 ? "missing" : $"at version {version}")} and this role may not {(version == 0 ? "create" : "migrate")} it (SQLSTATE 42501). Have the database owner run PostgresSchema.MigrateAsync and PostgresSchema.GrantTenantAsync for this role (docs/backends/postgres.md).",
                    false, e);
            }

            Log.SchemaMigrated(_logger, DisplayName, _s, version, PostgresSchema.CurrentVersion);
        }

        await using (NpgsqlCommand tables = connection.CreateCommand())
        {
            tables.CommandText = Sql.TablesPresent(_s);
            await using NpgsqlDataReader reader = await tables.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            string[] names = ["repositories", "objects", "chunks"];
            string[] missing = [.. names.Where((_, i) => !reader.GetBoolean(i)).Select(n => $"{_s}.{n}")];
            if (missing.Length > 0)
            {
                throw new GhostieSyncException(GhostieErrorCode.StorageNotFound,
                    $"{DisplayName}: the table(s) {string.Join(", ", missing)} are missing although the schema records version {Math.Max(version, PostgresSchema.CurrentVersion)}: they were dropped outside Ghostie. Restore the database from a backup (the objects in them are gone); to start an empty schema instead, drop the schema '{_s}' and open the repository again.");
            }
        }

        await using (NpgsqlCommand claim = connection.CreateCommand())
        {
            claim.CommandText = Sql.Claim(_s);
            claim.Parameters.Add(new NpgsqlParameter<string>("repository", Repository));
            if (await claim.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not "own")
            {
                throw new GhostieSyncException(GhostieErrorCode.AccessDenied,
                    $"{DisplayName}: the repository '{Repository}' belongs to another role. Each role reaches only the repositories it owns (row-level security): connect as its owner, or choose another repository name.");
            }
        }

        return true;
    }

    /// <summary>Removes chunks of uploads that never completed and applies the handoff retention; logs failures.</summary>
    private async Task HousekeepAsync(CancellationToken cancellationToken)
    {
        try
        {
            DateTimeOffset cutoff = Options.TimeProvider.GetUtcNow() - Options.AbandonedUploadAge;
            int deleted = await RunUncheckedAsync("PostgreSQL cleanup", async (connection, ct) =>
            {
                await using NpgsqlCommand command = connection.CreateCommand();
                command.CommandText = Sql.DeleteAbandoned(_s);
                command.Parameters.Add(new NpgsqlParameter<string>("repository", Repository));
                command.Parameters.Add(Time("cutoff", cutoff));
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            if (deleted > 0)
            {
                Log.AbandonedChunksDeleted(_logger, DisplayName, deleted);
            }
        }
        catch (GhostieSyncException e)
        {
            Log.HousekeepingFailed(_logger, DisplayName, "abandoned uploads", e);
        }

        if (Options.HandoffRetention is not null)
        {
            try
            {
                await SweepHandoffsAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (GhostieSyncException e)
            {
                Log.HousekeepingFailed(_logger, DisplayName, "handoff retention", e);
            }
        }
    }

    private sealed record Head(long Version, long Size, int Chunks, byte[]? First);
}

/// <summary>An object as the database knows it: name, size, and when it was last written (by the writer's clock).</summary>
/// <param name="Name">The object name.</param>
/// <param name="Size">Its size in bytes (-1 when not asked for).</param>
/// <param name="WrittenAt">When it was last written.</param>
public sealed record PostgresObjectInfo(string Name, long Size, DateTimeOffset WrittenAt);
