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
    public async Task<VectorRebalanceReport> RebalanceAsync(CancellationToken cancellationToken = default)
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
            foreach (var group in wanted.GroupBy(m => (m.From, m.To)).OrderBy(g => g.Key.From).ThenBy(g => g.Key.To))
            {
                foreach (VectorMove[] chunk in group.Chunk(_options.MigrationBatchSize))
                {
                    await MoveAsync(group.Key.From, group.Key.To, chunk, moves, failures, cancellationToken).ConfigureAwait(false);
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
                // Unless the key has since come home to that tier, the copy there is stale.
                if (_usage.Get(key)?.Tier != tier)
                {
                    await _placement[tier].DeleteAsync(key, cancellationToken).ConfigureAwait(false);
                }

                lock (_strays)
                {
                    _strays.Remove((key, tier));
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
            // A write or delete since the plan was made may have changed a vector's home: move only what is still where the plan saw it.
            VectorMove[] current = chunk.Where(m => _usage.Get(m.Key)?.Tier == from).ToArray();
            await MoveCoreAsync(from, to, current, moves, failures, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task MoveCoreAsync(VectorTier from, VectorTier to, VectorMove[] chunk, List<VectorMove> moves, List<VectorMoveFailure> failures, CancellationToken cancellationToken)
    {
        IVectorCollection source = _placement[from];
        IVectorCollection target = _placement[to];
        var records = new List<VectorRecord>();
        var copied = new List<VectorMove>();
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
                else if (await target.GetAsync(move.Key, cancellationToken).ConfigureAwait(false) is not null)
                {
                    // An earlier, interrupted pass already copied it: only the bookkeeping is left.
                    _usage.Update(move.Key, u => u with { Tier = to });
                    moves.Add(move);
                }
                else
                {
                    _usage.Remove(move.Key);
                    failures.Add(new VectorMoveFailure(move.Key, from, to, $"the vector is missing from the {from} tier (deleted outside this store?); it is no longer tracked"));
                }
            }

            if (records.Count == 0)
            {
                return;
            }

            await target.UpsertAsync(records, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.MoveFailed(Name, from, to, e.GetType().Name);
            failures.AddRange(copied.Select(m => new VectorMoveFailure(m.Key, from, to, Describe(e))));
            return;
        }

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
                // The vector is in the target already; the stale source copy is retried by the next rebalance.
                _logger.MoveFailed(Name, from, to, e.GetType().Name);
                lock (_strays)
                {
                    _strays.Add((move.Key, from));
                }
            }
        }
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

    private async Task OfferToEdgeAsync(Dictionary<string, VectorRecord> offered, DateTimeOffset now, long epoch, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Interlocked.Read(ref _writeEpoch) != epoch)
            {
                return; // a write or delete ran during the search: its results may be older than the tiers now; do not cache them
            }

            List<VectorUsage> snapshot = _usage.Snapshot();
            var candidates = snapshot.Where(u => !u.InEdgeCache && offered.ContainsKey(u.Key));
            (List<string> admit, List<string> evict) = EdgeCachePolicy.Decide(snapshot.Where(u => u.InEdgeCache), candidates, _options.Edge.Capacity, now, _options);
            if (admit.Count > 0)
            {
                await ApplyEdgeAsync(admit.ToDictionary(k => k, k => offered[k], StringComparer.Ordinal), evict, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task<(List<string> Admitted, List<string> Evicted)> ApplyEdgeAsync(Dictionary<string, VectorRecord> admit, List<string> evict, CancellationToken cancellationToken)
    {
        var admitted = new List<string>();
        var evicted = new List<string>();
        try
        {
            foreach (string key in evict)
            {
                _usage.Update(key, u => u with { InEdgeCache = false });
                await _edge!.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
                evicted.Add(key);
            }

            if (admit.Count > 0)
            {
                await _edge!.UpsertAsync(admit.Values, cancellationToken).ConfigureAwait(false);
                foreach (string key in admit.Keys)
                {
                    if (_usage.Update(key, u => u with { InEdgeCache = true }) is not null)
                    {
                        admitted.Add(key);
                    }
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The edge cache is only a cache: a failure to update it never fails the search or the rebalance.
            _logger.EdgeUpdateFailed(Name, e.GetType().Name);
        }

        return (admitted, evicted);
    }
}
