using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Handoff.Importers;

/// <summary>The transcript formats the importers read.</summary>
public enum TranscriptFormat
{
    /// <summary>Decide from the content: one JSON object per line is Claude Code, a JSON array (or an object with "messages") is chat.</summary>
    Auto,

    /// <summary>A Claude Code session transcript (JSONL).</summary>
    ClaudeCode,

    /// <summary>A plain chat transcript: a JSON array of {role, content}.</summary>
    ChatJson,
}

/// <summary>Reads a transcript file in any supported format.</summary>
public static class TranscriptImporter
{
    /// <summary>Imports the transcript in <paramref name="path"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="format">Its format, or <see cref="TranscriptFormat.Auto"/>.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The file is missing (<see cref="GhostieErrorCode.NotFound"/>) or is not a transcript of the format (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static async Task<ConversationTranscript> ImportFileAsync(string path, TranscriptFormat format = TranscriptFormat.Auto, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new GhostieSyncException(GhostieErrorCode.NotFound, $"The transcript {path} does not exist.");
        }

        FileStream stream = File.OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            if (format == TranscriptFormat.Auto)
            {
                format = await DetectAsync(stream, path, cancellationToken).ConfigureAwait(false);
                stream.Position = 0;
            }

            string fallbackId = Path.GetFileNameWithoutExtension(path);
            return format == TranscriptFormat.ClaudeCode
                ? await ClaudeCodeTranscriptImporter.ImportAsync(stream, path, fallbackId, cancellationToken).ConfigureAwait(false)
                : await ChatTranscriptImporter.ImportAsync(stream, path, fallbackId, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Tells the format from the first non-blank line: '[' is chat; a line that is a whole JSON object without a
    /// "messages" array is a Claude Code JSONL event (whatever its length, with or without a newline after it); any
    /// other '{' is a chat export wrapped in an object.</summary>
    private static async Task<TranscriptFormat> DetectAsync(Stream stream, string source, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 4096, leaveOpen: true);
        string? line;
        do
        {
            line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        }
        while (line is not null && line.Trim().Length == 0);

        string text = (line ?? "").TrimStart('\uFEFF', ' ', '\t');
        if (text.StartsWith('['))
        {
            return TranscriptFormat.ChatJson;
        }

        if (text.StartsWith('{'))
        {
            return IsCompleteObject(text) ? TranscriptFormat.ClaudeCode : TranscriptFormat.ChatJson;
        }

        throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
            $"{source} is not a transcript this version reads: expected a Claude Code session (JSONL) or a chat transcript (a JSON array of role/content objects).");
    }

    private static bool IsCompleteObject(string line)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(line);
            return document.RootElement.ValueKind == JsonValueKind.Object && !document.RootElement.TryGetProperty("messages", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    internal static DateTimeOffset? ReadTime(JsonElement element, string property)
    {
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out JsonElement value))
        {
            if (value.ValueKind == JsonValueKind.String &&
                DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset time))
            {
                return time;
            }

            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long seconds))
            {
                // Unix seconds, or milliseconds when the value is too large to be seconds; a value outside the calendar
                // (a hostile or broken transcript) is treated as missing rather than aborting the import.
                const long maxSeconds = 253_402_300_799;     // 9999-12-31T23:59:59Z
                const long minSeconds = -62_135_596_800;     // 0001-01-01T00:00:00Z
                if (seconds > 100_000_000_000)
                {
                    return seconds <= maxSeconds * 1000 ? DateTimeOffset.FromUnixTimeMilliseconds(seconds) : null;
                }

                return seconds >= minSeconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
            }
        }

        return null;
    }

    internal static string? ReadString(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
