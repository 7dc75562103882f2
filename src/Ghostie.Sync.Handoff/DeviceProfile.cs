namespace Ghostie.Sync.Handoff;

/// <summary>
/// What a receiving device can hold: a rebuild never exceeds any of these budgets. The iOS, Android and web
/// numbers are the seed's; desktop is ours.
/// </summary>
/// <param name="Name">The profile's name ("ios", "android", "web", "desktop", or a host's own).</param>
/// <param name="MemoryBudgetMegabytes">Memory the rebuilt conversation may take, in MB (10^6 bytes), by the estimate in docs/handoff.md.</param>
/// <param name="ContextTokens">The context window: real tokens of the rebuilt context text, by the rebuild's token counter (o200k_base by default, <see cref="TiktokenTokenCounter.O200kBase"/>).</param>
/// <param name="VectorCacheEntries">Embeddings kept in the on-device vector cache.</param>
/// <param name="MaxAgents">Agents active at once.</param>
public sealed record DeviceProfile(string Name, int MemoryBudgetMegabytes, int ContextTokens, int VectorCacheEntries, int MaxAgents)
{
    /// <summary>iOS: 150 MB, 4,000 tokens, 50 vectors, 2 agents.</summary>
    public static DeviceProfile Ios { get; } = new("ios", 150, 4_000, 50, 2);

    /// <summary>Android: 200 MB, 6,000 tokens, 75 vectors, 3 agents.</summary>
    public static DeviceProfile Android { get; } = new("android", 200, 6_000, 75, 3);

    /// <summary>Web (progressive web app): 100 MB, 2,000 tokens, 25 vectors, 1 agent.</summary>
    public static DeviceProfile Web { get; } = new("web", 100, 2_000, 25, 1);

    /// <summary>Desktop: 1,024 MB, 32,000 tokens, 1,000 vectors, 8 agents.</summary>
    public static DeviceProfile Desktop { get; } = new("desktop", 1_024, 32_000, 1_000, 8);

    /// <summary>The built-in profiles.</summary>
    public static IReadOnlyList<DeviceProfile> BuiltIn { get; } = [Ios, Android, Web, Desktop];

    /// <summary>The memory budget in bytes.</summary>
    public long MemoryBudgetBytes => MemoryBudgetMegabytes * 1_000_000L;

    /// <summary>The built-in profile named <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="name">"ios", "android", "web" or "desktop".</param>
    /// <exception cref="GhostieSyncException">No such profile (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static DeviceProfile FromName(string name) =>
        BuiltIn.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
            $"There is no device profile '{name}'. Use one of: {string.Join(", ", BuiltIn.Select(p => p.Name))}.");

    /// <summary>Throws unless every budget is positive.</summary>
    /// <exception cref="GhostieSyncException">A budget is zero or negative.</exception>
    public void Validate()
    {
        if (MemoryBudgetMegabytes <= 0 || ContextTokens <= 0 || VectorCacheEntries < 0 || MaxAgents < 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Device profile '{Name}' has an invalid budget: memory and context must be positive, vectors and agents non-negative.");
        }
    }
}
