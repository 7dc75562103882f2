namespace Ghostie.Sync.Handoff;

/// <summary>Pending packages, and the objects that could not be read (named, never silently dropped).</summary>
/// <param name="Pending">Packages for this device, oldest first.</param>
/// <param name="Problems">Objects skipped, with why.</param>
/// <param name="ExpiredDeleted">Expired packages deleted while listing.</param>
public sealed record HandoffListing(IReadOnlyList<PendingHandoff> Pending, IReadOnlyList<SyncProblem> Problems, int ExpiredDeleted);
