namespace Ghostie.Sync.Crypto;

/// <summary>
/// What an object holds. The kind is stored in the envelope header and authenticated, so an object of one kind
/// cannot be passed off as another. The numeric values are part of the format (docs/format.md): never renumber.
/// </summary>
public enum ObjectKind : byte
{
    /// <summary>The label and creation time of a key file (sealed under the master key).</summary>
    KeyFileMetadata = 1,

    /// <summary>A key epoch: a random data key, sealed under the master key.</summary>
    KeyEpoch = 2,

    /// <summary>A pack of memory records (many changes per object).</summary>
    Pack = 16,

    /// <summary>A device head: the small mutable object a device writes last.</summary>
    Head = 17,

    /// <summary>A compacted snapshot of a device's log.</summary>
    Snapshot = 18,

    /// <summary>A conversation handoff package.</summary>
    Handoff = 32,

    /// <summary>Vector data: embeddings and index structures (ChaCha20-Poly1305 by default).</summary>
    VectorData = 48,

    /// <summary>Opaque application data with no more specific kind.</summary>
    Generic = 255,
}
