using System.Text;

namespace Ghostie.Sync.Testing;

/// <summary>
/// The subset of Drive's search grammar (https://developers.google.com/drive/api/guides/ref-search-terms) the double
/// understands: terms joined with <c>and</c>: <c>'ID' in parents</c>, <c>name = 'x'</c>, <c>name != 'x'</c>,
/// <c>trashed = true|false</c>, <c>mimeType = 'x'</c>, <c>mimeType != 'x'</c>, <c>appProperties has { key='k' and
/// value='v' }</c>. Strings are single-quoted; "\'" is a quote and "\\" a backslash inside them. Anything else is a
/// <see cref="FormatException"/> (the double answers 400 invalid, location q).
/// </summary>
internal static class DriveQuery
{
    public static Func<DriveDoubleFile, bool> Parse(string q, Func<string, string?> resolveParent)
    {
        var terms = new List<Func<DriveDoubleFile, bool>>();
        var reader = new Reader(q);
        reader.SkipSpace();
        if (reader.AtEnd)
        {
            return _ => !false;
        }

        while (true)
        {
            terms.Add(Term(reader, resolveParent));
            reader.SkipSpace();
            if (reader.AtEnd)
            {
                break;
            }

            reader.Expect("and");
        }

        // Trashed files are listed unless the query excludes them, as Drive does.
        return file => terms.All(t => t(file));
    }

    private static Func<DriveDoubleFile, bool> Term(Reader reader, Func<string, string?> resolveParent)
    {
        reader.SkipSpace();
        if (reader.Peek() == '\'')
        {
            string id = reader.String();
            reader.Expect("in");
            reader.Expect("parents");
            string? resolved = resolveParent(id);
            return f => f.Parents.Contains(resolved ?? id);
        }

        string field = reader.Word();
        switch (field)
        {
            case "name":
            case "mimeType":
            {
                string op = reader.Operator();
                string value = reader.String();
                Func<DriveDoubleFile, string> get = field == "name" ? f => f.Name : f => f.MimeType;
                return op switch
                {
                    "=" => f => string.Equals(get(f), value, StringComparison.Ordinal),
                    "!=" => f => !string.Equals(get(f), value, StringComparison.Ordinal),
                    _ => throw new FormatException(op),
                };
            }

            case "trashed":
            {
                string op = reader.Operator();
                string value = reader.Word();
                if (op != "=" || value is not ("true" or "false"))
                {
                    throw new FormatException(value);
                }

                bool wanted = value == "true";
                return f => f.Trashed == wanted;
            }

            case "appProperties":
            {
                reader.Expect("has");
                reader.Expect("{");
                reader.Expect("key");
                reader.Expect("=");
                string key = reader.String();
                reader.Expect("and");
                reader.Expect("value");
                reader.Expect("=");
                string value = reader.String();
                reader.Expect("}");
                return f => f.AppProperties.TryGetValue(key, out string? v) && v == value;
            }

            default:
                throw new FormatException(field);
        }
    }

    private sealed class Reader(string text)
    {
        private int _at;

        public bool AtEnd => _at >= text.Length;

        public char Peek() => AtEnd ? '\0' : text[_at];

        public void SkipSpace()
        {
            while (!AtEnd && char.IsWhiteSpace(text[_at]))
            {
                _at++;
            }
        }

        public void Expect(string token)
        {
            SkipSpace();
            if (string.CompareOrdinal(text, _at, token, 0, token.Length) != 0)
            {
                throw new FormatException(token);
            }

            _at += token.Length;
        }

        public string Word()
        {
            SkipSpace();
            int start = _at;
            while (!AtEnd && char.IsAsciiLetterOrDigit(text[_at]))
            {
                _at++;
            }

            return start == _at ? throw new FormatException("word") : text[start.._at];
        }

        public string Operator()
        {
            SkipSpace();
            if (Peek() == '=')
            {
                _at++;
                return "=";
            }

            if (string.CompareOrdinal(text, _at, "!=", 0, 2) == 0)
            {
                _at += 2;
                return "!=";
            }

            throw new FormatException("operator");
        }

        public string String()
        {
            SkipSpace();
            if (Peek() != '\'')
            {
                throw new FormatException("string");
            }

            _at++;
            var value = new StringBuilder();
            while (true)
            {
                if (AtEnd)
                {
                    throw new FormatException("unterminated string");
                }

                char c = text[_at++];
                if (c == '\\')
                {
                    if (AtEnd)
                    {
                        throw new FormatException("escape");
                    }

                    value.Append(text[_at++]);
                }
                else if (c == '\'')
                {
                    return value.ToString();
                }
                else
                {
                    value.Append(c);
                }
            }
        }
    }
}
