using System.Runtime.CompilerServices;
using Ghostie.Sync.Vectors.PgVector.Internal;
using Npgsql;
using NpgsqlTypes;

namespace Ghostie.Sync.Vectors.PgVector;

/// <summary>One collection in PostgreSQL with pgvector (see <see cref="PgVectorStore"/>). Scores are cosine
/// similarities for both distances. Filters become a parameterized jsonb containment test
/// (<c>data @&gt; @filter::jsonb</c>), never SQL text.</summary>
public sealed class PgVectorCollection : IVectorCollection, IVectorCollectionLocation
{
    private readonly PgVectorStore _store;
    private readonly string _table;
    private readonly PgVectorDistance _distance;
    private readonly string _operator;

    internal PgVectorCollection(PgVectorStore store, string name, EmbeddingModelInfo model, string table, PgVectorDistance distance)
    {
        _store = store;
        Name = name;
        Model = model;
        TableName = table;
        _table = $"\"{store.Options.Schema}\".\"{table}\"";
        _distance = distance;
        _operator = distance == PgVectorDistance.InnerProduct ? "<#>" : "<=>";
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public EmbeddingModelInfo Model { get; }

    /// <summary>The table holding the collection (without the schema).</summary>
    public string TableName { get; }

    /// <summary>"PostgreSQL host:port/database "schema"."table"" (no user name or password): two tiers with the same
    /// location share one table, which the tiered store refuses. Hosts are compared as written (lower case): one server
    /// reached by two names is not recognised.</summary>
    public string StorageLocation => $"{_store.Where.ToLowerInvariant()} {_table}";

    /// <summary>Writes the records in batches of <see cref="PgVectorOptions.BatchSize"/>, all in one transaction: on an
    /// error nothing of the call is written. A key given twice keeps its last record.</summary>
    /// <param name="records">The records.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">A vector's length differs from the collection's dimension (nothing is written).</exception>
    /// <exception cref="GhostieSyncException">A key or vector is invalid, or the database failed.</exception>
    public async Task UpsertAsync(IEnumerable<VectorRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var byKey = new Dictionary<string, VectorRecord>(StringComparer.Ordinal);
        foreach (VectorRecord record in records)
        {
            ArgumentNullException.ThrowIfNull(record, nameof(records));
            record.EnsureValid(Model, Name);
            byKey[record.Key] = record;
        }

        if (byKey.Count == 0)
        {
            return;
        }

        bool normalize = _distance == PgVectorDistance.InnerProduct;
        await _store.RunAsync($"Writing {byKey.Count} record(s) to pgvector collection '{Name}'", async (connection, ct) =>
        {
            await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            foreach (VectorRecord[] batch in byKey.Values.Chunk(_store.Options.BatchSize))
            {
                await using var command = new NpgsqlCommand(
                    $"INSERT INTO {_table} (key, embedding, data) SELECT u.k, u.e::vector, u.d::jsonb FROM unnest(@keys, @embeddings, @data) AS u(k, e, d) " +
                    "ON CONFLICT (key) DO UPDATE SET embedding = EXCLUDED.embedding, data = EXCLUDED.data", connection, transaction);
                command.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = batch.Select(r => r.Key).ToArray() });
                command.Parameters.Add(new NpgsqlParameter("embeddings", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = batch.Select(r => VectorText.Format(r.Vector.Span, normalize)).ToArray() });
                command.Parameters.Add(new NpgsqlParameter("data", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = batch.Select(r => (object?)VectorText.FormatData(r.Data) ?? DBNull.Value).ToArray() });
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<VectorRecord?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _store.RunAsync($"Reading record '{key}' of pgvector collection '{Name}'", async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"SELECT embedding::text, data::text FROM {_table} WHERE key = @key", connection);
            command.Parameters.AddWithValue("key", key);
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                return null;
            }

            return new VectorRecord(key, VectorText.Parse(reader.GetString(0), Name, key), VectorText.ParseData(reader.IsDBNull(1) ? null : reader.GetString(1), Name, key));
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _store.RunAsync($"Deleting record '{key}' of pgvector collection '{Name}'", async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"DELETE FROM {_table} WHERE key = @key", connection);
            command.Parameters.AddWithValue("key", key);
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<long> CountAsync(CancellationToken cancellationToken = default) =>
        _store.RunAsync($"Counting pgvector collection '{Name}'", async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"SELECT count(*) FROM {_table}", connection);
            return Convert.ToInt64(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }, cancellationToken);

    /// <summary>The records closest to <paramref name="query"/>, best first: <c>ORDER BY embedding &lt;=&gt; @query LIMIT @top</c>
    /// (or <c>&lt;#&gt;</c>), with the filter as jsonb containment. With an HNSW index PostgreSQL may answer
    /// approximately: the scan is widened to hnsw.ef_search = max(40, Top), 4 x Top with a filter (at most 1,000). With a
    /// filter and pgvector 0.8 or later, the search also sets hnsw.iterative_scan = strict_order, so the index scan goes
    /// on until Top rows pass the filter (up to pgvector's hnsw.max_scan_tuples, 20,000 by default). Even so the walk can
    /// miss matching records in a part of the graph it does not reach: a filtered search that comes back with fewer
    /// than Top rows is run again as an exact scan (<see cref="PgVectorOptions.ExactFallbackForShortFilteredSearches"/>),
    /// so the answer has Top rows whenever that many match. A full answer from the index is approximately the nearest, as
    /// any HNSW answer: with matches in several clusters far from the query the walk can return a farther one.</summary>
    /// <param name="query">The query vector.</param>
    /// <param name="options">Top, threshold, filter, whether to return vectors.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">The query's length differs from the collection's dimension.</exception>
    /// <exception cref="GhostieSyncException">The database failed.</exception>
    public async IAsyncEnumerable<VectorSearchResult> SearchAsync(ReadOnlyMemory<float> query, VectorSearchOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new VectorSearchOptions();
        options.Validate();
        Model.EnsureVector(query.Span, Name, "query");
        List<VectorSearchResult> results = await SearchListAsync(query, options, cancellationToken).ConfigureAwait(false);
        foreach (VectorSearchResult result in results)
        {
            yield return result;
        }
    }

    private Task<List<VectorSearchResult>> SearchListAsync(ReadOnlyMemory<float> query, VectorSearchOptions options, CancellationToken cancellationToken)
    {
        bool filtered = options.Filter is { Count: > 0 };
        string sql = $"SELECT key, data::text, embedding {_operator} @query::vector{(options.IncludeVectors ? ", embedding::text" : "")} FROM {_table}"
            + (filtered ? " WHERE data @> @filter::jsonb" : "")
            + $" ORDER BY embedding {_operator} @query::vector LIMIT @top";
        string queryText = VectorText.Format(query.Span, _distance == PgVectorDistance.InnerProduct);
        // An HNSW index scan yields at most hnsw.ef_search rows (default 40), before any filter: widen it for this
        // query (pgvector's ceiling is 1,000), inside a transaction so the setting ends with it.
        int efSearch = Math.Clamp(filtered ? options.Top * 4 : options.Top, 40, 1000);
        return _store.RunAsync($"Searching pgvector collection '{Name}'", async (connection, ct) =>
        {
            await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using (var set = new NpgsqlCommand($"SET LOCAL hnsw.ef_search = {efSearch.ToString(System.Globalization.CultureInfo.InvariantCulture)}", connection, transaction))
            {
                await set.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            if (filtered && _store.HasIterativeScan)
            {
                // Without it, a selective filter leaves fewer than Top rows: the scan stops after ef_search candidates.
                await using var iterate = new NpgsqlCommand("SET LOCAL hnsw.iterative_scan = strict_order", connection, transaction);
                await iterate.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            (List<VectorSearchResult> results, bool complete) = await ReadAsync(connection, transaction, ct).ConfigureAwait(false);
            if (filtered && !complete && _store.Options.ExactFallbackForShortFilteredSearches)
            {
                // The index walk ran out before Top rows passed the filter: answer exactly instead (a sequential scan).
                await using (var exact = new NpgsqlCommand("SET LOCAL enable_indexscan = off", connection, transaction))
                {
                    await exact.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                (results, _) = await ReadAsync(connection, transaction, ct).ConfigureAwait(false);
            }

            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return results;
        }, cancellationToken);

        // The rows best first; complete when Top rows came back or a row fell below MinScore (none after it passes).
        async Task<(List<VectorSearchResult> Results, bool Complete)> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.AddWithValue("query", queryText);
            command.Parameters.AddWithValue("top", options.Top);
            if (filtered)
            {
                command.Parameters.AddWithValue("filter", VectorText.FormatData(options.Filter)!);
            }

            var results = new List<VectorSearchResult>();
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                string key = reader.GetString(0);
                double distance = reader.GetDouble(2);
                float score = (float)(_distance == PgVectorDistance.InnerProduct ? -distance : 1 - distance);
                if (options.MinScore is float min && score < min)
                {
                    return (results, true); // rows come best first: none after this one passes either
                }

                IReadOnlyDictionary<string, string>? data = VectorText.ParseData(reader.IsDBNull(1) ? null : reader.GetString(1), Name, key);
                ReadOnlyMemory<float> vector = options.IncludeVectors ? VectorText.Parse(reader.GetString(3), Name, key) : ReadOnlyMemory<float>.Empty;
                results.Add(new VectorSearchResult(new VectorRecord(key, vector, data), score));
            }

            return (results, results.Count >= options.Top);
        }
    }
}
