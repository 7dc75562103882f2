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
            edgeResults.RemoveAll(r => IsStray(r.Record.Key, VectorTier.Edge)); // a stale copy never makes the edge's answer "sufficient"
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
        List<(VectorTier Tier, VectorSearchResult Result)> merged = Merge(found, options);
        DateTimeOffset now = _time.GetUtcNow();
        foreach ((_, VectorSearchResult r) in merged)
        {
            float score = r.Score;
            _usage.Update(r.Record.Key, u => u.Used(now, _options.FrequencyHalfLife) with
            {
                Relevance = ((1 - _options.RelevanceSmoothing) * u.Relevance) + (_options.RelevanceSmoothing * score),
            });
        }

        if (cacheOnEdge)
        {
            var offered = merged.Where(m => m.Tier != VectorTier.Edge && !m.Result.Record.Vector.IsEmpty).Select(m => m.Result.Record).ToList();
            if (offered.Count > 0)
            {
                await OfferToEdgeAsync(offered.ToDictionary(r => r.Key, StringComparer.Ordinal), now, epoch, cancellationToken).ConfigureAwait(false);
            }
        }

        var results = merged.Select(m => options.IncludeVectors || m.Result.Record.Vector.IsEmpty
            ? m.Result
            : m.Result with { Record = m.Result.Record with { Vector = ReadOnlyMemory<float>.Empty } }).ToList();
        return new TieredSearchResult(results, reports);
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
