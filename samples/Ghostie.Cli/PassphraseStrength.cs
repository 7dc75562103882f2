namespace Ghostie.Cli;

/// <summary>An estimate of how many guesses a passphrase would take, as bits (log2 of the guesses).</summary>
/// <param name="Bits">log2 of the estimated number of guesses.</param>
/// <param name="Weakness">What makes it guessable ("a common password", "a keyboard pattern", ...), or "" when nothing stood out.</param>
internal readonly record struct PassphraseEstimate(double Bits, string Weakness);

/// <summary>
/// A small passphrase strength estimator in the spirit of zxcvbn (Wheeler, USENIX Security 2016): the passphrase is
/// split into the pieces an attacker would guess cheaply (common passwords and words, also reversed or with l33t
/// substitutions, keyboard runs, alphabetic and numeric sequences, repeats, years), the rest is brute force over
/// the character classes used, and the estimate is the cheapest split (the product of the pieces' guesses, times
/// the number of orders the pieces could come in). It knows far fewer words than zxcvbn, so it overrates passphrases
/// built from ordinary words; it is a floor against the obviously weak, not a proof of strength.
/// </summary>
internal static class PassphraseStrength
{
    /// <summary>Below this a new passphrase is refused (unless forced): about 7e10 guesses, some weeks of one GPU
    /// against PBKDF2-HMAC-SHA256 at 600,000 iterations (roughly 10^4 guesses a second).</summary>
    public const double FloorBits = 36;

    /// <summary>From this a passphrase is accepted without a warning: about 10^15 guesses, thousands of GPU-years
    /// (four random common words, or 11 random lowercase letters).</summary>
    public const double GoodBits = 50;

    // Only the first characters are analysed and the rest is ignored (zxcvbn does the same), which can only underrate
    // a long passphrase: 128 characters of anything but repeats and patterns are far above the good level already.
    internal const int MaxAnalysed = 128;

    private enum Kind { BruteForce, Dictionary, Keyboard, Sequence, Repeat, Year }

    private readonly record struct Match(int Start, int End, double Log2Guesses, Kind Kind);

    // Common passwords and words of passwords (lowercase, best known first: the rank is the guess count). A short
    // list: the top of the leaked-password rankings, keyboard walks that are not single-row runs, and famous phrases.
    private static readonly string[] Common =
    [
        "password", "123456", "qwerty", "letmein", "welcome", "admin", "iloveyou", "monkey", "dragon", "football",
        "baseball", "master", "shadow", "sunshine", "princess", "trustno1", "superman", "batman", "starwars", "login",
        "hello", "freedom", "whatever", "michael", "jennifer", "jordan", "hunter", "ranger", "buster", "soccer",
        "hockey", "killer", "george", "charlie", "andrew", "michelle", "love", "secret", "summer", "winter", "spring",
        "autumn", "ninja", "mustang", "access", "flower", "passphrase", "pass", "passwd", "test", "guest", "root",
        "changeme", "default", "zaq12wsx", "qweasd", "qweasdzxc",
        "asdf", "zxcv", "abc", "ghostie", "computer", "internet", "cookie", "cheese", "chocolate", "pepper", "orange",
        "banana", "apple", "tigger", "pokemon", "matrix", "thomas", "daniel", "jessica", "ashley", "nicole", "robert",
        "maggie", "ginger", "hannah", "purple", "yellow", "silver", "golden", "diamond", "angel", "lovely", "forever",
        "family", "friend", "friends", "money", "happy", "heaven", "jesus", "god", "blink", "lucky", "magic", "samsung",
        "google", "facebook", "linkedin", "dropbox", "adobe", "iphone", "android", "windows", "linux", "ubuntu", "mypass",
        "mypassword", "private", "system", "server", "database", "office", "work", "company", "london", "paris", "berlin",
        "correcthorsebatterystaple", "correct horse battery staple", "correct", "horse", "battery", "staple",
        "tr0ub4dor", "troubador", "opensesame", "open sesame", "letitbe", "iloveu", "loveme", "fuckyou", "biteme", "qwer",
        "asdfgh", "zxcvbn", "azerty", "qwertz", "abcd", "aaaa", "1111", "0000",
    ];

    // QWERTY rows (plain and shifted) and the usual column walks (1qaz2wsx..., 1q2w3e...), as lines a run can follow.
    private static readonly string[] KeyboardRows =
    [
        "`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./", "~!@#$%^&*()_+", "QWERTYUIOP{}|", "ASDFGHJKL:\"", "ZXCVBNM<>?",
        "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/", "qazwsxedcrfvtgbyhnujmik,ol.p;/", "1q2w3e4r5t6y7u8i9o0p", "q1w2e3r4t5y6u7i8o9p0",
    ];

    private static readonly Dictionary<char, char> L33t = new()
    {
        ['0'] = 'o', ['1'] = 'i', ['!'] = 'i', ['3'] = 'e', ['4'] = 'a', ['@'] = 'a', ['5'] = 's', ['$'] = 's', ['7'] = 't', ['+'] = 't', ['8'] = 'b', ['9'] = 'g', ['|'] = 'l',
    };

    /// <summary>Estimates how hard <paramref name="passphrase"/> is to guess.</summary>
    /// <param name="passphrase">The passphrase (never stored, logged or returned).</param>
    public static PassphraseEstimate Estimate(string passphrase)
    {
        string text = passphrase.Length > MaxAnalysed ? passphrase[..MaxAnalysed] : passphrase;
        if (text.Length == 0)
        {
            return new PassphraseEstimate(0, "it is empty");
        }

        (double bits, List<Match> pieces) = Cheapest(text, new Dictionary<string, double>(StringComparer.Ordinal));
        return new PassphraseEstimate(bits, Explain(text, pieces, bits));
    }

    private static string Explain(string text, List<Match> pieces, double bits)
    {
        // The guessable piece that covers the most characters names the weakness.
        Match? worst = pieces.Where(p => p.Kind != Kind.BruteForce).OrderByDescending(p => p.End - p.Start).Cast<Match?>().FirstOrDefault();
        if (worst is { } w && (w.End - w.Start) * 2 >= text.Length)
        {
            return w.Kind switch
            {
                Kind.Dictionary => "it is built on a common password or word",
                Kind.Keyboard => "it is a keyboard pattern such as qwerty",
                Kind.Sequence => "it is a sequence such as abcd or 1234",
                Kind.Repeat => "it is a repeat such as aaaa or abcabc",
                _ => "it is a year or date",
            };
        }

        if (worst is { } part && bits < GoodBits)
        {
            return part.Kind switch
            {
                Kind.Dictionary => "it is short, and part of it is a common password or word",
                Kind.Keyboard => "it is short, and part of it is a keyboard pattern",
                Kind.Sequence => "it is short, and part of it is a sequence",
                Kind.Repeat => "it is short, and part of it repeats",
                _ => "it is short, and part of it is a year",
            };
        }

        return bits < GoodBits ? "it is short" : "";
    }

    /// <summary>The cheapest split of <paramref name="text"/> into pieces: log2 of its guesses and the pieces.</summary>
    /// <param name="text">The text.</param>
    /// <param name="units">The bits of repeated units already estimated (a repeat costs its unit's guesses).</param>
    private static (double Bits, List<Match> Pieces) Cheapest(string text, Dictionary<string, double> units)
    {
        int n = text.Length;
        List<Match>[] endingAt = new List<Match>[n + 1];
        for (int i = 0; i <= n; i++)
        {
            endingAt[i] = [];
        }

        foreach (Match match in FindMatches(text, units))
        {
            endingAt[match.End].Add(match);
        }

        double perChar = Math.Log2(Cardinality(text));

        // best[j, k]: the fewest log2-guesses covering text[..j] with exactly k pieces (zxcvbn's search, in log space).
        double[,] best = new double[n + 1, n + 1];
        Match?[,] last = new Match?[n + 1, n + 1];
        for (int j = 0; j <= n; j++)
        {
            for (int k = 0; k <= n; k++)
            {
                best[j, k] = double.PositiveInfinity;
            }
        }

        best[0, 0] = 0;
        for (int j = 1; j <= n; j++)
        {
            for (int k = 1; k <= j; k++)
            {
                // A brute-force piece text[i..j] (never right after another one: one longer piece is never dearer).
                for (int i = 0; i < j; i++)
                {
                    if (double.IsPositiveInfinity(best[i, k - 1]) || last[i, k - 1] is { Kind: Kind.BruteForce })
                    {
                        continue;
                    }

                    double cost = best[i, k - 1] + (j - i) * perChar;
                    if (cost < best[j, k])
                    {
                        best[j, k] = cost;
                        last[j, k] = new Match(i, j, (j - i) * perChar, Kind.BruteForce);
                    }
                }

                foreach (Match match in endingAt[j])
                {
                    double cost = best[match.Start, k - 1] + match.Log2Guesses;
                    if (cost < best[j, k])
                    {
                        best[j, k] = cost;
                        last[j, k] = match;
                    }
                }
            }
        }

        double bestBits = double.PositiveInfinity;
        int bestK = 1;
        for (int k = 1; k <= n; k++)
        {
            double total = best[n, k] + Log2Factorial(k);  // the pieces could come in any order
            if (total < bestBits)
            {
                bestBits = total;
                bestK = k;
            }
        }

        var pieces = new List<Match>();
        for (int j = n, k = bestK; j > 0; k--)
        {
            Match piece = last[j, k]!.Value;
            pieces.Add(piece);
            j = piece.Start;
        }

        pieces.Reverse();
        return (bestBits, pieces);
    }

    private static IEnumerable<Match> FindMatches(string text, Dictionary<string, double> units)
    {
        string lower = text.ToLowerInvariant();
        string unleeted = new(lower.Select(c => L33t.GetValueOrDefault(c, c)).ToArray());
        string reversed = new(lower.Reverse().ToArray());
        int n = text.Length;

        // Common passwords and words: as typed, with l33t substitutions undone, and reversed.
        for (int rank = 0; rank < Common.Length; rank++)
        {
            string word = Common[rank];
            double rankBits = Math.Log2(rank + 2);
            foreach (int at in Occurrences(lower, word))
            {
                yield return new Match(at, at + word.Length, rankBits + CaseBits(text.AsSpan(at, word.Length)), Kind.Dictionary);
            }

            foreach (int at in Occurrences(unleeted, word))
            {
                if (!lower.AsSpan(at, word.Length).SequenceEqual(word))
                {
                    yield return new Match(at, at + word.Length, rankBits + CaseBits(text.AsSpan(at, word.Length)) + 1, Kind.Dictionary);
                }
            }

            foreach (int at in Occurrences(reversed, word))
            {
                int start = n - at - word.Length;
                yield return new Match(start, start + word.Length, rankBits + CaseBits(text.AsSpan(start, word.Length)) + 1, Kind.Dictionary);
            }
        }

        // Keyboard runs along one line, either way: the lines x about 12 starting keys x 2 directions, times the length.
        for (int i = 0; i < n; i++)
        {
            foreach (string row in KeyboardRows)
            {
                int at = row.IndexOf(text[i], StringComparison.Ordinal);
                if (at < 0)
                {
                    continue;
                }

                foreach (int step in (int[])[1, -1])
                {
                    int length = 1;
                    while (i + length < n && at + (step * length) is int next && next >= 0 && next < row.Length && row[next] == text[i + length])
                    {
                        length++;
                        if (length >= 3)
                        {
                            yield return new Match(i, i + length, Math.Log2(KeyboardRows.Length * 12 * 2 * length), Kind.Keyboard);
                        }
                    }
                }
            }
        }

        // Sequences: letters or digits stepping by +1 or -1 (abcd, 9876), from an obvious start or any.
        for (int i = 0; i + 2 < n; i++)
        {
            int delta = lower[i + 1] - lower[i];
            if (delta is not (1 or -1) || !SameClass(lower[i], lower[i + 1]))
            {
                continue;
            }

            for (int j = i + 2; j < n && lower[j] - lower[j - 1] == delta && SameClass(lower[j], lower[j - 1]); j++)
            {
                char first = lower[i];
                double start = first is 'a' or 'z' or '0' or '1' or '9' ? 4 : char.IsDigit(first) ? 10 : 26;
                yield return new Match(i, j + 1, Math.Log2(start * (j + 1 - i) * (delta < 0 ? 2 : 1)), Kind.Sequence);
            }
        }

        // Repeats: a unit typed k >= 2 times in a row (aaaa, abcabc), costing the unit's own guesses times k.
        for (int i = 0; i < n; i++)
        {
            for (int unit = 1; i + (2 * unit) <= n && unit <= n / 2; unit++)
            {
                int count = 1;
                while (i + ((count + 1) * unit) <= n && text.AsSpan(i + (count * unit), unit).SequenceEqual(text.AsSpan(i, unit)))
                {
                    count++;
                }

                if (count >= 2 && count * unit >= 3)
                {
                    string unitText = text.Substring(i, unit);
                    if (!units.TryGetValue(unitText, out double unitBits))
                    {
                        unitBits = unit == 1 ? Math.Log2(Cardinality(unitText)) : Cheapest(unitText, units).Bits;
                        units[unitText] = unitBits;
                    }

                    for (int k = 2; k <= count; k++)
                    {
                        if (k * unit >= 3)
                        {
                            yield return new Match(i, i + (k * unit), unitBits + Math.Log2(k), Kind.Repeat);
                        }
                    }
                }
            }
        }

        // Years 1900-2039, in a password usually as a birth year or "this year".
        for (int i = 0; i + 4 <= n; i++)
        {
            if (int.TryParse(text.AsSpan(i, 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int year)
                && year is >= 1900 and <= 2039)
            {
                yield return new Match(i, i + 4, Math.Log2(140), Kind.Year);
            }
        }
    }

    private static IEnumerable<int> Occurrences(string text, string word)
    {
        for (int at = text.IndexOf(word, StringComparison.Ordinal); at >= 0; at = text.IndexOf(word, at + 1, StringComparison.Ordinal))
        {
            yield return at;
        }
    }

    private static bool SameClass(char a, char b) => (char.IsAsciiLetterLower(a) && char.IsAsciiLetterLower(b)) || (char.IsAsciiDigit(a) && char.IsAsciiDigit(b));

    /// <summary>Extra bits for capitals in a word: none for all lowercase, one for "Word" or "WORD", more for mixed.</summary>
    private static double CaseBits(ReadOnlySpan<char> word)
    {
        int upper = 0, letters = 0;
        foreach (char c in word)
        {
            if (char.IsLetter(c))
            {
                letters++;
                upper += char.IsUpper(c) ? 1 : 0;
            }
        }

        if (upper == 0)
        {
            return 0;
        }

        if (upper == letters || (upper == 1 && char.IsUpper(word[0])))
        {
            return 1;
        }

        return Math.Min(upper, letters - upper) + 1;
    }

    /// <summary>The alphabet a brute-force attacker needs for <paramref name="text"/>: the sum of the classes it uses.</summary>
    private static int Cardinality(string text)
    {
        bool lower = false, upper = false, digit = false, symbol = false, other = false;
        foreach (char c in text)
        {
            lower |= char.IsAsciiLetterLower(c);
            upper |= char.IsAsciiLetterUpper(c);
            digit |= char.IsAsciiDigit(c);
            symbol |= c < 128 && !char.IsAsciiLetterOrDigit(c);
            other |= c >= 128;
        }

        return Math.Max(2, (lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (symbol ? 33 : 0) + (other ? 100 : 0));
    }

    private static double Log2Factorial(int k)
    {
        double sum = 0;
        for (int i = 2; i <= k; i++)
        {
            sum += Math.Log2(i);
        }

        return sum;
    }
}
