using System.Text;
using Ghostie.Sync.Handoff.Internal;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Handoff;

/// <summary>
/// Compression with a model the host supplies through Microsoft.Extensions.AI <see cref="IChatClient"/>: the extractive
/// pass runs first (so key decisions and the last turns stay verbatim whatever the model writes), then the model
/// summarizes the earlier turns, and its summary replaces their excerpts. If the model fails, the extractive result is
/// used and <see cref="CompressionInfo.Note"/> says so. The transcript given is already scrubbed, so no secret reaches
/// the model's provider; the summary is scrubbed again all the same.
/// </summary>
public sealed class AbstractiveCompressor : IContextCompressor
{
    private readonly IChatClient _client;
    private readonly ILogger _logger;
    private readonly ExtractiveCompressor _extractive;

    /// <summary>Creates the compressor.</summary>
    /// <param name="client">The host's chat client.</param>
    /// <param name="logger">Where a failed summary is reported (never with conversation content).</param>
    /// <param name="extractive">The extractive pass it builds on (default <see cref="ExtractiveCompressor.Instance"/>, lexical embeddings).</param>
    public AbstractiveCompressor(IChatClient client, ILogger<AbstractiveCompressor>? logger = null, ExtractiveCompressor? extractive = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _logger = logger ?? NullLogger<AbstractiveCompressor>.Instance;
        _extractive = extractive ?? ExtractiveCompressor.Instance;
    }

    /// <summary>The most tokens of earlier conversation sent to the model (default 24,000); the oldest are cut first.</summary>
    public int MaxInputTokens { get; init; } = 24_000;

    /// <summary>The longest summary asked for, in tokens (default 600).</summary>
    public int SummaryTokens { get; init; } = 600;

    /// <inheritdoc />
    public async Task<CompressedContext> CompressAsync(ConversationTranscript transcript, CompressionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        CompressedContext extractive = await _extractive.CompressCoreAsync(transcript, options, cancellationToken).ConfigureAwait(false);
        var keptVerbatim = new HashSet<int>(extractive.Thread.Where(e => e.Kind == ThreadEntryKinds.Verbatim && e.Salience == 0).Select(e => e.Turn));
        List<TranscriptMessage> earlier = transcript.Messages
            .Where(m => (ExtractiveCompressor.IsPerson(m) || (m.Role == TranscriptRole.Assistant && !m.IsSidechain && m.Text.Length > 0)) && !keptVerbatim.Contains(m.Index))
            .ToList();
        if (earlier.Count == 0)
        {
            return extractive;
        }

        string prompt = BuildPrompt(earlier, options.TokenCounter);
        string summary;
        try
        {
            ChatResponse response = await _client.GetResponseAsync(
                [
                    new ChatMessage(ChatRole.System,
                        "You compress a conversation between a user and a coding assistant so that another device can carry it on. " +
                        $"Write at most {SummaryTokens} tokens of plain text with these parts: primary request and intent; key decisions and why; files and code touched; errors and their fixes; pending tasks; current work; next step. " +
                        "Keep file names, commands and identifiers exact. Do not invent anything."),
                    new ChatMessage(ChatRole.User, prompt),
                ],
                new ChatOptions { MaxOutputTokens = SummaryTokens, Temperature = 0 },
                cancellationToken).ConfigureAwait(false);
            summary = response.Text.Trim();
            if (summary.Length == 0)
            {
                throw new InvalidOperationException("the model returned an empty summary");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.AbstractiveFailed(_logger, ex.GetType().Name);
            return extractive with { Compression = extractive.Compression with { Note = $"abstractive summary failed ({ex.GetType().Name}); extractive result kept" } };
        }

        var scrubbed = new ScrubReport();
        summary = SecretScrubber.Default.Scrub(summary, scrubbed);
        ITokenCounter counter = options.TokenCounter;
        int summaryTokens = counter.CountTokens(summary);
        var thread = new List<ThreadEntry>
        {
            new()
            {
                Turn = earlier[0].Index,
                Role = "system",
                Kind = ThreadEntryKinds.Summary,
                Text = summary,
                Tokens = summaryTokens,
                Timestamp = earlier[^1].Timestamp,
            },
        };
        thread.AddRange(extractive.Thread.Where(e => e.Kind == ThreadEntryKinds.Verbatim && keptVerbatim.Contains(e.Turn)));
        long removed = extractive.Thread.Where(e => !keptVerbatim.Contains(e.Turn)).Sum(e => (long)e.Tokens);
        return extractive with
        {
            ProjectState = extractive.ProjectState with { Summary = summary + "\n" + extractive.ProjectState.Summary },
            Thread = thread,
            Compression = extractive.Compression with
            {
                Method = "abstractive",
                CompressedTokens = extractive.Compression.CompressedTokens - removed + (2L * summaryTokens),
                OmittedMessages = earlier.Count,
            },
        };
    }

    private string BuildPrompt(List<TranscriptMessage> earlier, ITokenCounter counter)
    {
        // Newest first until the input budget is spent, then back in order: the oldest turns are the ones cut.
        var picked = new List<string>();
        long tokens = 0;
        for (int i = earlier.Count - 1; i >= 0; i--)
        {
            string line = $"[{ExtractiveCompressor.RoleName(earlier[i].Role)} #{earlier[i].Index}] {earlier[i].Text}";
            int count = counter.CountTokens(line);
            if (tokens + count > MaxInputTokens)
            {
                break;
            }

            picked.Add(line);
            tokens += count;
        }

        picked.Reverse();
        var prompt = new StringBuilder("Conversation so far (tool output left out):\n\n");
        foreach (string line in picked)
        {
            prompt.Append(line).Append("\n\n");
        }

        return prompt.ToString();
    }
}
