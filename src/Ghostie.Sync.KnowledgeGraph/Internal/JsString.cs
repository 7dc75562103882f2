using System.Globalization;
using System.Text;

namespace Ghostie.Sync.KnowledgeGraph.Internal;

/// <summary>
/// Strings quoted exactly as JavaScript's <c>JSON.stringify</c> quotes them (ECMAScript 2019 and later), so a graph
/// file graph sync writes is byte for byte the file the memory server itself would write for the same graph.
/// </summary>
internal static class JsString
{
    public static StringBuilder Append(StringBuilder builder, string value)
    {
        builder.Append('"');
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        builder.Append(c).Append(value[++i]);
                    }
                    else if (char.IsSurrogate(c))
                    {
                        // A lone surrogate: JSON.stringify escapes it (well-formed JSON.stringify), lowercase hex.
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        return builder.Append('"');
    }
}
