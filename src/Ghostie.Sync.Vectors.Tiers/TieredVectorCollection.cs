using Ghostie.Sync.Vectors.Tiers.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>
/// One logical vector collection spread over tiers (each an <see cref="IVectorCollection"/>: the local index, pgvector,
/// or any other client). Each vector lives in exactly one placement tier (critical, context or historical) chosen by
/// the rules of <see cref="VectorTiersOptions"/>; hot vectors also have a copy in the edge cache. The store tracks
/// every use, promotes hot vectors and demotes cold ones in <see cref="RebalanceAsync(CancellationToken)"/>, and searches the edge cache
/// first, then the remote tiers in parallel, each under its own timeout, merging results by key.
/// </summary>
/// <remarks>
/// The usage table lives in memory; a host that wants placement to survive a restart saves
/// <see cref="ExportUsage"/> and gives it back to <see cref="ImportUsage"/>. Moves write the target tier before
/// deleting from the source, so a vector is never absent from every tier; a copy left in two tiers by an interrupted
/// move is harmless (searches de-duplicate by key) and the next rebalance or delete cleans it.
/// Remote tiers see embeddings in the clear: see docs/vector-tiers.md.
/// </remarks>
public sealed partial class TieredVectorCollection : IVectorCollection
{
    private readonly Dictionary<VectorTier, IVectorCollection> _placement;
    private readonly IReadOnlyList<VectorTier> _placementOrder;
    private readonly IVectorCollection? _edge;
    private readonly VectorTiersOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly UsageTable _usage = new();
    private readonly SemaphoreSlim _rebalanceGate = new(1, 1);

    // Writes, deletes, moves and edge updates take turns, so a move never copies a vector that a write is replacing
    // and the edge never caches a copy older than the home tier's. Searches and reads do not wait for it.
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private long _writeEpoch;

    // Copies known to be stale: a source copy a move could not delete, a copy a failed delete left behind, an edge
    // copy a failed refresh or eviction left behind, a partial write of a failed move. Searches and reads ignore
    // them (a deleted memory never comes back, an outdated copy is never served); the next rebalance (or, for a key
    // being deleted, a retry of DeleteAsync) deletes them; a write of a fresh copy to that tier clears the entry.
    private readonly HashSet<(string Key, VectorTier Tier)> _strays = [];
    private long _strayVersion;

    /// <summary>Creates the tiered collection over existing tier collections.</summary>
    /// <param name="name">The collection name.</param>
    /// <param name="model">The embedding model; every tier must have been opened for the same one.</param>
    /// <param name="tiers">The tier collections: at least one of critical, context, historical; edge optional.</param>
    /// <param name="options">The plan (default: the seed's figures).</param>
    /// <param name="timeProvider">The clock for usage, rules and timeouts (default: the system clock).</param>
    /// <param name="logger">Optional logger.</param>
    /// <exception cref="GhostieSyncException">No placement tier is given (<see cref="GhostieErrorCode.NotConfigured"/>),
    /// or the options are invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    /// <exception cref="VectorModelMismatchException">A tier was opened for another model or dimension.</exception>
    /// <exception cref="VectorTierConflictException">Two tiers are the same collection, or store their records in the same
    /// place (<see cref="IVectorCollectionLocation"/>, for example one pgvector table).</exception>
    public TieredVectorCollection(string name, EmbeddingModelInfo model, IReadOnlyDictionary<VectorTier, IVectorCollection> tiers,
        VectorTiersOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tiers);
        model.Validate();
        _options = options ?? new VectorTiersOptions();
        _options.Validate();
        foreach ((VectorTier tier, IVectorCollection collection) in tiers)
        {
            ArgumentNullException.ThrowIfNull(collection, nameof(tiers) + "[" + tier + "]");
            model.EnsureSameAs(collection.Model, name);
        }

        EnsureDistinctStorage(name, tiers);
        Name = name;
        Model = model;
        _edge = tiers.GetValueOrDefault(VectorTier.Edge);
        _placement = tiers.Where(t => t.Key != VectorTier.Edge).ToDictionary(t => t.Key, t => t.Value);
        _placementOrder = VectorTierPolicy.OrderedPlacementTiers(_placement.Keys);
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    private static void EnsureDistinctStorage(string name, IReadOnlyDictionary<VectorTier, IVectorCollection> tiers)
    {
        var ordered = tiers.OrderBy(t => t.Key).ToList();
        for (int i = 0; i < ordered.Count; i++)
        {
            for (int j = i + 1; j < ordered.Count; j++)
            {
                IVectorCollection a = ordered[i].Value, b = ordered[j].Value;
                string? where = ReferenceEquals(a, b) ? $"the same collection object '{a.Name}'"
                    : a is IVectorCollectionLocation la && b is IVectorCollectionLocation lb
                      && string.Equals(la.StorageLocation, lb.StorageLocation, StringComparison.Ordinal) ? la.StorageLocation
                    : null;
                if (where is not null)
                {
                    throw new VectorTierConflictException(name, ordered[i].Key, ordered[j].Key, where);
                }
            }
        }
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public EmbeddingModelInfo Model { get; }

    /// <summary>The plan this collection follows.</summary>
    public VectorTiersOptions Options => _options;

    /// <summary>The configured tiers, edge first, then placement tiers fastest first.</summary>
    public IReadOnlyList<VectorTier> Tiers => (_edge is null ? _placementOrder : [VectorTier.Edge, .. _placementOrder]);

    /// <summary>The usage of <paramref name="key"/>, or null when the key is not tracked.</summary>
    /// <param name="key">The record key.</param>
    public VectorUsage? GetUsage(string key) => _usage.Get(key);

    /// <summary>Vectors per tier, from the usage table (the edge figure counts cached copies).</summary>
    public IReadOnlyDictionary<VectorTier, int> GetTierCounts() => _usage.Counts();

    /// <summary>Every tracked vector's usage, ordered by key. Prefer <see cref="ExportState"/>, which also keeps the
    /// stale marks (without them, a copy a failed delete or move left behind is served again after a restart).</summary>
    public IReadOnlyList<VectorUsage> ExportUsage() => _usage.Snapshot();

    /// <summary>What must survive a restart: every tracked vector's usage and the stale copies (see
    /// <see cref="GetStaleCopies"/>). Give it back to <see cref="ImportState"/>, or let an <see cref="IVectorUsageStore"/>
    /// keep it (<see cref="TieredVectorStore"/> and the hosted maintenance service do so).</summary>
    public VectorUsageState ExportState() =>
        new(_usage.Snapshot(), [.. GetStaleCopies().Select(s => new VectorStaleCopy(s.Key, s.Tier))]);

    /// <summary>Restores a state saved with <see cref="ExportState"/>: usage entries replace tracked ones with the same
    /// key, stale marks are added (their copies are hidden from now on, and the next rebalance deletes them).</summary>
    /// <param name="state">The saved state.</param>
    /// <exception cref="GhostieSyncException">An entry names a tier this collection does not have, or an empty key
    /// (<see cref="GhostieErrorCode.InvalidArgument"/>); nothing is imported then.</exception>
    public void ImportState(VectorUsageState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(state.Usages);
        ArgumentNullException.ThrowIfNull(state.StaleCopies);
        foreach (VectorStaleCopy stale in state.StaleCopies)
        {
            if (stale is null || string.IsNullOrEmpty(stale.Key))
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"A stale-copy entry for collection '{Name}' has no key.");
            }

            if (!(stale.Tier == VectorTier.Edge ? _edge is not null : _placement.ContainsKey(stale.Tier)))
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"The stale-copy entry '{stale.Key}' names the {stale.Tier} tier, which collection '{Name}' does not have; configure that tier or drop the entry.");
            }
        }

        ImportUsage(state.Usages);
        lock (_strays)
        {
            foreach (VectorStaleCopy stale in state.StaleCopies)
            {
                _strays.Add((stale.Key, stale.Tier));
            }

            _strayVersion++;
        }
    }

    /// <summary>Why the saved usage state could not be restored when the collection was opened (damaged or newer file,
    /// or entries for tiers no longer configured), or null. The collection then started with an empty usage table.</summary>
    public string? UsageRestoreProblem { get; internal set; }

    /// <summary>Grows on every change of the usage table or the stale marks.</summary>
    internal long ChangeStamp => _usage.Version + Interlocked.Read(ref _strayVersion);

    /// <summary>Restores a usage table saved with <see cref="ExportUsage"/> (entries replace tracked ones with the same key).</summary>
    /// <param name="usages">The saved usage.</param>
    /// <exception cref="GhostieSyncException">An entry names a tier this collection does not have, or an empty key
    /// (<see cref="GhostieErrorCode.InvalidArgument"/>); nothing is imported then.</exception>
    public void ImportUsage(IEnumerable<VectorUsage> usages)
    {
        ArgumentNullException.ThrowIfNull(usages);
        var list = usages.ToList();
        foreach (VectorUsage usage in list)
        {
            if (usage is null || string.IsNullOrEmpty(usage.Key))
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"A usage entry for collection '{Name}' has no key.");
            }

            if (!_placement.ContainsKey(usage.Tier))
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"The usage entry '{usage.Key}' places the vector in the {usage.Tier} tier, which collection '{Name}' does not have; configure that tier or drop the entry.");
            }
        }

        foreach (VectorUsage usage in list)
        {
            _usage.Set(_edge is null ? usage with { InEdgeCache = false } : usage);
        }
    }

    /// <summary>Records a use of <paramref name="key"/> by the host (for example the memory was shown or cited).</summary>
    /// <param name="key">The record key.</param>
    /// <returns>Whether the key is tracked.</returns>
    public bool RecordAccess(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        DateTimeOffset now = _time.GetUtcNow();
        return _usage.Update(key, u => u.Used(now, _options.FrequencyHalfLife)) is not null;
    }

    /// <summary>Sets the interaction score of <paramref name="key"/> (0 to 1; for example 1 when the user pinned or
    /// confirmed a memory). Critical placement requires a high score (default 0.9).</summary>
    /// <param name="key">The record key.</param>
    /// <param name="score">The score, 0 to 1.</param>
    /// <returns>Whether the key is tracked.</returns>
    /// <exception cref="GhostieSyncException">The score is not 0 to 1 (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public bool RecordInteraction(string key, double score)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (double.IsNaN(score) || score is < 0 or > 1)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"The interaction score for '{key}' is {score}; use 0 to 1.");
        }

        DateTimeOffset now = _time.GetUtcNow();
        return _usage.Update(key, u => u.Used(now, _options.FrequencyHalfLife) with { InteractionScore = score }) is not null;
    }

    /// <inheritdoc />
    public async Task UpsertAsync(IEnumerable<VectorRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var batch = new Dictionary<string, VectorRecord>(StringComparer.Ordinal);
        foreach (VectorRecord record in records)
        {
            ArgumentNullException.ThrowIfNull(record, nameof(records));
            record.EnsureValid(Model, Name);
            batch[record.Key] = record; // last one wins, as a sequence of upserts would
        }

        if (batch.Count == 0)
        {
            return;
        }

        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Interlocked.Increment(ref _writeEpoch);
            await UpsertCoreAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task UpsertCoreAsync(Dictionary<string, VectorRecord> batch, CancellationToken cancellationToken)
    {
        DateTimeOffset now = _time.GetUtcNow();
        Dictionary<VectorTier, int> counts = _usage.Counts();
        var byTier = new Dictionary<VectorTier, List<VectorRecord>>();
        var fresh = new List<VectorUsage>();
        var known = new List<string>();
        var edgeRefresh = new List<VectorRecord>();
        foreach (VectorRecord record in batch.Values)
        {
            VectorUsage? usage = _usage.Get(record.Key);
            if (usage is null)
            {
                usage = new VectorUsage(record.Key, _placementOrder[^1], now, now, 0, 0, _options.InitialInteractionScore, _options.InitialRelevance, false);
                usage = usage with { Tier = VectorTierPolicy.PlaceNew(usage, _placementOrder, counts, _options, now) };
                counts[usage.Tier]++;
                fresh.Add(usage);
            }
            else
            {
                known.Add(record.Key);
                if (usage.InEdgeCache)
                {
                    edgeRefresh.Add(record);
                }
            }

            if (!byTier.TryGetValue(usage.Tier, out List<VectorRecord>? list))
            {
                byTier[usage.Tier] = list = [];
            }

            list.Add(record);
        }

        foreach (VectorTier tier in _placementOrder.Where(byTier.ContainsKey))
        {
            await _placement[tier].UpsertAsync(byTier[tier], cancellationToken).ConfigureAwait(false);
            ForgetStrays(byTier[tier].Select(r => r.Key), tier);
        }

        foreach (VectorUsage usage in fresh)
        {
            _usage.Set(usage);
        }

        foreach (string key in known)
        {
            _usage.Update(key, u => u.Used(now, _options.FrequencyHalfLife)); // writing a memory again is a use of it
        }

        if (_edge is not null && edgeRefresh.Count > 0)
        {
            try
            {
                await _edge.UpsertAsync(edgeRefresh, cancellationToken).ConfigureAwait(false);
                ForgetStrays(edgeRefresh.Select(r => r.Key), VectorTier.Edge);
            }
            catch (Exception e)
            {
                // The home tier holds the new version; the edge may still hold the old one. The edge is only a cache:
                // its copies are dropped from the cache (never served again) and deleted by the next rebalance.
                _logger.EdgeUpdateFailed(Name, e.GetType().Name);
                foreach (VectorRecord record in edgeRefresh)
                {
                    _usage.Update(record.Key, u => u with { InEdgeCache = false });
                }

                AddStrays(edgeRefresh.Select(r => r.Key), VectorTier.Edge);
                if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
            }
        }

        if (_options.RemoveStrayCopiesOnInsert && fresh.Count > 0)
        {
            await RemoveStrayCopiesAsync(fresh, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<VectorRecord?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        long epoch = Interlocked.Read(ref _writeEpoch);
        VectorUsage? usage = _usage.Get(key);
        VectorRecord? found = null;
        if (_edge is not null && usage?.InEdgeCache == true && !IsStray(key, VectorTier.Edge))
        {
            try
            {
                found = await _edge.GetAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _logger.EdgeUpdateFailed(Name, e.GetType().Name);
            }
        }

        VectorTier? foundIn = null;
        if (found is null)
        {
            IEnumerable<VectorTier> order = usage is null ? _placementOrder : [usage.Tier, .. _placementOrder.Where(t => t != usage.Tier)];
            foreach (VectorTier tier in order.Where(t => !IsStray(key, t)))
            {
                found = await _placement[tier].GetAsync(key, cancellationToken).ConfigureAwait(false);
                if (found is not null)
                {
                    foundIn = tier;
                    break;
                }
            }
        }

        if (found is null)
        {
            return null;
        }

        DateTimeOffset now = _time.GetUtcNow();
        if (usage is null && foundIn is VectorTier home)
        {
            // A vector written before this process started (usage not restored): track it from now on.
            TrackFound(key, home, now, epoch, countUse: true);
        }
        else
        {
            _usage.Update(key, u => u.Used(now, _options.FrequencyHalfLife) with { Tier = foundIn ?? u.Tier });
        }

        return found;
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Interlocked.Increment(ref _writeEpoch);
            return await DeleteCoreAsync(key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task<bool> DeleteCoreAsync(string key, CancellationToken cancellationToken)
    {
        // Every tier, not only the home one: a copy left behind by an interrupted move must not outlive the delete.
        List<VectorTier> tiers = [.. _placementOrder];
        if (_edge is not null)
        {
            tiers.Add(VectorTier.Edge);
        }

        var outcomes = await Task.WhenAll(tiers.Select(t => TryDeleteAsync(TierCollection(t), key, cancellationToken))).ConfigureAwait(false);
        _usage.Remove(key);
        var failed = new List<(VectorTier Tier, Exception Error)>();
        for (int i = 0; i < tiers.Count; i++)
        {
            if (outcomes[i].Error is Exception error)
            {
                failed.Add((tiers[i], error));
            }
        }

        lock (_strays)
        {
            // Tiers that failed keep a copy: hidden from searches and reads from now on, deleted later.
            _strays.RemoveWhere(s => s.Key == key);
            foreach ((VectorTier tier, _) in failed)
            {
                _strays.Add((key, tier));
            }

            _strayVersion++;
        }

        if (failed.Count > 0)
        {
            if (cancellationToken.IsCancellationRequested && failed.All(f => f.Error is OperationCanceledException))
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            foreach ((VectorTier tier, Exception error) in failed)
            {
                _logger.StrayDeleteFailed(tier, Name, error.GetType().Name);
            }

            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"Record '{key}' of vector collection '{Name}' could not be deleted from every tier: "
                + string.Join("; ", failed.Select(f => $"{f.Tier} failed ({Describe(f.Error)})"))
                + ". The copies left there are no longer returned by searches or reads of this collection; they are deleted by the next RebalanceAsync, or retry DeleteAsync.",
                isTransient: true);
        }

        return outcomes.Take(_placementOrder.Count).Any(o => o.Deleted);
    }

    private static async Task<(bool Deleted, Exception? Error)> TryDeleteAsync(IVectorCollection collection, string key, CancellationToken cancellationToken)
    {
        try
        {
            return (await collection.DeleteAsync(key, cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception e)
        {
            return (false, e);
        }
    }

    /// <summary>Starts tracking a vector this process did not know (written before it started, usage not restored), in
    /// the tier it was found in (a read counts as a use; a search counts its results itself). Its edge copy, if any, may be older than that tier's (an update
    /// after the copy was cached, before the restart): it is marked stale, so it is never served and the next
    /// rebalance deletes it; a search result or a rebalance caches a fresh copy. Nothing is tracked when a write or
    /// delete ran since the tier was read (<paramref name="epoch"/>): that write decides.</summary>
    private bool TrackFound(string key, VectorTier home, DateTimeOffset now, long epoch, bool countUse)
    {
        if (Interlocked.Read(ref _writeEpoch) != epoch)
        {
            return false;
        }

        var usage = new VectorUsage(key, home, now, now, 0, 0, _options.InitialInteractionScore, _options.InitialRelevance, false);
        if (!_usage.TryAdd(countUse ? usage.Used(now, _options.FrequencyHalfLife) : usage))
        {
            return false;
        }

        if (_edge is not null)
        {
            AddStrays([key], VectorTier.Edge);
        }

        return true;
    }

    private IVectorCollection TierCollection(VectorTier tier) => tier == VectorTier.Edge ? _edge! : _placement[tier];

    private bool IsStray(string key, VectorTier tier)
    {
        lock (_strays)
        {
            return _strays.Count > 0 && _strays.Contains((key, tier));
        }
    }

    private void AddStrays(IEnumerable<string> keys, VectorTier tier)
    {
        lock (_strays)
        {
            foreach (string key in keys)
            {
                _strays.Add((key, tier));
            }

            _strayVersion++;
        }
    }

    private void ForgetStrays(IEnumerable<string> keys, VectorTier tier)
    {
        lock (_strays)
        {
            if (_strays.Count == 0)
            {
                return;
            }

            foreach (string key in keys)
            {
                _strays.Remove((key, tier));
            }

            _strayVersion++;
        }
    }

    /// <summary>The copies known to be stale (left by a failed delete, move or edge update), by key and tier. They are
    /// never returned by searches or reads; <see cref="RebalanceAsync(CancellationToken)"/> deletes them. They are tracked in memory: a
    /// host that restarts before the next rebalance should retry its failed deletes.</summary>
    public IReadOnlyList<(string Key, VectorTier Tier)> GetStaleCopies()
    {
        lock (_strays)
        {
            return [.. _strays.OrderBy(s => s.Key, StringComparer.Ordinal).ThenBy(s => s.Tier)];
        }
    }

    /// <summary>The number of records over the placement tiers (edge copies are not counted again, and neither are
    /// stale copies that a failed delete or move left in a tier: see <see cref="GetStaleCopies"/>).</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        long total = 0;
        foreach (VectorTier tier in _placementOrder)
        {
            total += await _placement[tier].CountAsync(cancellationToken).ConfigureAwait(false);
        }

        // A stale copy is counted by its tier only if it is really still there (the failed delete may have taken
        // effect after all); there are few, so each is looked up.
        foreach ((string key, VectorTier tier) in GetStaleCopies())
        {
            if (_placement.TryGetValue(tier, out IVectorCollection? collection)
                && await collection.GetAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false) is not null)
            {
                total--;
            }
        }

        return total;
    }

    /// <summary>The monthly cost of this collection's current placement, for <paramref name="queriesPerMonth"/>
    /// searches of which <paramref name="edgeHitRatio"/> are answered by the edge cache alone.</summary>
    /// <param name="queriesPerMonth">Searches per month.</param>
    /// <param name="edgeHitRatio">Share of searches the edge cache answers alone, 0 to 1.</param>
    public VectorCostEstimate EstimateMonthlyCost(long queriesPerMonth = 0, double edgeHitRatio = 0)
    {
        Dictionary<VectorTier, int> counts = _usage.Counts();
        return VectorCostModel.Estimate(_options, new VectorUsageProfile
        {
            VectorsPerTier = counts.ToDictionary(c => c.Key, c => (long)c.Value),
            QueriesPerUserPerMonth = queriesPerMonth,
            EdgeHitRatio = edgeHitRatio,
            Tiers = Tiers,
        });
    }

    private async Task RemoveStrayCopiesAsync(List<VectorUsage> fresh, CancellationToken cancellationToken)
    {
        var work = new List<Task>();
        foreach (VectorTier tier in _placementOrder)
        {
            string[] keys = fresh.Where(u => u.Tier != tier).Select(u => u.Key).ToArray();
            if (keys.Length > 0)
            {
                work.Add(DeleteEachAsync(_placement[tier], tier, keys, cancellationToken));
            }
        }

        if (_edge is not null)
        {
            work.Add(DeleteEachAsync(_edge, VectorTier.Edge, fresh.Select(u => u.Key).ToArray(), cancellationToken));
        }

        await Task.WhenAll(work).ConfigureAwait(false);
    }

    private async Task DeleteEachAsync(IVectorCollection collection, VectorTier tier, string[] keys, CancellationToken cancellationToken)
    {
        foreach (string key in keys)
        {
            try
            {
                await collection.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The new version is written; the old copy is hidden and left to the next rebalance.
                _logger.StrayDeleteFailed(tier, Name, e.GetType().Name);
                AddStrays([key], tier);
            }
        }
    }

    private static string Describe(Exception e) => e is GhostieSyncException g ? $"{e.GetType().Name} ({g.Code}): {g.Message}" : e.GetType().Name;
}
