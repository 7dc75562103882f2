using System.Text;
using Xunit.Abstractions;

namespace Ghostie.Sync.Handoff.Tests;

/// <summary>
/// The two corpora of Corpus/scrub, written by hand independently of the rules: ordinary text (prose, code, configs,
/// logs, commit messages, shell sessions, markdown with a base64 image) where the scrubber may change nothing, and
/// planted secrets of every rule in realistic context where it must remove every one and nothing else.
/// </summary>
public sealed class SecretScrubberCorpusTests(ITestOutputHelper output)
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Corpus", "scrub");

    public static TheoryData<string> OrdinaryFiles() => new(Directory.GetFiles(Path.Combine(Root, "ordinary")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    public static TheoryData<string> PlantedFiles() => new(PlantedCorpus.Files().Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(OrdinaryFiles))]
    public void OrdinaryCorpus_FileIsByteIdenticalAfterScrubbing(string file)
    {
        string text = File.ReadAllText(Path.Combine(Root, "ordinary", file));
        var report = new ScrubReport();
        string scrubbed = SecretScrubber.Default.Scrub(text, report);

        Assert.Equal(0, DamagedWords(text, scrubbed));
        Assert.Equal(text, scrubbed);
        Assert.Equal(0, report.Total);
    }

    [Theory]
    [MemberData(nameof(PlantedFiles))]
    public void PlantedCorpus_EverySecretIsReplacedByItsRule_AndEveryOtherByteKept(string file)
    {
        PlantedCorpus planted = PlantedCorpus.Load(Path.Combine(Root, "planted", file));
        var report = new ScrubReport();
        string scrubbed = SecretScrubber.Default.Scrub(planted.Text, report);

        foreach (PlantedSecret secret in planted.Secrets)
        {
            Assert.False(scrubbed.Contains(secret.Value, StringComparison.Ordinal), $"{file}: the {secret.Rule} secret at offset {secret.Offset} is still there");
        }

        Assert.Equal(planted.Expected, scrubbed);
        Assert.Equal(planted.Secrets.Count, report.Total);
    }

    [Fact]
    public void Corpora_EveryRuleHasThreePlantedSecrets_NoMiss_NoFalsePositive()
    {
        var rules = SecretScrubber.Default.RuleNames.ToHashSet(StringComparer.Ordinal);
        var planted = PlantedCorpus.Files().Select(PlantedCorpus.Load).ToList();
        var perRule = planted.SelectMany(p => p.Secrets).GroupBy(s => s.Rule, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        int misses = 0, extra = 0;
        foreach (PlantedCorpus file in planted)
        {
            string scrubbed = SecretScrubber.Default.Scrub(file.Text, new ScrubReport());
            misses += file.Secrets.Count(s => scrubbed.Contains(s.Value, StringComparison.Ordinal));
            extra += scrubbed == file.Expected ? 0 : 1;
        }

        int words = 0, damaged = 0;
        foreach (string path in Directory.GetFiles(Path.Combine(Root, "ordinary")))
        {
            string text = File.ReadAllText(path);
            words += Words(text).Count;
            damaged += DamagedWords(text, SecretScrubber.Default.Scrub(text, new ScrubReport()));
        }

        output.WriteLine($"rules: {rules.Count}; planted secrets: {perRule.Values.Sum()} in {planted.Count} files; ordinary words checked: {words}; " +
            $"damaged ordinary words (false positives): {damaged}; missed secrets: {misses}; planted files not exactly as expected: {extra}");
        output.WriteLine(string.Join(", ", rules.Order(StringComparer.Ordinal).Select(r => $"{r} {perRule.GetValueOrDefault(r)}")));

        Assert.DoesNotContain(perRule.Keys, r => !rules.Contains(r)); // every planted secret names a real rule
        Assert.DoesNotContain(rules, r => perRule.GetValueOrDefault(r) < 3); // every rule has at least three
        Assert.True(words > 3_000, $"{words} ordinary words");
        Assert.Equal(0, misses);
        Assert.Equal(0, damaged);
        Assert.Equal(0, extra);
    }

    [Fact]
    public void Transcript_OrdinaryAndPlantedTogether_OrdinaryMessagesStayByteIdentical_PlantedSecretsAllGo()
    {
        // One session holding both: secrets found in the planted messages are then removed everywhere, which must
        // never touch the ordinary messages (the same values do not occur there, so nothing there may change).
        var ordinary = Directory.GetFiles(Path.Combine(Root, "ordinary")).Order(StringComparer.Ordinal)
            .SelectMany(f => File.ReadAllText(f).Split("\n\n")).ToList();
        var planted = PlantedCorpus.Files().Select(PlantedCorpus.Load).ToList();
        var transcript = new ConversationTranscript { Id = "corpus" };
        for (int i = 0; i < Math.Max(ordinary.Count, planted.Count); i++)
        {
            if (i < planted.Count)
            {
                transcript.Messages.Add(new TranscriptMessage { Role = TranscriptRole.User, Text = planted[i].Text });
            }

            if (i < ordinary.Count)
            {
                transcript.Messages.Add(new TranscriptMessage { Role = TranscriptRole.Assistant, Text = ordinary[i] });
            }
        }

        ScrubReport report = SecretScrubber.Default.Scrub(transcript);

        Assert.Equal(ordinary, transcript.Messages.Where(m => m.Role == TranscriptRole.Assistant).Select(m => m.Text).ToList());
        Assert.Equal(planted.Select(p => p.Expected).ToList(), transcript.Messages.Where(m => m.Role == TranscriptRole.User).Select(m => m.Text).ToList());
        Assert.Equal(planted.Sum(p => p.Secrets.Count), report.Total);
    }

    /// <summary>Whitespace-separated words of <paramref name="original"/> that are not in <paramref name="scrubbed"/> (as a multiset).</summary>
    internal static int DamagedWords(string original, string scrubbed)
    {
        var left = Words(scrubbed).GroupBy(w => w, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        int damaged = 0;
        foreach (string word in Words(original))
        {
            if (left.GetValueOrDefault(word) > 0)
            {
                left[word]--;
            }
            else
            {
                damaged++;
            }
        }

        return damaged;
    }

    private static List<string> Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).ToList();
}

/// <summary>A secret planted in a corpus file: its rule, its value, and where it is in the unwrapped text.</summary>
internal sealed record PlantedSecret(string Rule, string Value, int Offset);

/// <summary>
/// A planted corpus file: each secret is written <c>«rule:value»</c>, and a '|' inside the value splits the fake key
/// so that secret scanners do not flag the repository; both are removed here.
/// </summary>
internal sealed class PlantedCorpus
{
    private PlantedCorpus(string text, string expected, IReadOnlyList<PlantedSecret> secrets) => (Text, Expected, Secrets) = (text, expected, secrets);

    /// <summary>The file as a person would have it: secrets in place, no wrapping.</summary>
    public string Text { get; }

    /// <summary>The text with every secret replaced by <c>[REDACTED:rule]</c>.</summary>
    public string Expected { get; }

    public IReadOnlyList<PlantedSecret> Secrets { get; }

    public static IEnumerable<string> Files() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Corpus", "scrub", "planted")).Where(f => Path.GetFileName(f) != "README.txt").Order(StringComparer.Ordinal);

    public static PlantedCorpus Load(string path)
    {
        string source = File.ReadAllText(path);
        var text = new StringBuilder(source.Length);
        var expected = new StringBuilder(source.Length);
        var secrets = new List<PlantedSecret>();
        int at = 0;
        while (true)
        {
            int open = source.IndexOf('«', at);
            if (open < 0)
            {
                text.Append(source, at, source.Length - at);
                expected.Append(source, at, source.Length - at);
                break;
            }

            int close = source.IndexOf('»', open);
            int colon = source.IndexOf(':', open);
            if (close < 0 || colon < 0 || colon > close)
            {
                throw new InvalidDataException($"{path}: a '«' at {open} without 'rule:' and a closing '»'");
            }

            text.Append(source, at, open - at);
            expected.Append(source, at, open - at);
            string rule = source[(open + 1)..colon];
            string value = source[(colon + 1)..close].Replace("|", "", StringComparison.Ordinal);
            secrets.Add(new PlantedSecret(rule, value, text.Length));
            text.Append(value);
            expected.Append("[REDACTED:").Append(rule).Append(']');
            at = close + 1;
        }

        return new PlantedCorpus(text.ToString(), expected.ToString(), secrets);
    }
}
