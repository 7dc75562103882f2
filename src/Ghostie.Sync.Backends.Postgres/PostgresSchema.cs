using System.Globalization;
using Ghostie.Sync.Backends.Postgres.Internal;
using Npgsql;

namespace Ghostie.Sync.Backends.Postgres;

/// <summary>
/// Ghostie's tables in a PostgreSQL database, and their migrations (docs/backends/postgres.md). The schema version is
/// recorded in <c>&lt;schema&gt;.schema_version</c>; each migration runs once, in a transaction, under an advisory lock,
/// so two clients starting at once never both apply it. The backend migrates on first use when its role may
/// (<see cref="PostgresBackendOptions.CreateSchema"/>); in a shared database an administrator runs
/// <see cref="MigrateAsync"/> with the owner's connection and <see cref="GrantTenantAsync"/> for each tenant role.
/// </summary>
public static class PostgresSchema
{
    /// <summary>The schema version this build creates and reads.</summary>
    public const int CurrentVersion = 2;

    /// <summary>Creates the schema, or migrates it to <see cref="CurrentVersion"/>. Does nothing when it is current.</summary>
    /// <param name="connectionString">A connection of the role that is to own the tables (the database owner, or a role with CREATE on it).</param>
    /// <param name="schema">The schema name (default "ghostie").</param>
    /// <param name="cancellationToken">Cancels the work (a cancelled migration is rolled back).</param>
    /// <returns>The version found before (0: none).</returns>
    /// <exception cref="GhostieSyncException">The role may not create the schema (<see cref="GhostieErrorCode.AccessDenied"/>), the
    /// database is missing (<see cref="GhostieErrorCode.StorageNotFound"/>), the schema is newer than this build
    /// (<see cref="GhostieErrorCode.UnsupportedFormat"/>), or the server cannot be reached.</exception>
    public static async Task<int> MigrateAsync(string connectionString, string schema = "ghostie", CancellationToken cancellationToken = default)
    {
        (NpgsqlDataSource source, string where) = Open(connectionString, schema);
        await using (source.ConfigureAwait(false))
        {
            try
            {
                await using NpgsqlConnection connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                return await MigrateOnAsync(connection, schema, where, cancellationToken).ConfigureAwait(false);
            }
            catch (NpgsqlException e)
            {
                throw PgErrors.Translate(e, $"Migrating the schema '{schema}'", where, schema, repository: null);
            }
        }
    }

    /// <summary>Lets a tenant role use the repositories it owns: USAGE on the schema, SELECT on the version and repository
    /// tables (row-level security shows it only its own rows), SELECT/INSERT/UPDATE/DELETE on the objects and chunks
    /// (likewise restricted), EXECUTE on the function that claims a repository name. Create the role itself first
    /// (<c>CREATE ROLE alice LOGIN PASSWORD '...'</c>), without BYPASSRLS and not as a superuser.</summary>
    /// <param name="connectionString">A connection of the schema's owner.</param>
    /// <param name="role">The tenant role: a lowercase SQL identifier.</param>
    /// <param name="schema">The schema name (default "ghostie").</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The role name is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>), the
    /// schema is missing or not current, or the server refused.</exception>
    public static async Task GrantTenantAsync(string connectionString, string role, string schema = "ghostie", CancellationToken cancellationToken = default)
    {
        if (!PostgresBackendOptions.IsIdentifier(role))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"'{role}' is not usable as a tenant role name here: use 1 to 63 characters of a-z, 0-9 and '_', starting with a letter or '_'.");
        }

        (NpgsqlDataSource source, string where) = Open(connectionString, schema);
        await using (source.ConfigureAwait(false))
        {
            try
            {
                await using NpgsqlConnection connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using NpgsqlCommand command = connection.CreateCommand();
                command.CommandText = Sql.Grants(schema, role);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (NpgsqlException e)
            {
                throw PgErrors.Translate(e, $"Granting role '{role}' the use of schema '{schema}'", where, schema, repository: null);
            }
        }
    }

    /// <summary>Reads the recorded version (0 when the schema has none) and applies the missing migrations.</summary>
    internal static async Task<int> MigrateOnAsync(NpgsqlConnection connection, string schema, string where, CancellationToken cancellationToken)
    {
        int found = await ReadVersionAsync(connection, schema, cancellationToken).ConfigureAwait(false);
        if (found == CurrentVersion)
        {
            return found;
        }

        CheckNotNewer(found, schema, where);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (NpgsqlCommand command = connection.CreateCommand())
        {
            // One migrator at a time per schema: a second client waits here, then finds the work done.
            command.CommandText = "SELECT pg_advisory_xact_lock(hashtext('ghostie-schema:' || @schema))";
            command.Parameters.AddWithValue("schema", schema);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        int version = await ReadVersionAsync(connection, schema, cancellationToken).ConfigureAwait(false);
        CheckNotNewer(version, schema, where);
        for (int next = version + 1; next <= CurrentVersion; next++)
        {
            await using NpgsqlCommand command = connection.CreateCommand();
            command.CommandText = Sql.Migration(schema, next)
                + string.Create(CultureInfo.InvariantCulture, $"\nINSERT INTO {schema}.schema_version (version) VALUES ({next});");
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return found;
    }

    /// <summary>The schema's recorded version; 0 when it has no version table.</summary>
    internal static async Task<int> ReadVersionAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = connection.CreateCommand();
        // The catalog itself, read under this statement's snapshot: to_regclass may answer from a session's stale
        // negative cache entry and miss a schema another session created meanwhile (seen when two clients start at once).
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = @schema AND tablename = 'schema_version')";
        command.Parameters.AddWithValue("schema", schema);
        if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
        {
            return 0;
        }

        await using NpgsqlCommand read = connection.CreateCommand();
        read.CommandText = $"SELECT coalesce(max(version), 0) FROM {schema}.schema_version";
        return Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    internal static void CheckNotNewer(int version, string schema, string where)
    {
        if (version > CurrentVersion)
        {
            throw new UnsupportedFormatException($"The Ghostie schema '{schema}' at {where}", version, CurrentVersion);
        }
    }

    private static (NpgsqlDataSource Source, string Where) Open(string connectionString, string schema)
    {
        if (!PostgresBackendOptions.IsIdentifier(schema))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"'{schema}' is not usable as a schema name: use 1 to 63 characters of a-z, 0-9 and '_', starting with a letter or '_'.");
        }

        NpgsqlConnectionStringBuilder builder = PostgresBackendOptions.TryParse(connectionString ?? "")
            ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                "The connection string is not a valid Npgsql connection string (its text is not shown, as it may hold a password).");
        return (NpgsqlDataSource.Create(builder), PgErrors.Where(builder));
    }
}
