using Npgsql;

namespace Ghostie.Sync.Vectors.PgVector;

/// <summary>How pgvector compares vectors. Both give cosine-similarity scores, as every Ghostie collection does.</summary>
public enum PgVectorDistance
{
    /// <summary>Cosine distance (<c>&lt;=&gt;</c>, <c>vector_cosine_ops</c>); vectors are stored as given. Score = 1 - distance.</summary>
    Cosine = 0,

    /// <summary>Negative inner product (<c>&lt;#&gt;</c>, <c>vector_ip_ops</c>), a little faster; vectors and queries are
    /// normalized to unit length on the way in, so the inner product is the cosine. Score = -distance.</summary>
    InnerProduct = 1,
}

/// <summary>Options of the pgvector tier.</summary>
public sealed class PgVectorOptions
{
    /// <summary>The Npgsql connection string (required unless <see cref="DataSource"/> is set). Never logged. For PGlite
    /// (pglite-server) add <c>Maximum Pool Size=1</c>: it runs one database session for all its connections.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>A data source owned by the host, used instead of <see cref="ConnectionString"/> (the store does not dispose it).</summary>
    public NpgsqlDataSource? DataSource { get; set; }

    /// <summary>The schema holding the tables (default "public"): lower-case letters, digits and '_', starting with a letter or '_'.</summary>
    public string Schema { get; set; } = "public";

    /// <summary>The prefix of each collection's table name (default "ghostie_v_"; same character rule as <see cref="Schema"/>, at most 12 characters).</summary>
    public string TablePrefix { get; set; } = "ghostie_v_";

    /// <summary>The distance operator (default <see cref="PgVectorDistance.Cosine"/>). Recorded per collection: opening a
    /// collection with another distance is an error.</summary>
    public PgVectorDistance Distance { get; set; } = PgVectorDistance.Cosine;

    /// <summary>Whether a new collection's table gets an HNSW index (default true; pgvector indexes at most 2,000 dimensions).</summary>
    public bool CreateHnswIndex { get; set; } = true;

    /// <summary>HNSW <c>m</c>, links per node (default 16, pgvector's default).</summary>
    public int HnswM { get; set; } = 16;

    /// <summary>HNSW <c>ef_construction</c> (default 64, pgvector's default).</summary>
    public int HnswEfConstruction { get; set; } = 64;

    /// <summary>Whether a filtered search that comes back with fewer than Top rows is run again as an exact scan
    /// (default true). An HNSW index walk filters after it finds candidates, so a filter matching only records far from
    /// the query, in a part of the graph the walk does not reach, can leave fewer than Top results (even with
    /// pgvector 0.8's iterative scans, which the search also turns on). The exact scan reads the whole table: turn
    /// this off for very large tables whose filters often match fewer than Top records, and accept the shorter answer.</summary>
    public bool ExactFallbackForShortFilteredSearches { get; set; } = true;

    /// <summary>How many records one INSERT carries (default 500).</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>Whether the store runs <c>CREATE EXTENSION IF NOT EXISTS vector</c> (default true; needs the right to do
    /// so: turn it off when a database administrator installed the extension).</summary>
    public bool CreateExtension { get; set; } = true;

    /// <summary>Every problem with the options (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (DataSource is null && string.IsNullOrWhiteSpace(ConnectionString))
        {
            problems.Add("PgVectorOptions.ConnectionString must be set (or DataSource).");
        }

        if (!IsIdentifier(Schema, 63))
        {
            problems.Add("PgVectorOptions.Schema must be 1 to 63 characters of a-z, 0-9 and '_', not starting with a digit.");
        }

        if (!IsIdentifier(TablePrefix, 12))
        {
            problems.Add("PgVectorOptions.TablePrefix must be 1 to 12 characters of a-z, 0-9 and '_', not starting with a digit.");
        }

        if (!Enum.IsDefined(Distance))
        {
            problems.Add("PgVectorOptions.Distance must be Cosine or InnerProduct.");
        }

        if (HnswM is < 2 or > 100)
        {
            problems.Add("PgVectorOptions.HnswM must be 2 to 100.");
        }

        if (HnswEfConstruction < 4 || HnswEfConstruction > 1000 || HnswEfConstruction < 2 * HnswM)
        {
            problems.Add("PgVectorOptions.HnswEfConstruction must be 4 to 1,000 and at least twice HnswM.");
        }

        if (BatchSize is < 1 or > 10_000)
        {
            problems.Add("PgVectorOptions.BatchSize must be 1 to 10,000.");
        }

        return problems;
    }

    /// <summary>Throws a clear error when the options are not valid.</summary>
    /// <exception cref="GhostieSyncException">An option is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate()
    {
        IReadOnlyList<string> problems = Problems();
        if (problems.Count > 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "Invalid pgvector options: " + string.Join(" ", problems));
        }
    }

    internal static bool IsIdentifier(string? value, int maxLength) =>
        !string.IsNullOrEmpty(value) && value.Length <= maxLength && !char.IsAsciiDigit(value[0])
        && value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');
}
