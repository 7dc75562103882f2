namespace Ghostie.Sync.Testing;

/// <summary>The mix of operations a <see cref="SyncProtocolConformanceTests"/> simulation draws from.</summary>
public enum SimulationWorkload
{
    /// <summary>Adds, edits, deletes, devices going offline and back, conflict resolutions, and push, pull or sync.</summary>
    Full,

    /// <summary>Adds, edits and deletes, and push, pull or sync on every third operation or so; always online, never
    /// resolving (conflicts pile up).</summary>
    EditsAndSyncs,
}
