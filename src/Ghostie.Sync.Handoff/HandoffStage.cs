namespace Ghostie.Sync.Handoff;

/// <summary>The stages of creating a package, in order.</summary>
public enum HandoffStage
{
    /// <summary>Removing secrets from the transcript, agents and title.</summary>
    Scrubbing,

    /// <summary>Compressing the context.</summary>
    Compressing,

    /// <summary>Selecting the embeddings similar enough to travel.</summary>
    SelectingEmbeddings,

    /// <summary>Serializing, compressing, encrypting and writing the package.</summary>
    Storing,

    /// <summary>The package is in the repository.</summary>
    Stored,
}
