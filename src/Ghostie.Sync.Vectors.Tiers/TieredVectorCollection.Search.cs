using System.Runtime.CompilerServices;
using Ghostie.Sync.Vectors.Tiers.Internal;

namespace Ghostie.Sync.Vectors.Tiers;

public sealed partial class TieredVectorCollection
{
    /// <summary>Searches every tier (see <see cref="SearchWithReportAsync"/>) and yields the merged results.</summary>
    /// <param name="query">The query vector.</param>
    /// <param name="options">Top, threshold, filter.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">No tier answered (<see cref="GhostieErrorCode.BackendUnavailable"/>, transient).</exception>
    public async IAsyncEnumerable<VectorSearchResult> SearchAsync(ReadOnlyMemory<float> query, VectorSearchOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        TieredSearchResult result = await SearchWithReportAsync(query, options, cancellationToken).ConfigureAwait(false);
        foreach (VectorSearchResult item in result.Results)
        {
            yield return item;
        }
    }

    /// <summary>
    /// Asks the edge cache first (under its timeout), then, unless the edge's answer is sufficient
    /// (<see cref="VectorTiersOptions.EdgeSufficientScore"/>), every placement tier in parallel, each under its own
    /// <see cref="VectorTierSettings.SearchTimeout"/>. A tier that times out or fails is reported and left out; the
    /// others' results are merged, each key once with its best score, best first (ties: ordinal key order). The
    /// results count as uses of their vectors, update their relevance, and are offered to the edge cache.
    /// </summary>
    /// <param name="query">The query vector (the collection's dimension).</param>
    /// <param name="options">Top, threshold, filter (default: top 10).</param>
    /// <param name="cancellationToken">Cancels the whole search (not reported as a tier failure).</param>
    /// <returns>The results and each tier's outcome.</returns>
    /// <exception cref="VectorModelMismatchException">The query's length differs from the collection's dimension.</exception>
    /// <exception cref="GhostieSyncException">No tier answered (<see cref="GhostieErrorCode.BackendUnavailable"/>, transient).</exception>
    public async Task<TieredSearchResult> SearchWithReportAsync(ReadOnlyMemory<float> query, VectorSearchOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new VectorSearchOptions();
        options.Validate();
        Model.EnsureVector(query.Span, Name, "query");
        bool cacheOnEdge = _edge is not null && _options.CacheSearchResultsOnEdge && _options.Edge.Capacity > 0;

        long epoch = Interlocked.Read(ref _writeEpoch);
        var reports = new List<TierSearchReport>();
        var found = new List<(VectorTier Tier, VectorSearchResult Result)>();
        bool skipRemote = false;
        if (_edge is not null)
        {
            (TierSearchReport report, List<VectorSearchResult> edgeResults) = await RunTierAsync(VectorTier.Edge, _edge, query, options, cancellationToken).ConfigureAwait(false);
            // Only a copy the usage table says is cached is trusted: a stale copy, or one left from before a restart whose
            // home is not known, never makes the edge's answer "sufficient" (the remote tiers then answer for it).
            edgeResults.RemoveAll(r => IsStray(r.Record.Key, VectorTier.Edge) || _usage.Get(r.Record.Key)?.InEdgeCache != true);
            reports.Add(report);
            found.AddRange(edgeResults.Select(r => (VectorTier.Edge, r)));
            if (_options.EdgeSufficientScore is float enough && report.Outcome == TierSearchOutcome.Answered)
            {
                float floor = Math.Max(enough, options.MinScore ?? float.MinValue);
                skipRemote = edgeResults.Count(r => r.Score >= floor) >= options.Top;
            }
        }

        if (skipRemote)
        {
            reports.AddRange(_placementOrder.Select(t => new TierSearchReport(t, TierSearchOutcome.Skipped, 0, TimeSpan.Zero)));
        }
        else
        {
            var remoteOptions = new VectorSearchOptions
            {
                Top = options.Top,
                MinScore = options.MinScore,
                Filter = options.Filter,
                IncludeVectors = options.IncludeVectors || cacheOnEdge,
            };
            var runs = _placementOrder.Select(t => RunTierAsync(t, _placement[t], query, remoteOptions, cancellationToken)).ToArray();
            var outcomes = await Task.WhenAll(runs).ConfigureAwait(false);
            for (int i = 0; i < outcomes.Length; i++)
            {
                reports.Add(outcomes[i].Report);
                found.AddRange(outcomes[i].Results.Select(r => (_placementOrder[i], r)));
            }
        }

        if (!reports.Any(r => r.Outcome == TierSearchOutcome.Answered))
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"No tier of vector collection '{Name}' answered the search: " + string.Join("; ", reports.Select(Summary))
                + ". Check the tiers' connections, or raise their SearchTimeout.", isTransient: true);
        }

        // Copies known to be stale (a failed delete or edge refresh left them) are never served.
        found.RemoveAll(f => IsStray(f.Result.Record.Key, f.Tier));
        DateTimeOffset now = _time.GetUtcNow();

        // Caching and reconciling are a bonus: a search never waits for a write, a move or a rebalance. When one is
        // running (or ran during the search), copies outside their home tier are only left out, not marked.
        bool gated = await _writeGate.WaitAsync(0, cancellationToken).ConfigureAwait(false);
        try
        {
            if (gated && Interlocked.Read(ref _writeEpoch) != epoch)
            {
                _writeGate.Release();
                gated = false;
            }

            found = await ReconcileAsync(found, gated, now, epoch, cancellationToken).ConfigureAwait(false);
            List<(VectorTier Tier, VectorSearchResult Result)> merged = Merge(found, options);
            foreach ((_, VectorSearchResult r) in merged)
            {
                float score = r.Score;
                _usage.Update(r.Record.Key, u => u.Used(now, _options.FrequencyHalfLife) with
                {
                    Relevance = ((1 - _options.RelevanceSmoothing) * u.Relevance) + (_options.RelevanceSmoothing * score),
                });
            }

            if (cacheOnEdge && gated)
            {
                var offered = merged.Where(m => m.Tier != VectorTier.Edge && !m.Result.Record.Vector.IsEmpty).Select(m => m.Result.Record).ToList();
                if (offered.Count > 0)
                {
                    await OfferToEdgeCoreAsync(offered.ToDictionary(r => r.Key, StringComparer.Ordinal), now, cancellationToken).ConfigureAwait(false);
                }
            }

            var results = merged.Select(m => options.IncludeVectors || m.Result.Record.Vector.IsEmpty
                ? m.Result
                : m.Result with { Record = m.Result.Record with { Vector = ReadOnlyMemory<float>.Empty } }).ToList();
            return new TieredSearchResult(results, reports);
        }
        finally
        {
            if (gated)
            {
                _writeGate.Release();
            }
        }
    }

    /// <summary>
    /// Keeps each vector's copy from its home tier only (the usage table's tier, plus the edge when it says the
    /// vector is cached). A copy from another tier is a leftover (an interrupted move, a failed delete from before a
    /// restart): it is left out, and, when the search holds the write gate, marked stale once the home tier is seen to
    /// hold the vector (else the usage was outdated, for example restored from before a rebalance, and the tier that
    /// answered becomes the home). A vector this process does not track yet (written before it started, usage not
    /// restored) is tracked from now on in the fastest tier that returned it; an edge copy alone tells no home, so it
    /// is left out and the remote tiers answer for it.
    /// </summary>
    private async Task<List<(VectorTier Tier, VectorSearchResult Result)>> ReconcileAsync(
        List<(VectorTier Tier, VectorSearchResult Result)> found, bool gated, DateTimeOffset now, long epoch, CancellationToken cancellationToken)
    {
        var kept = new List<(VectorTier Tier, VectorSearchResult Result)>(found.Count);
        foreach (var group in found.GroupBy(f => f.Result.Record.Key, StringComparer.Ordinal))
        {
            string key = group.Key;
            VectorUsage? usage = _usage.Get(key);
            if (usage is null)
            {
                VectorTier[] placed = group.Select(f => f.Tier).Where(t => t != VectorTier.Edge).Distinct().Order().ToArray();
                if (placed.Length == 0)
                {
                    continue;
                }

                TrackFound(key, placed[0], now, epoch, countUse: false);
                usage = _usage.Get(key);
                kept.AddRange(group.Where(f => f.Tier == placed[0]));
                if (usage is not null && gated)
                {
                    // Copies in slower tiers too (an interrupted move before the restart): the fastest one is kept, as a read would.
                    foreach (VectorTier other in placed.Skip(1))
                    {
                        AddStrays([key], other);
                    }
                }

                continue;
            }

            VectorTier home = usage.Tier;
            bool homeAnswered = group.Any(f => f.Tier == home);
            foreach ((VectorTier tier, VectorSearchResult result) in group)
            {
                if (tier == home || (tier == VectorTier.Edge && usage.InEdgeCache))
                {
                    kept.Add((tier, result));
                }
                else if (tier == VectorTier.Edge)
                {
                    if (gated)
                    {
                        AddStrays([key], VectorTier.Edge); // the edge is only a cache: its untracked copy is never the only one
                    }
                }
                else if (gated && !homeAnswered)
                {
                    // Is the vector really at home? If not, the usage is outdated and this tier is where it lives.
                    VectorRecord? atHome = await _placement[home].GetAsync(key, cancellationToken).ConfigureAwait(false);
                    if (atHome is null)
                    {
                        _usage.Update(key, u => u.Tier == home ? u with { Tier = tier } : u);
                        home = tier;
                        homeAnswered = true;
                        kept.Add((tier, result));
                    }
                    else
                    {
                        AddStrays([key], tier);
                    }
                }
                else if (gated)
                {
                    AddStrays([key], tier);
                }
            }
        }

        return kept;
    }


    private static List<(VectorTier Tier, VectorSearchResult Result)> Merge(List<(VectorTier Tier, VectorSearchResult Result)> found, VectorSearchOptions options)
    {
        var best = new Dictionary<string, (VectorTier Tier, VectorSearchResult Result)>(StringComparer.Ordinal);
        foreach ((VectorTier tier, VectorSearchResult result) in found)
        {
            if (options.MinScore is float min && result.Score < min)
            {
                continue;
            }

            // Best score wins; on equal scores the faster tier's copy (edge before critical before ...) is kept.
            if (!best.TryGetValue(result.Record.Key, out var current) || result.Score > current.Result.Score
                || (result.Score == current.Result.Score && tier < current.Tier))
            {
                best[result.Record.Key] = (tier, result);
            }
        }

        var list = best.Values.ToList();
        list.Sort((a, b) =>
        {
            int c = b.Result.Score.CompareTo(a.Result.Score);
            return c != 0 ? c : string.CompareOrdinal(a.Result.Record.Key, b.Result.Record.Key);
        });
        if (list.Count > options.Top)
        {
            list.RemoveRange(options.Top, list.Count - options.Top);
        }

        return list;
    }

    private async Task<(TierSearchReport Report, List<VectorSearchResult> Results)> RunTierAsync(
        VectorTier tier, IVectorCollection collection, ReadOnlyMemory<float> query, VectorSearchOptions options, CancellationToken cancellationToken)
    {
        TimeSpan timeout = _options.For(tier).SearchTimeout;
        long started = _time.GetTimestamp();

        // The timeout's timer starts before the tier is called, on the store's clock.
        var timeoutCts = new CancellationTokenSource(timeout, _time);
        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);

        // Task.Run: a tier that blocks before its first await must not hold up the timeout or the other tiers.
        Task<List<VectorSearchResult>> work = Task.Run(() => CollectAsync(collection, query, options, linked.Token), CancellationToken.None);
        try
        {
            // Waiting on the token (not only passing it): a tier that ignores cancellation is still left behind.
            List<VectorSearchResult> results = await work.WaitAsync(linked.Token).ConfigureAwait(false);
            return (new TierSearchReport(tier, TierSearchOutcome.Answered, results.Count, _time.GetElapsedTime(started)), results);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException) when (timeoutCts.IsCancellationRequested)
        {
            _logger.TierTimedOut(tier, Name, timeout.TotalMilliseconds);
            return (new TierSearchReport(tier, TierSearchOutcome.TimedOut, 0, _time.GetElapsedTime(started), $"no answer within {timeout.TotalMilliseconds:0} ms"), []);
        }
        catch (Exception e)
        {
            _logger.TierFailed(tier, Name, e.GetType().Name);
            return (new TierSearchReport(tier, TierSearchOutcome.Failed, 0, _time.GetElapsedTime(started), Describe(e)), []);
        }
        finally
        {
            if (work.IsCompleted)
            {
                linked.Dispose();
                timeoutCts.Dispose();
            }
            else
            {
                await linked.CancelAsync().ConfigureAwait(false);

                // The abandoned search ends on its own; observe its outcome so it is never an unobserved exception.
                _ = work.ContinueWith(static (t, state) =>
                {
                    _ = t.Exception;
                    var (a, b) = ((CancellationTokenSource, CancellationTokenSource))state!;
                    a.Dispose();
                    b.Dispose();
                }, (linked, timeoutCts), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    private static async Task<List<VectorSearchResult>> CollectAsync(IVectorCollection collection, ReadOnlyMemory<float> query, VectorSearchOptions options, CancellationToken cancellationToken)
    {
        var results = new List<VectorSearchResult>();
        await foreach (VectorSearchResult result in collection.SearchAsync(query, options, cancellationToken).ConfigureAwait(false))
        {
            results.Add(result);
        }

        return results;
    }

    private static string Summary(TierSearchReport report) => report.Outcome switch
    {
        TierSearchOutcome.TimedOut => $"{report.Tier} timed out ({report.Error})",
        TierSearchOutcome.Failed => $"{report.Tier} failed ({report.Error})",
        _ => $"{report.Tier} {report.Outcome}",
    };
}
