using Npgsql;

namespace Ghostie.Sync.Vectors.PgVector.Internal;

/// <summary>Turns Npgsql and PostgreSQL errors into Ghostie errors that say what failed, where, and what to do.
/// Messages carry the server's SQLSTATE and message text, the host, port and database: never the connection
/// string, a password, a vector or record data.</summary>
internal static class PgErrors
{
    public static bool IsDatabaseError(Exception e) => e is NpgsqlException or TimeoutException && e is not OperationCanceledException;

    public static GhostieSyncException Map(Exception e, string what, string where)
    {
        if (e is PostgresException pg)
        {
            string server = $"{pg.SqlState}: {pg.MessageText}";
            return pg.SqlState switch
            {
                "58P01" or "0A000" when what.Contains("extension", StringComparison.Ordinal) => new GhostieSyncException(GhostieErrorCode.NotConfigured,
                    $"{what} at {where} failed: the pgvector extension is not available on the server ({server}). Install pgvector on the server, or ask its administrator to run CREATE EXTENSION vector.", innerException: e),
                "28P01" or "28000" or "42501" => new GhostieSyncException(GhostieErrorCode.AccessDenied,
                    $"{what} at {where} was refused ({server}). Check the user name, password and privileges in the connection string.", innerException: e),
                "3D000" or "3F000" => new GhostieSyncException(GhostieErrorCode.StorageNotFound,
                    $"{what} at {where} failed: the database or schema does not exist ({server}). Create it, or fix the connection string or PgVectorOptions.Schema.", innerException: e),
                "42P01" => new GhostieSyncException(GhostieErrorCode.NotFound,
                    $"{what} at {where} failed: the collection's table is gone ({server}); it was dropped outside Ghostie. Open the collection again from a fresh store to recreate it.", innerException: e),
                _ => new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"{what} at {where} failed ({server}).", isTransient: pg.IsTransient, innerException: e),
            };
        }

        bool transient = e is TimeoutException || (e is NpgsqlException n && n.IsTransient);
        return new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
            $"{what} at {where} failed: the PostgreSQL server could not be reached or dropped the connection ({e.GetType().Name}). Check that it is running and reachable{(transient ? "; retrying later may succeed" : "")}.",
            isTransient: transient, innerException: e);
    }
}
