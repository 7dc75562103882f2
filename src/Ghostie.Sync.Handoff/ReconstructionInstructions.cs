namespace Ghostie.Sync.Handoff;

/// <summary>How the receiving device rebuilds the conversation.</summary>
public sealed record ReconstructionInstructions
{
    /// <summary>The context sections in loading order (see <see cref="ContextSections"/>).</summary>
    public IReadOnlyList<string> ContextPriorities { get; init; } = [];

    /// <summary>Agent ids in activation order.</summary>
    public IReadOnlyList<string> AgentActivationOrder { get; init; } = [];

    /// <summary>"priority-then-lazy": agents and vectors load by priority within the device's budget, the rest on demand.</summary>
    public string MemoryLoadingStrategy { get; init; } = "priority-then-lazy";

    /// <summary>Where to carry on.</summary>
    public ResumptionPoint ResumptionPoint { get; init; } = new();
}
