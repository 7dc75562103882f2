namespace Ghostie.Sync.Handoff;

/// <summary>The sending device and where the conversation's project lives on it (used to rewrite paths).</summary>
public sealed record HandoffSource
{
    /// <summary>The sending device's id.</summary>
    public required string DeviceId { get; init; }

    /// <summary>Its display name.</summary>
    public string DeviceName { get; init; } = "";

    /// <summary>A free-form platform name ("linux", "windows", "macos", "ios", ...).</summary>
    public string Platform { get; init; } = "";

    /// <summary>The project's root folder on the sending device (a coding agent's working directory), if known.</summary>
    public string? ProjectRoot { get; init; }

    /// <summary>The sending user's home folder, if known; paths under it are rewritten to the receiver's home.</summary>
    public string? HomeDirectory { get; init; }

    /// <summary>"posix" or "windows": how the sending device writes paths.</summary>
    public string PathStyle { get; init; } = "posix";
}
