namespace Ghostie.Sync.Handoff;

/// <summary>The values of <see cref="ThreadEntry.Kind"/>.</summary>
public static class ThreadEntryKinds
{
    /// <summary>The whole text of the message.</summary>
    public const string Verbatim = "verbatim";

    /// <summary>The most salient part of the message.</summary>
    public const string Excerpt = "excerpt";

    /// <summary>A summary written by a model (abstractive compression).</summary>
    public const string Summary = "summary";

    /// <summary>A count of messages left out.</summary>
    public const string Omitted = "omitted";
}
