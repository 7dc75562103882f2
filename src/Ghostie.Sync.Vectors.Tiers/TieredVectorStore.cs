using System.Collections.Concurrent;
using Ghostie.Sync.Vectors.Tiers.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>A store registered as one tier of the plan (see <see cref="VectorTiersGhostieSyncBuilderExtensions.AddVectorTier"/>).</summary>
/// <param name="Tier">The tier it serves.</param>
/// <param name="Factory">Creates (or resolves) the store.</param>
public sealed record VectorTierRegistration(VectorTier Tier, Func<IServiceProvider, IVectorStore> Factory);

/// <summary>
/// Opens <see cref="TieredVectorCollection"/>s over the tiers registered in dependency injection. The same name gives
/// the same collection object (usage tracking lives in it). With a usage store, opening a collection restores its
/// saved usage and stale marks, and <see cref="SaveUsageAsync"/> saves them (the hosted
/// <see cref="VectorTierMaintenanceService"/> does so periodically, and rebalances). The edge tier's collection is named
/// <c>{name}-edge</c>, so it never shares a collection with a store used directly.
/// </summary>
public sealed class TieredVectorStore : IVectorStore, IVectorCollectionCatalog
{
    private readonly IReadOnlyDictionary<VectorTier, VectorTierRegistration> _registrations;
    private readonly IServiceProvider _services;
    private readonly VectorTiersOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ConcurrentDictionary<string, Lazy<Task<TieredVectorCollection>>> _open = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _savedStamps = new(StringComparer.Ordinal);
    private readonly IVectorUsageStore? _usageStore;
    private readonly ILogger _logger;

    /// <summary>Created by dependency injection.</summary>
    /// <param name="registrations">The registered tiers (the last registration of a tier wins).</param>
    /// <param name="options">The plan.</param>
    /// <param name="services">Resolves the tier stores.</param>
    /// <param name="timeProvider">Optional clock (default: the system clock).</param>
    /// <param name="loggers">Optional logger factory.</param>
    /// <param name="usageStore">Keeps each collection's usage state over restarts (registered by <c>AddVectorTiers()</c>:
    /// a <see cref="FileVectorUsageStore"/>); null: usage lives in memory only.</param>
    public TieredVectorStore(IEnumerable<VectorTierRegistration> registrations, IOptions<VectorTiersOptions> options, IServiceProvider services,
        TimeProvider? timeProvider = null, ILoggerFactory? loggers = null, IVectorUsageStore? usageStore = null)
    {
        ArgumentNullException.ThrowIfNull(registrations);
        ArgumentNullException.ThrowIfNull(options);
        var byTier = new Dictionary<VectorTier, VectorTierRegistration>();
        foreach (VectorTierRegistration registration in registrations)
        {
            byTier[registration.Tier] = registration;
        }

        _registrations = byTier;
        _services = services;
        _options = options.Value;
        _time = timeProvider ?? TimeProvider.System;
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _usageStore = usageStore;
        _logger = _loggers.CreateLogger<TieredVectorStore>();
    }

    /// <summary>The usage store, or null when usage lives in memory only.</summary>
    public IVectorUsageStore? UsageStore => _usageStore;

    /// <summary>The collections opened so far (and opened successfully).</summary>
    public IReadOnlyList<TieredVectorCollection> OpenCollections =>
        [.. _open.Values.Where(l => l.IsValueCreated && l.Value.IsCompletedSuccessfully).Select(l => l.Value.Result).OrderBy(c => c.Name, StringComparer.Ordinal)];

    /// <summary>Saves the usage state of every open collection that changed since its last save. A failure is logged and
    /// retried by the next call; it never throws but for cancellation.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>How many collections were saved.</returns>
    public async Task<int> SaveUsageAsync(CancellationToken cancellationToken = default)
    {
        if (_usageStore is null)
        {
            return 0;
        }

        int saved = 0;
        foreach (TieredVectorCollection collection in OpenCollections)
        {
            long stamp = collection.ChangeStamp;
            if (_savedStamps.TryGetValue(collection.Name, out long last) && last == stamp)
            {
                continue;
            }

            try
            {
                await _usageStore.SaveAsync(collection.Name, collection.ExportState(), cancellationToken).ConfigureAwait(false);
                _savedStamps[collection.Name] = stamp;
                saved++;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _logger.UsageSaveFailed(collection.Name, e.GetType().Name);
            }
        }

        return saved;
    }

    /// <summary>Runs <see cref="TieredVectorCollection.RebalanceAsync(CancellationToken)"/> on every open collection,
    /// then saves their usage. A collection whose pass fails is logged and left to the next call.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The reports of the passes that ran.</returns>
    public async Task<IReadOnlyList<VectorRebalanceReport>> RebalanceAllAsync(CancellationToken cancellationToken = default)
    {
        var reports = new List<VectorRebalanceReport>();
        foreach (TieredVectorCollection collection in OpenCollections)
        {
            try
            {
                reports.Add(await collection.RebalanceAsync(cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _logger.RebalanceFailed(collection.Name, e.GetType().Name);
            }
        }

        await SaveUsageAsync(cancellationToken).ConfigureAwait(false);
        return reports;
    }

    /// <summary>The edge collection's name for a collection name.</summary>
    /// <param name="name">The collection name.</param>
    public static string EdgeCollectionName(string name) => name + "-edge";

    /// <summary>Opens (or creates) the collection <paramref name="name"/> in every registered tier and returns the tiered view.</summary>
    /// <param name="name">The collection name (at most 59 characters, as the edge tier appends "-edge").</param>
    /// <param name="model">The embedding model.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">No placement tier is registered (<see cref="GhostieErrorCode.NotConfigured"/>),
    /// or the name is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    /// <exception cref="VectorModelMismatchException">A tier holds the collection for another model or dimension.</exception>
    public async Task<TieredVectorCollection> GetOrCreateCollectionAsync(string name, EmbeddingModelInfo model, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        ArgumentNullException.ThrowIfNull(model);
        model.Validate();
        if (_registrations.ContainsKey(VectorTier.Edge))
        {
            VectorCollectionName.EnsureValid(EdgeCollectionName(name));
        }

        Lazy<Task<TieredVectorCollection>> open = _open.GetOrAdd(name, n => new Lazy<Task<TieredVectorCollection>>(() => OpenAsync(n, model, CancellationToken.None)));
        TieredVectorCollection collection;
        try
        {
            collection = await open.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (open.Value.IsFaulted)
        {
            _open.TryRemove(new KeyValuePair<string, Lazy<Task<TieredVectorCollection>>>(name, open));
            throw;
        }

        collection.Model.EnsureSameAs(model, name);
        return collection;
    }

    /// <inheritdoc />
    async Task<IVectorCollection> IVectorStore.GetOrCreateCollectionAsync(string name, EmbeddingModelInfo model, CancellationToken cancellationToken) =>
        await GetOrCreateCollectionAsync(name, model, cancellationToken).ConfigureAwait(false);

    /// <summary>The collection names held by the placement tiers (critical, context, historical), in ordinal order.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="NotSupportedException">A placement tier's store cannot list its collections (it is no
    /// <see cref="IVectorCollectionCatalog"/>).</exception>
    public async IAsyncEnumerable<string> ListCollectionNamesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        bool hasEdge = _registrations.ContainsKey(VectorTier.Edge);
        foreach ((VectorTier tier, IVectorCollectionCatalog catalog) in Catalogs("ListCollectionNamesAsync", includeEdge: false))
        {
            await foreach (string name in catalog.ListCollectionNamesAsync(cancellationToken).ConfigureAwait(false))
            {
                // A store that serves both the edge and a placement tier holds the edge copies too.
                if (!(hasEdge && name.EndsWith("-edge", StringComparison.Ordinal)))
                {
                    names.Add(name);
                }
            }
        }

        foreach (string name in names)
        {
            yield return name;
        }
    }

    /// <summary>Whether any placement tier holds the collection <paramref name="name"/>.</summary>
    /// <param name="name">The collection name.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="NotSupportedException">A placement tier's store cannot test its collections (it is no
    /// <see cref="IVectorCollectionCatalog"/>).</exception>
    public async Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        foreach ((VectorTier tier, IVectorCollectionCatalog catalog) in Catalogs("CollectionExistsAsync", includeEdge: false))
        {
            if (await catalog.CollectionExistsAsync(name, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Deletes the collection <paramref name="name"/> from every tier (the edge's <c>{name}-edge</c> too), forgets
    /// the open collection and empties its saved usage; returns whether any placement tier held it. Every tier's store
    /// must be able to delete (checked before anything is deleted).</summary>
    /// <param name="name">The collection name.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="NotSupportedException">A tier's store cannot delete collections (it is no <see cref="IVectorCollectionCatalog"/>).</exception>
    public async Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        List<(VectorTier Tier, IVectorCollectionCatalog Catalog)> catalogs = Catalogs("DeleteCollectionAsync", includeEdge: true);
        _open.TryRemove(name, out _);
        _savedStamps.TryRemove(name, out _);
        bool existed = false;
        foreach ((VectorTier tier, IVectorCollectionCatalog catalog) in catalogs)
        {
            bool deleted = await catalog.DeleteCollectionAsync(tier == VectorTier.Edge ? EdgeCollectionName(name) : name, cancellationToken).ConfigureAwait(false);
            existed |= deleted && tier != VectorTier.Edge;
        }

        if (_usageStore is not null)
        {
            // The usage of deleted records must not come back with a new collection of the same name.
            await _usageStore.SaveAsync(name, new VectorUsageState([], []), cancellationToken).ConfigureAwait(false);
        }

        return existed;
    }

    private List<(VectorTier Tier, IVectorCollectionCatalog Catalog)> Catalogs(string operation, bool includeEdge)
    {
        var catalogs = new List<(VectorTier, IVectorCollectionCatalog)>();
        foreach ((VectorTier tier, VectorTierRegistration registration) in _registrations.OrderBy(r => r.Key))
        {
            if (tier == VectorTier.Edge && !includeEdge)
            {
                continue;
            }

            IVectorStore store = registration.Factory(_services);
            catalogs.Add((tier, store as IVectorCollectionCatalog ?? throw new NotSupportedException(
                $"{operation} on the tiered store needs every {(includeEdge ? "" : "placement ")}tier's store to list, test and delete collections; the {tier} tier's {store.GetType().Name} does not implement IVectorCollectionCatalog.")));
        }

        if (catalogs.Count == 0 && !includeEdge)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured, "No placement tier is registered: add a critical, context or historical tier (AddVectorTier, AddPgVectorTier).");
        }

        return catalogs;
    }

    private async Task<TieredVectorCollection> OpenAsync(string name, EmbeddingModelInfo model, CancellationToken cancellationToken)
    {
        VectorTierPolicy.OrderedPlacementTiers(_registrations.Keys.Where(t => t != VectorTier.Edge));
        var tiers = new Dictionary<VectorTier, IVectorCollection>();
        foreach ((VectorTier tier, VectorTierRegistration registration) in _registrations)
        {
            IVectorStore store = registration.Factory(_services);
            string tierName = tier == VectorTier.Edge ? EdgeCollectionName(name) : name;
            tiers[tier] = await store.GetOrCreateCollectionAsync(tierName, model, cancellationToken).ConfigureAwait(false);
        }

        var collection = new TieredVectorCollection(name, model, tiers, _options, _time, _loggers.CreateLogger<TieredVectorCollection>());
        if (_usageStore is not null)
        {
            try
            {
                if (await _usageStore.LoadAsync(name, cancellationToken).ConfigureAwait(false) is VectorUsageState state)
                {
                    collection.ImportState(state);
                }
            }
            catch (GhostieSyncException e)
            {
                // A damaged or unusable usage file never stops the host: the collection relearns placement from use.
                collection.UsageRestoreProblem = e.Message;
                _logger.UsageNotRestored(name, e.Message);
            }

            _savedStamps[name] = collection.ChangeStamp;
        }

        return collection;
    }
}
