using System.Text.Json;

namespace Ghostie.Sync.Internal;

/// <summary>
/// Reads the top-level <c>"format"</c> number of a JSON document before the document is bound to a type, so that a
/// document of a newer format is reported as "unsupported format vN" even when its shape no longer fits this version.
/// </summary>
internal static class FormatPeek
{
    /// <summary>The top-level "format" value; 1 when absent (format 1 documents may omit it); null when the JSON is malformed.</summary>
    public static long? Read(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isFormat = reader.ValueTextEquals("format"u8);
                if (!reader.Read())
                {
                    return null;
                }

                if (isFormat)
                {
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long format) ? format : null;
                }

                reader.Skip();
            }

            return 1;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
