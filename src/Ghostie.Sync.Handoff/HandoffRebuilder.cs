using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Ghostie.Sync.Handoff.Internal;

namespace Ghostie.Sync.Handoff;

/// <summary>
/// Rebuilds a package within a device profile: the context by the package's priorities until the token budget is
/// spent, agents by activation order while the agent count and the memory budget allow (the rest deferred), and the
/// most similar embeddings into the vector cache. The memory estimate is in docs/handoff.md.
/// </summary>
public static class HandoffRebuilder
{
    /// <summary>The fixed memory a rebuild is assumed to take for its structures and buffers (2 MB).</summary>
    internal const long BaseMemoryBytes = 2_000_000;

    /// <summary>The estimated memory of one cached vector besides its floats: id, source, similarity, object headers.</summary>
    internal const long VectorOverheadBytes = 128;

    /// <summary>Rebuilds <paramref name="package"/> within <paramref name="profile"/>.</summary>
    /// <param name="package">The package.</param>
    /// <param name="profile">The receiving device's budgets.</param>
    /// <param name="options">Path rewriting and token counting; defaults when null.</param>
    /// <exception cref="GhostieSyncException">The profile is invalid, or too small to hold even the context (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static RebuiltConversation Rebuild(HandoffPackage package, DeviceProfile profile, HandoffResumeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        options ??= new HandoffResumeOptions();
        var rewriter = new PathRewriter(package.Source, options);
        List<RewrittenFile> files = package.Context.ActiveFiles.Select(f =>
        {
            (string path, bool mapped) = rewriter.Rewrite(f.Path);
            return new RewrittenFile(f.Path, path, f.Status, mapped);
        }).ToList();

        (string context, int tokens, List<RebuiltSection> sections) = RenderContext(package, files, rewriter, profile.ContextTokens, options.TokenCounter);
        long memory = BaseMemoryBytes + (2L * context.Length);
        if (memory > profile.MemoryBudgetBytes)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Device profile '{profile.Name}' has {profile.MemoryBudgetMegabytes} MB, too little even for the rebuilt context ({memory:N0} bytes).");
        }

        (List<AgentState> active, List<DeferredAgent> deferred, List<string> dropped, memory) = RestoreAgents(package, profile, memory);
        (List<EmbeddingEntry> cache, memory) = FillVectorCache(package.Embeddings, profile, memory);
        return new RebuiltConversation
        {
            PackageId = package.PackageId,
            Conversation = package.Conversation,
            Profile = profile,
            Context = context,
            ContextTokens = tokens,
            Sections = sections,
            ActiveAgents = active,
            DeferredAgents = deferred,
            DroppedAgents = dropped,
            VectorCache = cache,
            VectorsLeftOut = (package.Embeddings?.Entries.Count ?? 0) - cache.Count,
            ActiveFiles = files,
            ResumptionPoint = package.Reconstruction.ResumptionPoint,
            EstimatedMemoryBytes = memory,
        };
    }

    private static (List<AgentState>, List<DeferredAgent>, List<string>, long) RestoreAgents(HandoffPackage package, DeviceProfile profile, long memory)
    {
        IReadOnlyList<string> order = package.Reconstruction.AgentActivationOrder;
        List<AgentState> ordered = package.Agents
            .OrderBy(a => order.IndexOf(a.Id) is var i && i >= 0 ? i : int.MaxValue)
            .ThenBy(a => a.Priority).ThenBy(a => a.Id, StringComparer.Ordinal)
            .ToList();
        var held = ordered.Select(a =>
        {
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(a, HandoffJson.Stored.AgentState);
            byte[] compressed = new byte[BrotliEncoder.GetMaxCompressedLength(json.Length)];
            BrotliEncoder.TryCompress(json, compressed, out int length, quality: 4, window: 22);
            long activeCost = a.EstimatedMemoryBytes > 0 ? a.EstimatedMemoryBytes : 4L * json.Length;
            return (Agent: a, Compressed: compressed[..length], JsonLength: json.Length, ActiveCost: activeCost);
        }).ToList();

        // Everything not active is held compressed; when even that does not fit, the lowest priorities go.
        var dropped = new List<string>();
        long reserve = held.Sum(h => (long)h.Compressed.Length);
        while (held.Count > 0 && memory + reserve > profile.MemoryBudgetBytes)
        {
            reserve -= held[^1].Compressed.Length;
            dropped.Add(held[^1].Agent.Id);
            held.RemoveAt(held.Count - 1);
        }

        var active = new List<AgentState>();
        var deferred = new List<DeferredAgent>();
        foreach ((AgentState agent, byte[] compressed, int jsonLength, long activeCost) in held)
        {
            if (active.Count < profile.MaxAgents && memory + reserve - compressed.Length + activeCost <= profile.MemoryBudgetBytes)
            {
                active.Add(agent);
                reserve -= compressed.Length;
                memory += activeCost;
            }
            else
            {
                deferred.Add(new DeferredAgent(agent, compressed, jsonLength));
            }
        }

        return (active, deferred, dropped, memory + reserve);
    }

    private static (List<EmbeddingEntry>, long) FillVectorCache(EmbeddingSet? set, DeviceProfile profile, long memory)
    {
        var cache = new List<EmbeddingEntry>();
        if (set is null)
        {
            return (cache, memory);
        }

        foreach (EmbeddingEntry entry in set.Entries.OrderByDescending(e => e.Similarity).ThenBy(e => e.Id, StringComparer.Ordinal))
        {
            if (cache.Count >= profile.VectorCacheEntries)
            {
                break;
            }

            long cost = (4L * entry.Vector.Length) + VectorOverheadBytes + (2L * ((entry.Text?.Length ?? 0) + entry.Id.Length + entry.Source.Length));
            if (memory + cost > profile.MemoryBudgetBytes)
            {
                break;
            }

            cache.Add(entry);
            memory += cost;
        }

        return (cache, memory);
    }

    private static (string Context, int Tokens, List<RebuiltSection> Sections) RenderContext(HandoffPackage package, List<RewrittenFile> files, PathRewriter rewriter, int budget, ITokenCounter counter)
    {
        var writer = new ContextWriter(budget, counter);
        CompressedContext context = package.Context;
        ResumptionPoint resume = package.Reconstruction.ResumptionPoint;
        List<ThreadEntry> recent = context.Thread.Where(e => e.Kind == ThreadEntryKinds.Verbatim && e.Salience == 0).ToList();
        List<ThreadEntry> earlier = context.Thread.Where(e => !(e.Kind == ThreadEntryKinds.Verbatim && e.Salience == 0)).ToList();
        IReadOnlyList<string> priorities = package.Reconstruction.ContextPriorities.Count > 0 ? package.Reconstruction.ContextPriorities : ContextSections.Default;
        foreach (string section in priorities.Concat(ContextSections.Default).Distinct(StringComparer.Ordinal))
        {
            switch (section)
            {
                case ContextSections.LastInstruction:
                    writer.Section(section, "## Last instruction (verbatim)", [context.ProjectState.LastInstruction], truncate: true);
                    break;
                case ContextSections.PrimaryRequest:
                    writer.Section(section, "## Primary request", [context.ProjectState.PrimaryRequest], truncate: true);
                    break;
                case ContextSections.CurrentWork:
                    writer.Section(section, "## Current work", [context.ProjectState.CurrentWork], truncate: true);
                    break;
                case ContextSections.NextStep:
                    writer.Section(section, "## Next step", [context.ProjectState.NextStep], truncate: true);
                    break;
                case ContextSections.PendingTasks:
                    writer.Section(section, "## Pending tasks", context.ProjectState.PendingTasks.Select(t => "- " + t));
                    break;
                case ContextSections.ErrorsAndFixes:
                    writer.Section(section, "## Errors and fixes", context.ProjectState.Errors.Select(e => "- " + e.Error + (e.Fix.Length > 0 ? "\n  then: " + e.Fix : "")));
                    break;
                case ContextSections.ResumptionPoint:
                    writer.Section(section, $"# Continuing: {package.Conversation.Title}",
                        [
                            // A package with the person's last instruction carries it in its own section; an older one names the last user message.
                            resume.LastUserMessage.Length > 0 && context.ProjectState.LastInstruction.Length == 0 ? "Last request: " + resume.LastUserMessage : "",
                            resume.Summary.Length > 0 ? "Status: " + resume.Summary : "",
                        ], truncate: true);
                    break;
                case ContextSections.KeyDecisions:
                    writer.Section(section, "## Key decisions", context.KeyDecisions.Select(d => "- " + d.Text + (d.Reason.Length > 0 ? " (" + d.Reason + ")" : "")));
                    break;
                case ContextSections.RecentTurns:
                    // Newest first, so the budget keeps the latest; shown in order.
                    writer.Section(section, "## Recent turns", recent.Select(Turn), truncate: true, newestFirst: true);
                    break;
                case ContextSections.ProjectState:
                    writer.Section(section, "## Project state", [context.ProjectState.Summary], truncate: true);
                    break;
                case ContextSections.OpenQuestions:
                    writer.Section(section, "## Open questions and next steps",
                        context.ProjectState.OpenQuestions.Select(q => "- " + q).Concat(context.ProjectState.NextSteps.Select(n =>
                            n.StartsWith("next", StringComparison.OrdinalIgnoreCase) ? "- " + n : "- Next: " + n)));
                    break;
                case ContextSections.ActiveFiles:
                    writer.Section(section, "## Active files", files.Select(f => $"- {f.Path} ({f.Status})"));
                    break;
                case ContextSections.AgentMemories:
                    writer.Section(section, "## Agent memories", context.AgentMemories.OrderByDescending(m => m.Importance).Select(m => $"- [{m.AgentId}] {m.Text}"));
                    break;
                case ContextSections.CodeSnippets:
                    writer.Section(section, "## Code", context.CodeSnippets.Select(s => $"```{s.Language} {(s.Path is null ? "" : rewriter.Rewrite(s.Path).Path)}".TrimEnd() + "\n" + s.Text + "\n```"));
                    break;
                case ContextSections.EarlierTurns:
                    writer.Section(section, "## Earlier in the conversation", earlier.Select(Turn));
                    break;
                default:
                    break; // a section name from a newer writer: nothing to load
            }
        }

        return writer.Finish();
    }

    private static string Turn(ThreadEntry entry) => entry.Kind switch
    {
        ThreadEntryKinds.Omitted => $"({entry.Text})",
        ThreadEntryKinds.Summary => "[summary] " + entry.Text,
        _ => $"[{entry.Role}] {entry.Text}" + (entry.Tools.Count > 0 ? "\n  (tools: " + string.Join("; ", entry.Tools) + ")" : ""),
    };

    private static int IndexOf(this IReadOnlyList<string> list, string value)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] == value)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Appends sections while their tokens fit; a last check on the whole text removes items until it fits whatever the counter.</summary>
    private sealed class ContextWriter(int budget, ITokenCounter counter)
    {
        private readonly List<(string Section, string Header, List<string> Items, int Omitted, bool NewestFirst)> _sections = [];
        private readonly Dictionary<string, int> _budgets = new(StringComparer.Ordinal);
        private int _used;
        private int _carry;

        /// <summary>A section's cap: its share of the budget plus what earlier sections left; the last instruction may take
        /// up to half the budget when it needs it, and then the other shares are of what is left.</summary>
        private int Cap(string name, List<string> candidates)
        {
            double share = ContextSections.Shares.TryGetValue(name, out double s) ? s : 0;
            if (name == ContextSections.LastInstruction)
            {
                int need = candidates.Sum(c => Count(c + "\n")) + Count("## Last instruction (verbatim)\n\n");
                return Math.Max((int)(share * budget), Math.Min(need, budget / 2));
            }

            return (int)(share * budget) + _carry;
        }

        /// <summary>The counter's count, refused when negative (a negative count would let any text through).</summary>
        private int Count(string text)
        {
            int tokens = counter.CountTokens(text);
            return tokens >= 0 ? tokens : throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"The token counter '{counter.Name}' returned a negative count ({tokens}); a count must be 0 or more.");
        }

        public void Section(string name, string header, IEnumerable<string> items, bool truncate = false, bool newestFirst = false)
        {
            List<string> candidates = items.Where(i => i.Length > 0).ToList();
            int cap = candidates.Count == 0 ? 0 : Cap(name, candidates);
            int limit = Math.Min(budget, _used + cap); // this section ends before this many tokens in all
            if (candidates.Count == 0)
            {
                _carry += ContextSections.Shares.TryGetValue(name, out double unused) ? (int)(unused * budget) : 0;
                return;
            }

            _budgets[name] = cap;
            int headerTokens = Count(header + "\n\n");
            if (_used + headerTokens >= limit)
            {
                _sections.Add((name, header, [], candidates.Count, newestFirst));
                _carry = name == ContextSections.LastInstruction ? _carry : cap;
                return;
            }

            var kept = new List<(int Order, string Text)>();
            int used = headerTokens;
            IEnumerable<int> order = newestFirst ? Enumerable.Range(0, candidates.Count).Reverse() : Enumerable.Range(0, candidates.Count);
            foreach (int i in order)
            {
                string item = candidates[i];
                int tokens = Count(item + "\n");
                if (_used + used + tokens <= limit)
                {
                    kept.Add((i, item));
                    used += tokens;
                    continue;
                }

                int left = limit - _used - used - 2;
                if (truncate && left >= 24 && Cut(item, left) is { } cut)
                {
                    kept.Add((i, cut));
                    used += Count(cut + "\n");
                }

                if (newestFirst || truncate)
                {
                    break; // older turns after a gap would read as adjacent
                }
            }

            if (kept.Count == 0)
            {
                _sections.Add((name, header, [], candidates.Count, newestFirst));
                _carry = name == ContextSections.LastInstruction ? _carry : cap;
                return;
            }

            kept.Sort((a, b) => a.Order.CompareTo(b.Order));
            _sections.Add((name, header, kept.Select(k => k.Text).ToList(), candidates.Count - kept.Count, newestFirst));
            _used += used;
            // What this section left of its cap goes to the next (the last instruction's extra need is taken from all).
            _carry = name == ContextSections.LastInstruction ? Math.Max(0, _carry - Math.Max(0, used - (int)(ContextSections.Shares[name] * budget))) : Math.Max(0, cap - used);
        }

        /// <summary>The item cut to fit <paramref name="tokens"/>, or null when nothing of it fits.</summary>
        private string? Cut(string item, int tokens)
        {
            // Shrink by characters until the counter agrees: the estimate gives at least one token per 4 characters.
            int chars = Math.Min(item.Length, tokens * 4);
            string cut = item[..chars] + " [...]";
            while (chars > 0 && Count(cut + "\n") > tokens)
            {
                chars = chars * 9 / 10;
                cut = item[..chars] + " [...]";
            }

            return chars > 0 ? cut : null;
        }

        public (string, int, List<RebuiltSection>) Finish()
        {
            string text = Render(null);
            int tokens = Count(text);
            if (tokens > budget)
            {
                // A counter that is not additive over pieces: drop items, lowest priority first (in a newest-first section,
                // its oldest item first), as few as will do: a binary search over how many, each step counted whole.
                int total = _sections.Sum(s => s.Items.Count);
                if (Count(Render(Drops(total))) > budget)
                {
                    throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                        $"The token counter '{counter.Name}' counts {Count("")} tokens for an empty text, more than the profile's {budget}: it cannot be used for this profile.");
                }

                int low = 1, high = total;
                while (low < high)
                {
                    int mid = low + ((high - low) / 2);
                    if (Count(Render(Drops(mid))) <= budget)
                    {
                        high = mid;
                    }
                    else
                    {
                        low = mid + 1;
                    }
                }

                int[] drops = Drops(low);
                for (int i = 0; i < _sections.Count; i++)
                {
                    (string name, string header, List<string> items, int omitted, bool newestFirst) = _sections[i];
                    if (drops[i] > 0)
                    {
                        items.RemoveRange(newestFirst ? 0 : items.Count - drops[i], drops[i]);
                        _sections[i] = (name, header, items, omitted + drops[i], newestFirst);
                    }
                }

                text = Render(null);
                tokens = Count(text);
            }

            var sections = _sections.Select(s =>
            {
                string body = s.Items.Count == 0 ? "" : s.Header + "\n" + string.Join("\n", s.Items);
                return new RebuiltSection(s.Section, body, body.Length == 0 ? 0 : Count(body), s.Items.Count, s.Omitted, _budgets.GetValueOrDefault(s.Section));
            }).ToList();
            return (text, tokens, sections);
        }

        /// <summary>How many items each section loses when the first <paramref name="count"/> items are dropped, last section first.</summary>
        private int[] Drops(int count)
        {
            int[] drops = new int[_sections.Count];
            for (int i = _sections.Count - 1; i >= 0 && count > 0; i--)
            {
                drops[i] = Math.Min(count, _sections[i].Items.Count);
                count -= drops[i];
            }

            return drops;
        }

        private string Render(int[]? drops)
        {
            var text = new StringBuilder();
            for (int i = 0; i < _sections.Count; i++)
            {
                (_, string header, List<string> items, _, bool newestFirst) = _sections[i];
                int drop = drops?[i] ?? 0;
                if (items.Count - drop <= 0)
                {
                    continue;
                }

                if (text.Length > 0)
                {
                    text.Append('\n');
                }

                text.Append(header).Append('\n');
                for (int j = newestFirst ? drop : 0, end = newestFirst ? items.Count : items.Count - drop; j < end; j++)
                {
                    text.Append(items[j]).Append('\n');
                }
            }

            return text.ToString();
        }
    }
}
