using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using Ghostie.Sync.Backends.Postgres.Internal;
using Npgsql;

namespace Ghostie.Sync.Backends.Postgres;

public sealed partial class PostgresBackend
{
    private enum WriteMode
    {
        Put,
        Create,
        Replace,
    }

    /// <summary>
    /// Streams <paramref name="content"/> in chunks under a new random version: every chunk but the last is written on
    /// its own (retried alone, from the buffer that holds it), then one transaction writes the last chunk, checks the
    /// condition, points the object's row at the new version and deletes the old version's chunks. At most two chunks are
    /// in memory. A failure or cancellation before the commit leaves the old object and removes the new chunks (or leaves
    /// them to the abandoned-upload cleanup when even that fails).
    /// </summary>
    private async Task<bool> WriteAsync(string name, Stream content, WriteMode mode, long expected, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        long version = NewVersion();
        int chunkSize = Options.ChunkSizeBytes;
        byte[] current = ArrayPool<byte>.Shared.Rent(chunkSize);
        byte[] next = ArrayPool<byte>.Shared.Rent(chunkSize);
        bool staged = false;
        bool committed = false;
        try
        {
            int currentLength = await FillAsync(content, current, chunkSize, cancellationToken).ConfigureAwait(false);
            int seq = 0;
            long size = 0;
            while (currentLength == chunkSize)
            {
                int nextLength = await FillAsync(content, next, chunkSize, cancellationToken).ConfigureAwait(false);
                if (nextLength == 0)
                {
                    break;
                }

                staged = true;
                await StageChunkAsync(name, version, seq, current.AsMemory(0, currentLength), cancellationToken).ConfigureAwait(false);
                size += currentLength;
                seq++;
                (current, next) = (next, current);
                currentLength = nextLength;
            }

            ReadOnlyMemory<byte> last = current.AsMemory(0, currentLength);
            int chunks = currentLength > 0 ? seq + 1 : seq;
            size += currentLength;
            bool written = await CommitAsync(name, version, seq, last, chunks, size, mode, expected, staged, cancellationToken).ConfigureAwait(false);
            committed = true;
            return written;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(next);
            if (staged && !committed)
            {
                await DeleteStagedAsync(name, version).ConfigureAwait(false);
            }
        }
    }

    private Task<bool> CommitAsync(string name, long version, int lastSeq, ReadOnlyMemory<byte> last, int chunks, long size, WriteMode mode,
        long expected, bool staged, CancellationToken cancellationToken)
    {
        string verb = mode switch { WriteMode.Create => "CREATE", WriteMode.Replace => "REPLACE", _ => "PUT" };
        DateTimeOffset now = Options.TimeProvider.GetUtcNow();
        return RunAsync($"PostgreSQL {verb} {name}", async (connection, ct) =>
        {
            await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            if (last.Length > 0)
            {
                await using NpgsqlCommand insert = Command(connection, Sql.InsertChunk(_s), name);
                AddChunk(insert, version, lastSeq, last, now);
                await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            long? previous = await LockCurrentAsync(connection, name, ct).ConfigureAwait(false);
            if (previous == version)
            {
                // An earlier attempt committed and only its answer was lost: the object is ours.
                await transaction.RollbackAsync(ct).ConfigureAwait(false);
                return true;
            }

            await CheckChunksAsync(connection, name, version, chunks, size, ct).ConfigureAwait(false);
            if (previous is null && mode != WriteMode.Replace)
            {
                // No row to lock: the insert itself decides between racing creators (the loser waits, then conflicts).
                await using (NpgsqlCommand insert = Command(connection, Sql.InsertObject(_s), name))
                {
                    AddRow(insert, version, size, chunks, now);
                    if (await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1)
                    {
                        await transaction.CommitAsync(ct).ConfigureAwait(false);
                        return true;
                    }
                }

                previous = await LockCurrentAsync(connection, name, ct).ConfigureAwait(false);
                if (previous is null)
                {
                    // Created and deleted again in between: report it as a busy moment, retried.
                    throw new TimeoutException("the object was created and deleted concurrently");
                }
            }

            bool allowed = mode switch
            {
                WriteMode.Create => false,
                WriteMode.Replace => previous == expected,
                _ => true,
            };
            if (!allowed)
            {
                if (staged)
                {
                    await using NpgsqlCommand drop = Command(connection, Sql.DeleteChunks(_s), name);
                    drop.Parameters.Add(new NpgsqlParameter<long>("version", version));
                    await drop.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                    await transaction.CommitAsync(ct).ConfigureAwait(false);
                }
                else
                {
                    await transaction.RollbackAsync(ct).ConfigureAwait(false);
                }

                return false;
            }

            await using (NpgsqlCommand update = Command(connection, Sql.UpdateObject(_s), name))
            {
                AddRow(update, version, size, chunks, now);
                await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            if (previous is long old)
            {
                await using NpgsqlCommand drop = Command(connection, Sql.DeleteChunks(_s), name);
                drop.Parameters.Add(new NpgsqlParameter<long>("version", old));
                await drop.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    private async Task<long?> LockCurrentAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand locking = Command(connection, Sql.LockCurrent(_s), name);
        return await locking.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long v ? v : null;
    }

    /// <summary>Never points an object at incomplete data (chunks removed meanwhile by an abandoned-upload cleanup).</summary>
    private async Task CheckChunksAsync(NpgsqlConnection connection, string name, long version, int chunks, long size, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand count = Command(connection, Sql.CountChunks(_s), name);
        count.Parameters.Add(new NpgsqlParameter<long>("version", version));
        await using NpgsqlDataReader reader = await count.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        long found = reader.GetInt64(0);
        long bytes = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
        if (found != chunks || bytes != size)
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"The upload of '{name}' to {DisplayName} lost {chunks - found} of its {chunks} chunk(s) before it completed (removed by an abandoned-upload cleanup?). Nothing was changed; write it again.",
                isTransient: true);
        }
    }

    private static void AddRow(NpgsqlCommand command, long version, long size, int chunks, DateTimeOffset now)
    {
        command.Parameters.Add(new NpgsqlParameter<long>("version", version));
        command.Parameters.Add(new NpgsqlParameter<long>("size", size));
        command.Parameters.Add(new NpgsqlParameter<int>("chunks", chunks));
        command.Parameters.Add(Time("now", now));
    }

    private Task StageChunkAsync(string name, long version, int seq, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        DateTimeOffset now = Options.TimeProvider.GetUtcNow();
        return RunAsync($"PostgreSQL PUT {name} (chunk {seq})", async (connection, ct) =>
        {
            await using NpgsqlCommand insert = Command(connection, Sql.InsertChunk(_s), name);
            AddChunk(insert, version, seq, data, now);
            return await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>Best effort, one attempt, not cancellable by the caller (whose token may be what ended the upload).</summary>
    private async Task DeleteStagedAsync(string name, long version)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await using NpgsqlConnection connection = await _source.OpenConnectionAsync(timeout.Token).ConfigureAwait(false);
            await using NpgsqlCommand drop = Command(connection, Sql.DeleteChunks(_s), name);
            drop.Parameters.Add(new NpgsqlParameter<long>("version", version));
            await drop.ExecuteNonQueryAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            Log.StagedCleanupFailed(_logger, DisplayName, name, e);
        }
    }

    private void AddChunk(NpgsqlCommand command, long version, int seq, ReadOnlyMemory<byte> data, DateTimeOffset now)
    {
        command.Parameters.Add(new NpgsqlParameter<long>("version", version));
        command.Parameters.Add(new NpgsqlParameter<int>("seq", seq));
        command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>>("data", data));
        command.Parameters.Add(Time("now", now));
    }

    /// <summary>Reads until <paramref name="buffer"/> holds <paramref name="count"/> bytes or the stream ends.</summary>
    private static async Task<int> FillAsync(Stream content, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        int filled = 0;
        while (filled < count)
        {
            int read = await content.ReadAsync(buffer.AsMemory(filled, count - filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return filled;
    }

    /// <summary>A random positive 63-bit version: unguessable, and never reused (an object deleted and written again gets a new one).</summary>
    private static long NewVersion()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        long value = BitConverter.ToInt64(bytes) & long.MaxValue;
        return value == 0 ? 1 : value;
    }
}
