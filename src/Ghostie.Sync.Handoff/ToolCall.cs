namespace Ghostie.Sync.Handoff;

/// <summary>A tool call made by the assistant.</summary>
public sealed class ToolCall
{
    /// <summary>The call id.</summary>
    public string Id { get; init; } = "";

    /// <summary>The tool ("Bash", "Edit", "Read", "Task", ...).</summary>
    public required string Name { get; init; }

    /// <summary>The call's input as compact JSON.</summary>
    public string Input { get; set; } = "";

    /// <summary>The file the call works on (file_path, path or notebook_path of its input), if any.</summary>
    public string? FilePath { get; set; }

    /// <summary>A one-line description: the command, the pattern, or the sub-agent's task.</summary>
    public string Summary { get; set; } = "";

    /// <summary>Code the call writes (new_string, content), if any.</summary>
    public string? Code { get; set; }
}
