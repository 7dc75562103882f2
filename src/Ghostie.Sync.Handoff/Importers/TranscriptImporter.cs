using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Handoff.Importers;

/// <summary>Reads a transcript file in any supported format.</summary>
public static class TranscriptImporter
{
    /// <summary>Imports the transcript in <paramref name="path"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="format">Its format, or <see cref="TranscriptFormat.Auto"/>.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The file is missing (<see cref="GhostieErrorCode.NotFound"/>) or is not a transcript of the format (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static Task<ConversationTranscript> ImportFileAsync(string path, TranscriptFormat format = TranscriptFormat.Auto, CancellationToken cancellationToken = default) =>
        ImportFileAsync(path, new TranscriptImportOptions { Format = format }, cancellationToken);

    /// <summary>Imports the transcript in <paramref name="path"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Its format and, for an export, which conversation.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The file is missing, or an export has no such conversation (<see cref="GhostieErrorCode.NotFound"/>);
    /// or it is not a transcript of the format (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static async Task<ConversationTranscript> ImportFileAsync(string path, TranscriptImportOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(path))
        {
            throw new GhostieSyncException(GhostieErrorCode.NotFound, $"The transcript {path} does not exist.");
        }

        FileStream stream = File.OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            TranscriptFormat format = options.Format;
            if (format == TranscriptFormat.Auto)
            {
                format = await DetectAsync(stream, path, cancellationToken).ConfigureAwait(false);
                stream.Position = 0;
            }

            string fallbackId = Path.GetFileNameWithoutExtension(path);
            switch (format)
            {
                case TranscriptFormat.ClaudeCode:
                    return await ClaudeCodeTranscriptImporter.ImportAsync(stream, path, fallbackId, cancellationToken).ConfigureAwait(false);
                case TranscriptFormat.ChatGptExport:
                case TranscriptFormat.ClaudeAiExport:
                    using (JsonDocument document = await ParseAsync(stream, path, cancellationToken).ConfigureAwait(false))
                    {
                        return format == TranscriptFormat.ChatGptExport
                            ? ChatGptExportImporter.Import(document.RootElement, path, options.Conversation, stream.Length)
                            : ClaudeAiExportImporter.Import(document.RootElement, path, options.Conversation, stream.Length);
                    }

                default:
                    return await ChatTranscriptImporter.ImportAsync(stream, path, fallbackId, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<JsonDocument> ParseAsync(Stream stream, string source, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonDocument.ParseAsync(stream, new JsonDocumentOptions { MaxDepth = 256 }, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{source} is not valid JSON (line {ex.LineNumber + 1}): it cannot be a conversation export.", innerException: ex);
        }
    }

    /// <summary>
    /// Tells the format from the content, never from the file name. A first line that is a whole JSON object with a
    /// string "type" (and no "mapping", "chat_messages" or "messages") is a Claude Code JSONL event, whatever its length.
    /// Otherwise the file is one JSON document: a list (or one object) of conversations with a "mapping" is the ChatGPT
    /// export, with "chat_messages" the Claude.ai export; a list of objects with a "role" or "content", or an object with a "messages"
    /// list, is a chat transcript. Anything else is refused with an error naming what was found.
    /// </summary>
    /// <param name="stream">The file, at its start; read, and left at an unspecified position.</param>
    /// <param name="source">A name for messages (the file path).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">No supported format (<see cref="GhostieErrorCode.InvalidArgument"/>), naming what was found.</exception>
    public static async Task<TranscriptFormat> DetectAsync(Stream stream, string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long start = stream.Position;
        string? line;
        using (var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 4096, leaveOpen: true))
        {
            do
            {
                line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            }
            while (line is not null && line.Trim().Length == 0);
        }

        string text = (line ?? "").TrimStart('\uFEFF', ' ', '\t');
        if (text.StartsWith('{') && IsClaudeCodeEvent(text))
        {
            return TranscriptFormat.ClaudeCode;
        }

        if (!text.StartsWith('{') && !text.StartsWith('['))
        {
            throw Unknown(source, line is null ? "an empty file" : "text that is not JSON");
        }

        stream.Position = start;
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(stream, new JsonDocumentOptions { MaxDepth = 256 }, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            // A chat array cut off mid-write, for one: the chat importer says where.
            return text.StartsWith('[') || text.TrimEnd() == "{" ? TranscriptFormat.ChatJson : throw Unknown(source, $"JSON that does not parse (line {ex.LineNumber + 1})");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                JsonElement first = root.EnumerateArray().FirstOrDefault();
                if (first.ValueKind != JsonValueKind.Object)
                {
                    return first.ValueKind == JsonValueKind.Undefined ? throw Unknown(source, "an empty JSON array") : TranscriptFormat.ChatJson;
                }

                return first.TryGetProperty("mapping", out _) ? TranscriptFormat.ChatGptExport
                    : first.TryGetProperty("chat_messages", out _) ? TranscriptFormat.ClaudeAiExport
                    : first.TryGetProperty("role", out _) || first.TryGetProperty("content", out _) ? TranscriptFormat.ChatJson
                    : throw Unknown(source, "a JSON array of objects with keys " + Keys(first));
            }

            if (root.ValueKind == JsonValueKind.Object)
            {
                return root.TryGetProperty("mapping", out _) ? TranscriptFormat.ChatGptExport
                    : root.TryGetProperty("chat_messages", out _) ? TranscriptFormat.ClaudeAiExport
                    : root.TryGetProperty("messages", out _) ? TranscriptFormat.ChatJson
                    : throw Unknown(source, "a JSON object with keys " + Keys(root));
            }

            throw Unknown(source, "a JSON " + root.ValueKind.ToString().ToLowerInvariant());
        }
    }

    private static string Keys(JsonElement element)
    {
        string[] names = element.EnumerateObject().Select(p => p.Name).Take(13).ToArray();
        return names.Length == 0 ? "(none)" : string.Join(", ", names.Take(12).Select(n => ExtractiveCompressor.Truncate(n, 40))) + (names.Length > 12 ? ", ..." : "");
    }

    private static GhostieSyncException Unknown(string source, string found) => new(GhostieErrorCode.InvalidArgument,
        $"{source} is not a transcript this version reads: it is {found}; expected a Claude Code session (JSONL, one event object per line), "
        + "a ChatGPT export's conversations.json (conversations with a \"mapping\"), a Claude.ai export's conversations.json (conversations with "
        + "\"chat_messages\"), or a chat transcript (a JSON array of {\"role\", \"content\"} objects, or an object with a \"messages\" array).");

    private static bool IsClaudeCodeEvent(string line)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(line);
            JsonElement root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object && ReadString(root, "type") is not null
                && !root.TryGetProperty("messages", out _) && !root.TryGetProperty("mapping", out _) && !root.TryGetProperty("chat_messages", out _);
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
