using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ghostie.Sync.Vectors.PgVector.Internal;

/// <summary>pgvector's text form ("[1,2.5,-3]"), and the jsonb form of record data. Vectors travel as text
/// parameters cast with <c>::vector</c>, which needs no type plugin on the client.</summary>
internal static class VectorText
{
    public static string Format(ReadOnlySpan<float> vector, bool normalize)
    {
        float scale = 1f;
        if (normalize)
        {
            double sum = 0;
            foreach (float x in vector)
            {
                sum += (double)x * x;
            }

            scale = sum > 0 ? (float)(1 / Math.Sqrt(sum)) : 1f;
        }

        var text = new StringBuilder((vector.Length * 12) + 2);
        text.Append('[');
        Span<char> buffer = stackalloc char[32];
        for (int i = 0; i < vector.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            // Shortest round-trip form: the database gets exactly the float given.
            (vector[i] * scale).TryFormat(buffer, out int written, "R", CultureInfo.InvariantCulture);
            text.Append(buffer[..written]);
        }

        return text.Append(']').ToString();
    }

    public static float[] Parse(string text, string collection, string key)
    {
        ReadOnlySpan<char> span = text.AsSpan().Trim();
        if (span.Length < 2 || span[0] != '[' || span[^1] != ']')
        {
            throw Malformed(collection, key);
        }

        span = span[1..^1];
        if (span.IsEmpty)
        {
            return [];
        }

        var values = new List<float>(span.Count(',') + 1);
        foreach (Range part in span.Split(','))
        {
            if (!float.TryParse(span[part], NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
            {
                throw Malformed(collection, key);
            }

            values.Add(value);
        }

        return values.ToArray();
    }

    public static string? FormatData(IReadOnlyDictionary<string, string>? data) =>
        data is null ? null : JsonSerializer.Serialize(data.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), PgVectorJsonContext.Default.DictionaryStringString);

    public static IReadOnlyDictionary<string, string>? ParseData(string? json, string collection, string key)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(json, PgVectorJsonContext.Default.DictionaryStringString);
        }
        catch (JsonException e)
        {
            throw new GhostieSyncException(GhostieErrorCode.UnsupportedFormat,
                $"The data of record '{key}' in pgvector collection '{collection}' is not an object of string values; it was written outside Ghostie. Rewrite the record.", innerException: e);
        }
    }

    private static GhostieSyncException Malformed(string collection, string key) =>
        new(GhostieErrorCode.UnsupportedFormat, $"The embedding of record '{key}' in pgvector collection '{collection}' is not in pgvector's text form; check the pgvector version.");
}

[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class PgVectorJsonContext : JsonSerializerContext
{
}
