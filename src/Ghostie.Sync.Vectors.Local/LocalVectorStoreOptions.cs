namespace Ghostie.Sync.Vectors.Local;

/// <summary>How a local collection answers searches.</summary>
public enum LocalIndexKind
{
    /// <summary>Exact search until the collection reaches <see cref="LocalVectorStoreOptions.HnswThreshold"/> live
    /// records, then an HNSW graph (default).</summary>
    Auto = 0,

    /// <summary>Always exact (a SIMD scan of every vector): slowest on big collections, never misses.</summary>
    Exact = 1,

    /// <summary>Always an HNSW graph, built as records arrive.</summary>
    Hnsw = 2,
}

/// <summary>How vectors are stored.</summary>
public enum VectorQuantization
{
    /// <summary>32-bit floats (default): exact scores.</summary>
    None = 0,

    /// <summary>One signed byte per dimension plus one float scale per vector: about 4x less memory and disk, scores
    /// within about 0.01 of the float ones (see docs/vectors.md). The original floats are not kept.</summary>
    Int8 = 1,
}

/// <summary>HNSW graph parameters (the hnswlib defaults the benchmarks compare against).</summary>
public sealed class HnswOptions
{
    /// <summary>Links per node on the upper layers; layer 0 has 2M (default 16; 4 to 64).</summary>
    public int M { get; set; } = 16;

    /// <summary>Candidate list size while inserting (default 200; at least M). Higher builds slower and finds better links.</summary>
    public int EfConstruction { get; set; } = 200;

    /// <summary>Candidate list size while searching (default 64; raised to the requested top when smaller). Higher is
    /// slower with better recall.</summary>
    public int EfSearch { get; set; } = 64;

    /// <summary>Seed of the level generator, so the same inserts give the same graph (default 100, as hnswlib).</summary>
    public int Seed { get; set; } = 100;
}

/// <summary>Options of <see cref="LocalVectorStore"/>.</summary>
public sealed class LocalVectorStoreOptions
{
    /// <summary>The folder holding one index file per collection (<c>&lt;name&gt;.gvx</c>). Null keeps collections in
    /// memory only (default null; the DI registration defaults it to <c>&lt;Ghostie home&gt;/vectors</c>).</summary>
    public string? Directory { get; set; }

    /// <summary>Exact, HNSW, or automatic (default <see cref="LocalIndexKind.Auto"/>).</summary>
    public LocalIndexKind IndexKind { get; set; } = LocalIndexKind.Auto;

    /// <summary>With <see cref="LocalIndexKind.Auto"/>, the live record count from which an HNSW graph is built
    /// (default 20,000: below it an exact scan takes a few milliseconds).</summary>
    public int HnswThreshold { get; set; } = 20_000;

    /// <summary>Graph parameters.</summary>
    public HnswOptions Hnsw { get; } = new();

    /// <summary>Float or int8 storage for new collections (default <see cref="VectorQuantization.None"/>); a
    /// collection keeps the quantization it was created with.</summary>
    public VectorQuantization Quantization { get; set; } = VectorQuantization.None;

    /// <summary>This device's id, recorded on each change so synchronized collections merge deterministically
    /// (default "local"; the sync layer sets the repository device id).</summary>
    public string DeviceId { get; set; } = "local";

    /// <summary>The clock that stamps changes (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws a clear error when a value is out of range.</summary>
    /// <exception cref="GhostieSyncException">A value is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate()
    {
        if (Hnsw.M is < 4 or > 64)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"HnswOptions.M is {Hnsw.M}; use 4 to 64.");
        }

        if (Hnsw.EfConstruction < Hnsw.M || Hnsw.EfConstruction > 4096)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"HnswOptions.EfConstruction is {Hnsw.EfConstruction}; use M to 4,096.");
        }

        if (Hnsw.EfSearch is < 1 or > 10_000)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"HnswOptions.EfSearch is {Hnsw.EfSearch}; use 1 to 10,000.");
        }

        if (HnswThreshold < 1)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"LocalVectorStoreOptions.HnswThreshold is {HnswThreshold}; use 1 or more.");
        }

        if (string.IsNullOrWhiteSpace(DeviceId) || DeviceId.Length > 128)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "LocalVectorStoreOptions.DeviceId must be 1 to 128 characters.");
        }

        if (TimeProvider is null)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "LocalVectorStoreOptions.TimeProvider must be set.");
        }
    }
}
