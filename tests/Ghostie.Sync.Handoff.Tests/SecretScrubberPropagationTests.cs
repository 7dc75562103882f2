namespace Ghostie.Sync.Handoff.Tests;

/// <summary>A replacement touches only the matched occurrence and the same secret value elsewhere, never a common word.</summary>
public sealed class SecretScrubberPropagationTests
{
    [Fact]
    public void Transcript_PassColonCapitalizedWord_IsProse_AndTheWordIsNeverReplacedElsewhere()
    {
        // The false match: "second pass: Refactoring ..." took "Refactoring" for a password and then replaced
        // it in every message of the session.
        var transcript = new ConversationTranscript
        {
            Id = "s",
            Messages =
            {
                new TranscriptMessage { Role = TranscriptRole.User, Text = "Plan: first the migration, second pass: Refactoring of the importer, third pass: Cleanup." },
                new TranscriptMessage { Role = TranscriptRole.Assistant, Text = "Refactoring of the importer is done; Cleanup next. Refactoring took 20 minutes." },
                new TranscriptMessage { Role = TranscriptRole.User, Text = "Review pass: Everything approved. Tests pass: Authentication, Sessions." },
            },
        };
        string[] before = transcript.Messages.Select(m => m.Text).ToArray();

        ScrubReport report = SecretScrubber.Default.Scrub(transcript);

        Assert.Equal(before, transcript.Messages.Select(m => m.Text).ToArray());
        Assert.Equal(0, report.Total);
    }

    [Fact]
    public void Transcript_AWordLikePasswordFoundOnce_IsRemovedWhereFound_ButNotPropagatedAsAWord()
    {
        // "Password: dragon and then log in" is a password (it is removed there), but "dragon" alone is an ordinary
        // word: it is not a distinctive value, so the other messages keep it.
        var transcript = new ConversationTranscript
        {
            Id = "s",
            Messages =
            {
                new TranscriptMessage { Role = TranscriptRole.User, Text = "Password: dragon and then log in" },
                new TranscriptMessage { Role = TranscriptRole.Assistant, Text = "The dragon boss in level 3 needs fire resistance." },
            },
        };

        ScrubReport report = SecretScrubber.Default.Scrub(transcript);

        Assert.DoesNotContain("dragon", transcript.Messages[0].Text, StringComparison.Ordinal);
        Assert.Equal("The dragon boss in level 3 needs fire resistance.", transcript.Messages[1].Text);
        Assert.Equal(1, report.Total);
    }

    [Fact]
    public void Transcript_ADistinctiveSecret_IsPropagatedAsAWholeToken_NotInsideLongerWords()
    {
        var transcript = new ConversationTranscript
        {
            Id = "s",
            Messages =
            {
                new TranscriptMessage { Role = TranscriptRole.User, Text = "DB_PASSWORD=Tr0ub4dor-staging" },
                new TranscriptMessage { Role = TranscriptRole.Assistant, Text = "Connected with Tr0ub4dor-staging; Tr0ub4dor-stagingX and xTr0ub4dor-staging are other names." },
            },
        };

        ScrubReport report = SecretScrubber.Default.Scrub(transcript);

        Assert.Equal("Connected with [REDACTED:assigned-secret]; Tr0ub4dor-stagingX and xTr0ub4dor-staging are other names.", transcript.Messages[1].Text);
        Assert.Equal(2, report.Total);
    }
}
