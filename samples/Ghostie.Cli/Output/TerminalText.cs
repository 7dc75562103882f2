using System.Globalization;
using System.Text;

namespace Ghostie.Cli.Output;

/// <summary>
/// Makes text from memories, the repository or other devices safe to print on a terminal. A memory can be written
/// from untrusted text and reaches every device: raw ESC or CSI (U+009B) would let it retitle or repaint the terminal
/// (or worse, on terminals that answer queries), and bidirectional overrides would let it show other text than it holds.
/// Such characters are shown as visible escapes (<c>\x1b</c>, <c>\u202e</c>) instead. JSON output never goes through
/// here: JSON escaping keeps it exact.
/// </summary>
internal static class TerminalText
{
    /// <summary>
    /// <paramref name="text"/> with every C0 control, DEL, C1 control, bidirectional control and line or paragraph
    /// separator replaced by a visible escape. With <paramref name="keepLineBreaks"/>, line feeds (CRLF counts as one)
    /// and tabs stay as they are, so multi-line content stays readable; a lone carriage return, which would let text
    /// overwrite its own line, is escaped all the same.
    /// </summary>
    /// <param name="text">The text to print.</param>
    /// <param name="keepLineBreaks">Keep <c>\n</c> and <c>\t</c> (for a memory's content); otherwise they are escaped too.</param>
    public static string Escape(string text, bool keepLineBreaks = false)
    {
        int first = FirstUnsafe(text, keepLineBreaks);
        if (first < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        builder.Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (keepLineBreaks && c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                continue;  // CRLF prints as the LF that follows
            }

            if (!IsUnsafe(c, keepLineBreaks))
            {
                builder.Append(c);
            }
            else if (c < 0x80)
            {
                builder.Append(c switch
                {
                    '\n' => "\\n",
                    '\r' => "\\r",
                    '\t' => "\\t",
                    _ => "\\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture),
                });
            }
            else
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>Whether <paramref name="c"/> must not reach a terminal raw.</summary>
    internal static bool IsUnsafe(char c, bool keepLineBreaks) => c switch
    {
        '\n' or '\t' => !keepLineBreaks,
        < '\x20' or '\x7f' => true,                 // C0 controls (ESC, BEL, BS, CR, ...) and DEL
        >= '\x80' and <= '\x9f' => true,            // C1 controls: CSI U+009B, OSC U+009D, ... (8-bit ESC sequences)
        '\u061c' or '\u200e' or '\u200f' => true,   // bidi marks
        >= '\u202a' and <= '\u202e' => true,        // bidi embeddings and overrides (Trojan Source)
        >= '\u2066' and <= '\u2069' => true,        // bidi isolates
        '\u2028' or '\u2029' => true,               // line and paragraph separators: line breaks to some terminals
        _ => false,
    };

    private static int FirstUnsafe(string text, bool keepLineBreaks)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (IsUnsafe(text[i], keepLineBreaks))
            {
                return i;
            }
        }

        return -1;
    }
}
