using System.Security.Cryptography;
using System.Text;
using Ghostie.Sync.Vectors.PgVector.Internal;
using Npgsql;

namespace Ghostie.Sync.Vectors.PgVector;

/// <summary>
/// Vector collections in PostgreSQL with pgvector: one table per collection (<c>key text primary key, embedding
/// vector(N), data jsonb</c>), with the collection's model, dimension and distance recorded in a metadata table
/// (<c>{prefix}collections</c>), so opening it for another model is a clear error. Opt-in remote tier: the server
/// stores and sees every embedding in the clear, and embeddings can be inverted back to text (docs/vector-tiers.md).
/// </summary>
public sealed class PgVectorStore : IVectorStore, IVectorCollectionCatalog, IAsyncDisposable
{
    private readonly PgVectorOptions _options;
    private readonly NpgsqlDataSource _source;
    private readonly bool _ownsSource;
    private readonly SemaphoreSlim _setupGate = new(1, 1);
    private bool _setUp;

    /// <summary>Creates the store.</summary>
    /// <param name="options">Connection and table options.</param>
    /// <exception cref="GhostieSyncException">The options are invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public PgVectorStore(PgVectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        if (options.DataSource is not null)
        {
            _source = options.DataSource;
        }
        else
        {
            try
            {
                _source = NpgsqlDataSource.Create(options.ConnectionString);
            }
            catch (ArgumentException e)
            {
                // Npgsql names the keyword at fault, never its value; the connection string itself is not repeated.
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"PgVectorOptions.ConnectionString is not a valid Npgsql connection string ({e.Message}); check its keywords (for example 'Maximum Pool Size', not 'Max Pool Size') and quoting.");
            }

            _ownsSource = true;
        }

        var builder = new NpgsqlConnectionStringBuilder(_source.ConnectionString);
        Where = $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}";
        MetadataTable = $"\"{options.Schema}\".\"{options.TablePrefix}collections\"";
    }

    /// <summary>"PostgreSQL host:port/database", for messages.</summary>
    internal string Where { get; }

    internal string MetadataTable { get; }

    internal PgVectorOptions Options => _options;

    /// <summary>Whether the server's pgvector has iterative index scans (0.8.0 and later): a filtered HNSW search then
    /// keeps scanning the index until Top rows pass the filter. Known once the store is set up.</summary>
    internal bool HasIterativeScan { get; private set; }

    /// <summary>The table name of a collection: the prefix, the name (up to 32 characters, '-' as '_') and 8 hex
    /// digits of the name's SHA-256, so names that differ only in '-' and '_' get different tables.</summary>
    /// <param name="prefix">The table prefix.</param>
    /// <param name="name">The collection name.</param>
    public static string TableNameFor(string prefix, string name)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        VectorCollectionName.EnsureValid(name);
        string readable = name.Replace('-', '_');
        if (readable.Length > 32)
        {
            readable = readable[..32];
        }

        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..8];
        return $"{prefix}{readable}_{hash}";
    }

    /// <inheritdoc />
    public async Task<IVectorCollection> GetOrCreateCollectionAsync(string name, EmbeddingModelInfo model, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        ArgumentNullException.ThrowIfNull(model);
        model.Validate();
        if (_options.CreateHnswIndex && model.Dimensions > 2000)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"pgvector HNSW indexes hold at most 2,000 dimensions; collection '{name}' uses {model}. Set PgVectorOptions.CreateHnswIndex = false (exact search), or use a smaller model.");
        }

        await EnsureSetUpAsync(cancellationToken).ConfigureAwait(false);
        string distance = _options.Distance.ToString();
        string table = TableNameFor(_options.TablePrefix, name);
        return await RunAsync($"Opening pgvector collection '{name}'", async (connection, ct) =>
        {
            await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, $"LOCK TABLE {MetadataTable} IN SHARE ROW EXCLUSIVE MODE", ct).ConfigureAwait(false);
            await using (var select = new NpgsqlCommand($"SELECT table_name, model, dimensions, distance FROM {MetadataTable} WHERE name = @name", connection, transaction))
            {
                select.Parameters.AddWithValue("name", name);
                await using NpgsqlDataReader reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                if (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    var existing = new EmbeddingModelInfo(reader.GetString(1), reader.GetInt32(2));
                    string existingTable = reader.GetString(0);
                    string existingDistance = reader.GetString(3);
                    if (!PgVectorOptions.IsIdentifier(existingTable, 63))
                    {
                        // The name goes into SQL text (identifiers cannot be parameters): never trust the metadata row blindly.
                        throw new GhostieSyncException(GhostieErrorCode.IntegrityFailure,
                            $"pgvector collection '{name}' names an invalid table in {MetadataTable}; the metadata was altered. Fix or delete that row.");
                    }

                    existing.EnsureSameAs(model, name);
                    if (!string.Equals(existingDistance, distance, StringComparison.Ordinal))
                    {
                        throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                            $"pgvector collection '{name}' was created with the {existingDistance} distance; these options ask for {distance}. Set PgVectorOptions.Distance = {existingDistance}, or use another collection name.");
                    }

                    return new PgVectorCollection(this, name, existing, existingTable, _options.Distance);
                }
            }

            string qualified = $"\"{_options.Schema}\".\"{table}\"";
            await ExecuteAsync(connection, transaction,
                $"CREATE TABLE IF NOT EXISTS {qualified} (key text PRIMARY KEY, embedding vector({model.Dimensions}) NOT NULL, data jsonb)", ct).ConfigureAwait(false);
            if (_options.CreateHnswIndex)
            {
                string ops = _options.Distance == PgVectorDistance.InnerProduct ? "vector_ip_ops" : "vector_cosine_ops";
                await ExecuteAsync(connection, transaction,
                    $"CREATE INDEX IF NOT EXISTS \"{table}_hnsw\" ON {qualified} USING hnsw (embedding {ops}) WITH (m = {_options.HnswM}, ef_construction = {_options.HnswEfConstruction})", ct).ConfigureAwait(false);
            }

            await using (var insert = new NpgsqlCommand($"INSERT INTO {MetadataTable} (name, table_name, model, dimensions, distance) VALUES (@name, @table, @model, @dimensions, @distance)", connection, transaction))
            {
                insert.Parameters.AddWithValue("name", name);
                insert.Parameters.AddWithValue("table", table);
                insert.Parameters.AddWithValue("model", model.ModelName);
                insert.Parameters.AddWithValue("dimensions", model.Dimensions);
                insert.Parameters.AddWithValue("distance", distance);
                await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return (IVectorCollection)new PgVectorCollection(this, name, model, table, _options.Distance);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops a collection's table and its metadata row; returns whether it existed.</summary>
    /// <param name="name">The collection name.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        await EnsureSetUpAsync(cancellationToken).ConfigureAwait(false);
        return await RunAsync($"Deleting pgvector collection '{name}'", async (connection, ct) =>
        {
            await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            string? table;
            await using (var delete = new NpgsqlCommand($"DELETE FROM {MetadataTable} WHERE name = @name RETURNING table_name", connection, transaction))
            {
                delete.Parameters.AddWithValue("name", name);
                table = await delete.ExecuteScalarAsync(ct).ConfigureAwait(false) as string;
            }

            if (table is not null && PgVectorOptions.IsIdentifier(table, 63))
            {
                await ExecuteAsync(connection, transaction, $"DROP TABLE IF EXISTS \"{_options.Schema}\".\"{table}\"", ct).ConfigureAwait(false);
            }

            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return table is not null;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The names of the collections recorded in the metadata table, in ordinal order.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async IAsyncEnumerable<string> ListCollectionNamesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await EnsureSetUpAsync(cancellationToken).ConfigureAwait(false);
        List<string> names = await RunAsync("Listing pgvector collections", async (connection, ct) =>
        {
            var found = new List<string>();
            await using var select = new NpgsqlCommand($"SELECT name FROM {MetadataTable} ORDER BY name COLLATE \"C\"", connection);
            await using NpgsqlDataReader reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                found.Add(reader.GetString(0));
            }

            return found;
        }, cancellationToken).ConfigureAwait(false);
        foreach (string name in names)
        {
            yield return name;
        }
    }

    /// <summary>Whether the metadata table records collection <paramref name="name"/>.</summary>
    /// <param name="name">The collection name.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        await EnsureSetUpAsync(cancellationToken).ConfigureAwait(false);
        return await RunAsync($"Looking up pgvector collection '{name}'", async (connection, ct) =>
        {
            await using var select = new NpgsqlCommand($"SELECT 1 FROM {MetadataTable} WHERE name = @name", connection);
            select.Parameters.AddWithValue("name", name);
            return await select.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_ownsSource)
        {
            await _source.DisposeAsync().ConfigureAwait(false);
        }

        _setupGate.Dispose();
    }

    internal async Task<T> RunAsync<T>(string what, Func<NpgsqlConnection, CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        try
        {
            await using NpgsqlConnection connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await body(connection, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (PgErrors.IsDatabaseError(e) && !cancellationToken.IsCancellationRequested)
        {
            throw PgErrors.Map(e, what, Where);
        }
    }

    /// <summary>Whether pgvector <paramref name="version"/> ("0.8.0", "0.7.4"...) has hnsw.iterative_scan (0.8.0 and later).</summary>
    internal static bool SupportsIterativeScan(string? version)
    {
        string[] parts = (version ?? "").Split('.');
        return parts.Length >= 2
            && int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int major)
            && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int minor)
            && (major > 0 || minor >= 8);
    }

    internal static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task EnsureSetUpAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _setUp))
        {
            return;
        }

        await _setupGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_setUp)
            {
                return;
            }

            if (_options.CreateExtension)
            {
                await RunAsync("Creating the pgvector extension", async (connection, ct) =>
                {
                    await ExecuteAsync(connection, null, "CREATE EXTENSION IF NOT EXISTS vector", ct).ConfigureAwait(false);
                    return true;
                }, cancellationToken).ConfigureAwait(false);
            }

            await RunAsync("Creating the pgvector metadata table", async (connection, ct) =>
            {
                await ExecuteAsync(connection, null,
                    $"CREATE TABLE IF NOT EXISTS {MetadataTable} (name text PRIMARY KEY, table_name text NOT NULL, model text NOT NULL, dimensions integer NOT NULL, distance text NOT NULL)", ct).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
            HasIterativeScan = await RunAsync("Reading the pgvector version", async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT extversion FROM pg_extension WHERE extname = 'vector'", connection);
                return SupportsIterativeScan(await command.ExecuteScalarAsync(ct).ConfigureAwait(false) as string);
            }, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _setUp, true);
        }
        finally
        {
            _setupGate.Release();
        }
    }
}
