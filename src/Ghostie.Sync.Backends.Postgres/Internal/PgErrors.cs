using System.Globalization;
using System.Net.Sockets;
using Ghostie.Sync.Shared;
using Npgsql;

namespace Ghostie.Sync.Backends.Postgres.Internal;

/// <summary>
/// What a failed database call means: whether to retry it, and the typed error a caller gets. Messages carry the
/// SQLSTATE, the server's short message text, host, port, database, role and repository: never the connection string,
/// a password, a parameter value or object content.
/// </summary>
internal static class PgErrors
{
    /// <summary>The description used in messages: "database 'ghostie' at 127.0.0.1:5432 as role 'alice'".</summary>
    public static string Where(NpgsqlConnectionStringBuilder builder)
    {
        string host = builder.Host ?? "localhost";
        string user = string.IsNullOrEmpty(builder.Username) ? Environment.UserName : builder.Username;
        string database = string.IsNullOrEmpty(builder.Database) ? user : builder.Database;
        return string.Create(CultureInfo.InvariantCulture, $"database '{database}' at {host}:{builder.Port} as role '{user}'");
    }

    /// <summary>Retry or not: lost connections, a server shutting down or starting, serialization failures, deadlocks
    /// and too many connections are transient; everything else is permanent.</summary>
    public static RetryVerdict Classify(Exception exception)
    {
        if (exception is PostgresException pg)
        {
            string reason = "SQLSTATE " + pg.SqlState;
            return pg.SqlState switch
            {
                "53300" => RetryVerdict.Throttled(null, reason + " (too many connections)"),
                "57P01" or "57P02" or "57P03" => RetryVerdict.Transient(reason + " (the server is shutting down or starting)"),
                "40001" or "40P01" or "55P03" => RetryVerdict.Transient(reason + " (a concurrent transaction)"),
                _ when pg.SqlState.StartsWith("08", StringComparison.Ordinal) => RetryVerdict.Transient(reason + " (connection failure)"),
                _ => RetryVerdict.Permanent(reason),
            };
        }

        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case NpgsqlException { IsTransient: true }:
                    return RetryVerdict.Transient("the connection to the server failed or was lost");
                case IOException or SocketException:
                    return RetryVerdict.Transient("connection reset");
                case TimeoutException:
                    return RetryVerdict.Transient("timeout");
            }
        }

        return RetryVerdict.Permanent(exception.GetType().Name);
    }

    /// <summary>A permanent database failure as the typed error callers handle.</summary>
    /// <param name="e">The failure.</param>
    /// <param name="operation">What was being done, for example "PostgreSQL PUT p/ab".</param>
    /// <param name="where">See <see cref="Where"/>.</param>
    /// <param name="schema">The schema name.</param>
    /// <param name="repository">The repository, when the operation was on one.</param>
    public static GhostieSyncException Translate(Exception e, string operation, string where, string schema, string? repository)
    {
        string inRepository = repository is null ? "" : $" (repository '{repository}')";
        if (e is not PostgresException pg)
        {
            return new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"{operation}{inRepository} failed: the PostgreSQL server ({where}) could not be reached or dropped the connection ({e.GetType().Name}). Check that it is running and reachable (Host and Port), then sync again.",
                isTransient: true, e);
        }

        string server = $"SQLSTATE {pg.SqlState}: {Sanitize(pg.MessageText)}";
        switch (pg.SqlState)
        {
            case "28P01" or "28000":
                return new GhostieSyncException(GhostieErrorCode.AccessDenied,
                    $"{operation}{inRepository}: the PostgreSQL server refused the login ({where}; {server}). Check the user name and password in the connection string (the CLI reads it from the environment variable named at setup).",
                    false, e);
            case "3D000":
                return new GhostieSyncException(GhostieErrorCode.StorageNotFound,
                    $"{operation}{inRepository}: the {where} does not exist ({server}). Create the database (createdb) or fix Database in the connection string.",
                    false, e);
            case "42P01" or "3F000" or "42883":
                return new GhostieSyncException(GhostieErrorCode.StorageNotFound,
                    $"{operation}{inRepository}: a table or function of the Ghostie schema '{schema}' is missing in the {where} ({server}). It was dropped or never created: have the database owner run PostgresSchema.MigrateAsync (or use a role that may create it), and restore the repository's objects from a backup if the tables were dropped.",
                    false, e);
            case "42501" when pg.MessageText.Contains("row-level security", StringComparison.Ordinal):
                return new GhostieSyncException(GhostieErrorCode.AccessDenied,
                    $"{operation}{inRepository} was refused by row-level security in the {where}: the repository belongs to another role. Each role reaches only the repositories it owns: connect as the repository's owner, or use a repository name of your own.",
                    false, e);
            case "42501":
                return new GhostieSyncException(GhostieErrorCode.AccessDenied,
                    $"{operation}{inRepository}: the role may not use the Ghostie schema '{schema}' in the {where} ({server}). Have the schema's owner run PostgresSchema.GrantTenantAsync for this role (docs/backends/postgres.md).",
                    false, e);
            case "53100":
                return new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"{operation}{inRepository} failed: the PostgreSQL server's disk is full ({where}; {server}). Nothing was written: the repository is as it was. Free space on the database server (or raise the tablespace quota), then sync again.",
                    false, e);
            case "53200" or "53400" or "54000":
                return new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"{operation}{inRepository} failed: the PostgreSQL server ran out of a resource or hit a configured limit ({where}; {server}). Nothing was written; ask its administrator, then sync again.",
                    false, e);
            case "25006":
                return new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"{operation}{inRepository} failed: the server is read-only ({where}; {server}), a standby or in recovery. Connect to the primary.",
                    false, e);
            default:
                return new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"{operation}{inRepository} failed at the {where} ({server}). The request was refused permanently; check the server's log.",
                    false, e);
        }
    }

    /// <summary>Keeps a server-supplied string to printable ASCII and a sane length.</summary>
    private static string Sanitize(string value)
    {
        string trimmed = value.Length > 200 ? value[..200] : value;
        return new string(trimmed.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray()).TrimEnd('.');
    }
}
