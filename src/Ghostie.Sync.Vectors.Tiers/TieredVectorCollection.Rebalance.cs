using Ghostie.Sync.Vectors.Tiers.Internal;

namespace Ghostie.Sync.Vectors.Tiers;

public sealed partial class TieredVectorCollection
{
    /// <summary>
    /// One rebalance pass at the current time of the store's clock: evaluates <see cref="VectorTierPolicy.Plan"/>
    /// over every tracked vector, moves the vectors whose tier changed (promotions of hot vectors, demotions of cold
    /// ones; target written before source deleted, in batches of <see cref="VectorTiersOptions.MigrationBatchSize"/>),
    /// then offers the vectors that meet the edge criteria to the edge cache (LRU plus relevance replacement).
    /// One pass runs at a time. A move that fails is reported and leaves the vector where it was.
    /// </summary>
    /// <param name="cancellationToken">Cancels the pass (moves already made stay made).</param>
    /// <returns>What moved, what failed, what the edge cache admitted and evicted, and the counts per tier.</returns>
    public Task<VectorRebalanceReport> RebalanceAsync(CancellationToken cancellationToken = default) => RebalanceAsync(null, cancellationToken);

    /// <summary>As <see cref="RebalanceAsync(CancellationToken)"/>, reporting progress after each batch of moves
    /// (first with nothing done yet, so the host learns how many moves are planned).</summary>
    /// <param name="progress">Receives the planned, moved and failed counts.</param>
    /// <param name="cancellationToken">Cancels the pass (moves already made stay made; the last progress says how many).</param>
    /// <returns>What moved, what failed, what the edge cache admitted and evicted, and the counts per tier.</returns>
    public async Task<VectorRebalanceReport> RebalanceAsync(IProgress<VectorRebalanceProgress>? progress, CancellationToken cancellationToken = default)
    {
        await _rebalanceGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RemoveStraysAsync(cancellationToken).ConfigureAwait(false);
            DateTimeOffset now = _time.GetUtcNow();
            List<VectorUsage> snapshot = _usage.Snapshot();
            IReadOnlyDictionary<string, VectorTier> plan = VectorTierPolicy.Plan(snapshot, _placementOrder, _options, now);
            var moves = new List<VectorMove>();
            var failures = new List<VectorMoveFailure>();

            var wanted = snapshot.Where(u => plan[u.Key] != u.Tier).Select(u => new VectorMove(u.Key, u.Tier, plan[u.Key])).ToList();
            progress?.Report(new VectorRebalanceProgress(wanted.Count, 0, 0));
            foreach (var group in wanted.GroupBy(m => (m.From, m.To)).OrderBy(g => g.Key.From).ThenBy(g => g.Key.To))
            {
                foreach (VectorMove[] chunk in group.Chunk(_options.MigrationBatchSize))
                {
                    await MoveAsync(group.Key.From, group.Key.To, chunk, moves, failures, cancellationToken).ConfigureAwait(false);
                    progress?.Report(new VectorRebalanceProgress(wanted.Count, moves.Count, failures.Count));
                }
            }

            (List<string> admitted, List<string> evicted) = await RefreshEdgeAsync(now, cancellationToken).ConfigureAwait(false);
            Dictionary<VectorTier, int> counts = _usage.Counts();
            var warnings = new List<string>();
            foreach (VectorTier tier in Tiers)
            {
                int capacity = _options.For(tier).Capacity;
                if (counts[tier] > capacity)
                {
                    _logger.OverCapacity(tier, Name, counts[tier], capacity);
                    warnings.Add($"The {tier} tier holds {counts[tier]} vectors, over its capacity of {capacity}: raise its capacity, add a tier, or delete old memories.");
                }
            }

            _logger.Rebalanced(Name, moves.Count, failures.Count, admitted.Count, evicted.Count);
            return new VectorRebalanceReport(now, moves, failures, admitted, evicted, counts, warnings);
        }
        finally
        {
            _rebalanceGate.Release();
        }
    }

    private async Task RemoveStraysAsync(CancellationToken cancellationToken)
    {
        (string Key, VectorTier Tier)[] strays;
        lock (_strays)
        {
            strays = _strays.ToArray();
        }

        foreach ((string key, VectorTier tier) in strays)
        {
            await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // Unless the key has since come home to that tier (or back into the edge cache), the copy there is stale.
                VectorUsage? usage = _usage.Get(key);
                bool current = tier == VectorTier.Edge ? usage?.InEdgeCache == true : usage?.Tier == tier;
                if (!current)
                {
                    await TierCollection(tier).DeleteAsync(key, cancellationToken).ConfigureAwait(false);
                }

                lock (_strays)
                {
                    _strays.Remove((key, tier));
                    _strayVersion++;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _logger.StrayDeleteFailed(tier, Name, e.GetType().Name);
            }
            finally
            {
                _writeGate.Release();
            }
        }
    }

    private async Task MoveAsync(VectorTier from, VectorTier to, VectorMove[] chunk, List<VectorMove> moves, List<VectorMoveFailure> failures, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Interlocked.Increment(ref _writeEpoch); // a search running now does not cache or reconcile what it read before the move

            // A write or delete since the plan was made may have changed a vector's home: move only what is still where the plan saw it.
            VectorMove[] current = chunk.Where(m => _usage.Get(m.Key)?.Tier == from).ToArray();
            var elsewhere = new List<(VectorTier Found, VectorMove Move)>();
            await MoveCoreAsync(from, to, current, moves, failures, elsewhere, cancellationToken).ConfigureAwait(false);

            // Vectors the usage table placed wrongly (restored from before a rebalance): moved from where they really are.
            foreach (var group in elsewhere.GroupBy(e => e.Found))
            {
                await MoveCoreAsync(group.Key, to, group.Select(e => e.Move with { From = group.Key }).ToArray(), moves, failures, null, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task MoveCoreAsync(VectorTier from, VectorTier to, VectorMove[] chunk, List<VectorMove> moves, List<VectorMoveFailure> failures,
        List<(VectorTier Found, VectorMove Move)>? elsewhere, CancellationToken cancellationToken)
    {
        IVectorCollection source = _placement[from];
        IVectorCollection target = _placement[to];
        var records = new List<VectorRecord>();
        var copied = new List<VectorMove>();

        // Every move of the chunk ends up in exactly one of the report's lists: moved, or failed.
        var unresolved = new List<VectorMove>(chunk);
        try
        {
            foreach (VectorMove move in chunk)
            {
                VectorRecord? record = await source.GetAsync(move.Key, cancellationToken).ConfigureAwait(false);
                if (record is not null)
                {
                    records.Add(record);
                    copied.Add(move);
                }
                else if (!IsStray(move.Key, to) && await target.GetAsync(move.Key, cancellationToken).ConfigureAwait(false) is not null)
                {
                    // An earlier, interrupted pass already copied it: only the bookkeeping is left.
                    _usage.Update(move.Key, u => u with { Tier = to });
                    moves.Add(move);
                    unresolved.Remove(move);
                }
                else if (elsewhere is not null && await FindElsewhereAsync(move.Key, from, to, cancellationToken).ConfigureAwait(false) is VectorTier found)
                {
                    // The usage said "from" but the vector lives in another tier (usage restored from before a rebalance).
                    _usage.Update(move.Key, u => u with { Tier = found });
                    elsewhere.Add((found, move));
                    unresolved.Remove(move);
                }
                else
                {
                    _usage.Remove(move.Key);
                    failures.Add(new VectorMoveFailure(move.Key, from, to, $"the vector is missing from every tier (deleted outside this store?); it is no longer tracked"));
                    unresolved.Remove(move);
                }
            }

            if (records.Count == 0)
            {
                return;
            }

            try
            {
                await target.UpsertAsync(records, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // A failed batch write may have written part of the batch: those copies are not the vectors' home.
                AddStrays(copied.Select(m => m.Key), to);
                throw;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.MoveFailed(Name, from, to, e.GetType().Name);
            failures.AddRange(unresolved.Select(m => new VectorMoveFailure(m.Key, from, to, Describe(e))));
            return;
        }

        ForgetStrays(copied.Select(m => m.Key), to);
        foreach (VectorMove move in copied)
        {
            _usage.Update(move.Key, u => u with { Tier = to });
            moves.Add(move);
            try
            {
                await source.DeleteAsync(move.Key, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The vector is in the target already; the stale source copy is hidden and retried by the next rebalance.
                _logger.MoveFailed(Name, from, to, e.GetType().Name);
                AddStrays([move.Key], from);
            }
        }
    }

    private async Task<VectorTier?> FindElsewhereAsync(string key, VectorTier from, VectorTier to, CancellationToken cancellationToken)
    {
        foreach (VectorTier tier in _placementOrder.Where(t => t != from && t != to && !IsStray(key, t)))
        {
            if (await _placement[tier].GetAsync(key, cancellationToken).ConfigureAwait(false) is not null)
            {
                return tier;
            }
        }

        return null;
    }

    private async Task<(List<string> Admitted, List<string> Evicted)> RefreshEdgeAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_edge is null || _options.Edge.Capacity <= 0)
        {
            return ([], []);
        }

        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Interlocked.Increment(ref _writeEpoch);
            return await RefreshEdgeCoreAsync(now, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task<(List<string> Admitted, List<string> Evicted)> RefreshEdgeCoreAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {

        List<VectorUsage> snapshot = _usage.Snapshot();
        var candidates = snapshot.Where(u => !u.InEdgeCache && _options.Edge.Criteria.IsMetBy(u, now, _options.FrequencyHalfLife)).ToList();
        if (candidates.Count == 0)
        {
            return ([], []);
        }

        (List<string> admit, List<string> evict) = EdgeCachePolicy.Decide(snapshot.Where(u => u.InEdgeCache), candidates, _options.Edge.Capacity, now, _options);
        var records = new Dictionary<string, VectorRecord>(StringComparer.Ordinal);
        foreach (string key in admit)
        {
            VectorUsage? usage = _usage.Get(key);
            if (usage is null)
            {
                continue;
            }

            try
            {
                VectorRecord? record = await _placement[usage.Tier].GetAsync(key, cancellationToken).ConfigureAwait(false);
                if (record is not null)
                {
                    records[key] = record;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _logger.EdgeUpdateFailed(Name, e.GetType().Name);
            }
        }

        return await ApplyEdgeAsync(records, evict, cancellationToken).ConfigureAwait(false);
    }

    // Called by a search that holds the write gate, with no write or delete since it started: its results are as new
    // as the tiers.
    private async Task OfferToEdgeCoreAsync(Dictionary<string, VectorRecord> offered, DateTimeOffset now, CancellationToken cancellationToken)
    {
        List<VectorUsage> snapshot = _usage.Snapshot();
        var candidates = snapshot.Where(u => !u.InEdgeCache && offered.ContainsKey(u.Key));
        (List<string> admit, List<string> evict) = EdgeCachePolicy.Decide(snapshot.Where(u => u.InEdgeCache), candidates, _options.Edge.Capacity, now, _options);
        if (admit.Count > 0)
        {
            await ApplyEdgeAsync(admit.ToDictionary(k => k, k => offered[k], StringComparer.Ordinal), evict, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(List<string> Admitted, List<string> Evicted)> ApplyEdgeAsync(Dictionary<string, VectorRecord> admit, List<string> evict, CancellationToken cancellationToken)
    {
        // The edge cache is only a cache: a failure to update it never fails the search or the rebalance. A copy it
        // could not drop, or may hold half-written, is marked stale (never served) and deleted by the next rebalance.
        var admitted = new List<string>();
        var evicted = new List<string>();
        foreach (string key in evict)
        {
            _usage.Update(key, u => u with { InEdgeCache = false });
            try
            {
                await _edge!.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
                evicted.Add(key);
            }
            catch (Exception e)
            {
                _logger.EdgeUpdateFailed(Name, e.GetType().Name);
                AddStrays([key], VectorTier.Edge);
                if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
            }
        }

        if (admit.Count > 0)
        {
            try
            {
                await _edge!.UpsertAsync(admit.Values, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.EdgeUpdateFailed(Name, e.GetType().Name);
                AddStrays(admit.Keys, VectorTier.Edge);
                if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
                {
                    throw;
                }

                return (admitted, evicted);
            }

            ForgetStrays(admit.Keys, VectorTier.Edge);
            foreach (string key in admit.Keys)
            {
                if (_usage.Update(key, u => u with { InEdgeCache = true }) is not null)
                {
                    admitted.Add(key);
                }
            }
        }

        return (admitted, evicted);
    }
}
