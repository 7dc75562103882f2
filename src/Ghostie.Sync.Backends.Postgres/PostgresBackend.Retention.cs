using Ghostie.Sync.Backends.Postgres.Internal;
using Npgsql;

namespace Ghostie.Sync.Backends.Postgres;

public sealed partial class PostgresBackend
{
    /// <summary>The prefixes the handoff retention applies to: handoff packages and their resume claims (docs/format.md).</summary>
    public static readonly IReadOnlyList<string> HandoffPrefixes = ["x/", "xc/"];

    /// <summary>
    /// Deletes the handoff packages (<c>x/</c>) and resume claims (<c>xc/</c>) of this repository last written more than
    /// <see cref="PostgresBackendOptions.HandoffRetention"/> ago, by the write time in their rows: the database decides
    /// without reading or decrypting anything. Memories, heads and keys are never touched. Runs on first use as well.
    /// </summary>
    /// <param name="cancellationToken">Cancels the sweep (what was deleted stays deleted).</param>
    /// <returns>How many objects were deleted (0 when no retention is set).</returns>
    public async Task<int> SweepHandoffsAsync(CancellationToken cancellationToken = default)
    {
        if (Options.HandoffRetention is not { } retention)
        {
            return 0;
        }

        DateTimeOffset cutoff = Options.TimeProvider.GetUtcNow() - retention;
        int total = 0;
        foreach (string prefix in HandoffPrefixes)
        {
            total += await RunAsync("PostgreSQL retention " + prefix, async (connection, ct) =>
            {
                await using NpgsqlCommand command = connection.CreateCommand();
                command.CommandText = Sql.DeleteWrittenBefore(_s);
                command.Parameters.Add(new NpgsqlParameter<string>("repository", Repository));
                command.Parameters.Add(new NpgsqlParameter<string>("prefix", prefix));
                command.Parameters.Add(Time("cutoff", cutoff));
                return Convert.ToInt32(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            }, cancellationToken).ConfigureAwait(false);
        }

        if (total > 0)
        {
            Log.HandoffsSwept(_logger, DisplayName, total, cutoff);
        }

        return total;
    }
}
