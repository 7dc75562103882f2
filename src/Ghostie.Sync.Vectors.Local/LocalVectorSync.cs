using System.Security.Cryptography;
using System.Text;
using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.Vectors.Local;

/// <summary>What a vector push did.</summary>
/// <param name="ObjectName">The object written.</param>
/// <param name="Records">Live records in it.</param>
/// <param name="Bytes">Its sealed size.</param>
public sealed record VectorPushResult(string ObjectName, long Records, long Bytes);

/// <summary>What a vector pull did.</summary>
/// <param name="Devices">Other devices' copies read.</param>
/// <param name="Upserted">Records added or replaced locally.</param>
/// <param name="Deleted">Records deleted locally.</param>
/// <param name="SkippedModels">Copies left unmerged because another device embeds with another model or dimension (for
/// example one upgraded before the others): the storage name of each copy and its model. Empty when every copy merged.</param>
public sealed record VectorPullResult(int Devices, int Upserted, int Deleted, IReadOnlyList<SkippedVectorCopy> SkippedModels)
{
    /// <summary>Copies that could not be read (failed authentication, truncated, of a newer format, or holding another
    /// collection): nothing of them was merged, and the other copies still were. Empty when every copy could be read.</summary>
    public IReadOnlyList<DamagedVectorCopy> Damaged { get; init; } = [];

    /// <summary>Whether every copy was read (none damaged). Copies of another model are not a failure: see <see cref="SkippedModels"/>.</summary>
    public bool Success => Damaged.Count == 0;

    /// <summary>A pull in which every copy merged.</summary>
    /// <param name="devices">Other devices' copies read.</param>
    /// <param name="upserted">Records added or replaced locally.</param>
    /// <param name="deleted">Records deleted locally.</param>
    public VectorPullResult(int devices, int upserted, int deleted)
        : this(devices, upserted, deleted, [])
    {
    }
}

/// <summary>Another device's copy of a collection that was not merged because it holds another embedding model.</summary>
/// <param name="ObjectName">The copy's storage name.</param>
/// <param name="Model">The model of the copy.</param>
public sealed record SkippedVectorCopy(string ObjectName, EmbeddingModelInfo Model);

/// <summary>Another device's copy of a collection that could not be read, so was not merged (as the memory sync
/// reports a device whose objects cannot be read, and goes on with the others).</summary>
/// <param name="ObjectName">The copy's storage name.</param>
/// <param name="Code">Why: <see cref="GhostieErrorCode.IntegrityFailure"/> (modified, truncated, moved or swapped) or
/// <see cref="GhostieErrorCode.UnsupportedFormat"/> (written by a newer version).</param>
/// <param name="Message">What is wrong and what to do, naming the object (never its contents).</param>
public sealed record DamagedVectorCopy(string ObjectName, GhostieErrorCode Code, string Message);

/// <summary>
/// Synchronizes local vector collections between the devices of a repository, as encrypted objects: each device
/// writes only its own copy of a collection (lock-free, as the memory sync), sealed with ChaCha20-Poly1305 (object
/// kind vector data) under the repository's current key epoch; pulling reads the other devices' copies and merges
/// them record by record (<see cref="LocalVectorCollection.MergeFrom"/>). Names are keyed hashes of the collection
/// name and device id, so the storage sees neither; embeddings never leave the device unencrypted. A device whose
/// collection is empty adopts a copy whole, graph included: it neither re-embeds nor rebuilds.
/// </summary>
public sealed class LocalVectorSync
{
    /// <summary>The object-name prefix of vector copies.</summary>
    public const string Prefix = "v/";

    private readonly IStorageBackend _backend;
    private readonly RepositoryKeys _keys;
    private readonly string _deviceId;

    /// <summary>Creates the synchronizer.</summary>
    /// <param name="backend">The repository's storage.</param>
    /// <param name="keys">The unlocked repository keys.</param>
    /// <param name="deviceId">This device's id (the repository device id).</param>
    public LocalVectorSync(IStorageBackend backend, RepositoryKeys keys, string deviceId)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        _backend = backend;
        _keys = keys;
        _deviceId = deviceId;
    }

    /// <summary>The folder of all devices' copies of collection <paramref name="collectionName"/>: "v/" + 16 base32
    /// characters of a keyed hash of the name + "/".</summary>
    /// <param name="collectionName">The collection name.</param>
    public string CollectionPrefix(string collectionName)
    {
        VectorCollectionName.EnsureValid(collectionName);
        string derived = _keys.DeriveObjectName("", "vector-collection", Encoding.UTF8.GetBytes(collectionName));
        return Prefix + derived[..16] + "/";
    }

    /// <summary>The object holding this device's copy of collection <paramref name="collectionName"/> (43 characters).</summary>
    /// <param name="collectionName">The collection name.</param>
    public string ObjectNameFor(string collectionName)
    {
        string prefix = CollectionPrefix(collectionName);
        string device = _keys.DeriveObjectName("", "vector-device", Encoding.UTF8.GetBytes(collectionName + "\0" + _deviceId));
        return prefix + device[..24];
    }

    /// <summary>Uploads this device's copy of <paramref name="collection"/>, replacing its previous one.</summary>
    /// <param name="collection">The collection.</param>
    /// <param name="cancellationToken">Cancels the work (the previous copy stays).</param>
    public async Task<VectorPushResult> PushAsync(LocalVectorCollection collection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        string name = ObjectNameFor(collection.Name);
        string plainPath = TempPath();
        string sealedPath = TempPath();
        try
        {
            await using (var plain = NewTemp(plainPath))
            {
                collection.WriteTo(plain, cancellationToken);
                plain.Position = 0;
                await using var sealedFile = NewTemp(sealedPath);
                await _keys.Cipher.SealAsync(plain, sealedFile, ObjectKind.VectorData, name, CipherSuite.ChaCha20Poly1305, cancellationToken).ConfigureAwait(false);
                await sealedFile.FlushAsync(cancellationToken).ConfigureAwait(false);
                long bytes = sealedFile.Length;
                sealedFile.Position = 0;
                await _backend.PutAsync(name, sealedFile, cancellationToken).ConfigureAwait(false);
                return new VectorPushResult(name, await collection.CountAsync(cancellationToken).ConfigureAwait(false), bytes);
            }
        }
        finally
        {
            File.Delete(plainPath);
            File.Delete(sealedPath);
        }
    }

    /// <summary>Reads every other device's copy of the collection and merges it into <paramref name="collection"/>.</summary>
    /// <param name="collection">The local collection.</param>
    /// <param name="options">Options for the copies while they are read (index kind, device id: the local ones by default).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <remarks>A copy made with another embedding model or dimension (a device that changed model before this one)
    /// cannot be merged: it is skipped, the other copies are still merged, and the result lists it in
    /// <see cref="VectorPullResult.SkippedModels"/>. A copy that fails authentication (modified, truncated, moved),
    /// is of a newer format or holds another collection is skipped and listed in <see cref="VectorPullResult.Damaged"/>
    /// (nothing of it is merged: a copy is authenticated and read whole first); the other copies still merge, as in
    /// the memory sync's pull. A storage failure or a cancellation ends the pull with its exception.</remarks>
    public async Task<VectorPullResult> PullAsync(LocalVectorCollection collection, LocalVectorStoreOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        options ??= new LocalVectorStoreOptions { IndexKind = LocalIndexKind.Auto };
        string own = ObjectNameFor(collection.Name);
        var names = new List<string>();
        await foreach (string name in _backend.ListAsync(CollectionPrefix(collection.Name), cancellationToken).ConfigureAwait(false))
        {
            if (!string.Equals(name, own, StringComparison.Ordinal))
            {
                names.Add(name);
            }
        }

        int devices = 0, upserted = 0, deleted = 0;
        var skipped = new List<SkippedVectorCopy>();
        var damaged = new List<DamagedVectorCopy>();
        foreach (string name in names)
        {
            Stream? source = await _backend.GetAsync(name, cancellationToken).ConfigureAwait(false);
            if (source is null)
            {
                continue; // deleted since the listing
            }

            string plainPath = TempPath();
            try
            {
                await using var plain = NewTemp(plainPath);
                await using (source.ConfigureAwait(false))
                {
                    await _keys.Cipher.OpenAsync(source, plain, ObjectKind.VectorData, name, cancellationToken).ConfigureAwait(false);
                }

                plain.Position = 0;
                using LocalVectorCollection copy = LocalVectorCollection.ReadFrom(plain, name, options, cancellationToken);
                if (!string.Equals(copy.Name, collection.Name, StringComparison.Ordinal))
                {
                    throw new GhostieSyncException(GhostieErrorCode.IntegrityFailure,
                        $"The vector object '{name}' holds another collection than '{collection.Name}'; it was not merged.");
                }

                if (!string.Equals(copy.Model.ModelName, collection.Model.ModelName, StringComparison.Ordinal) || copy.Model.Dimensions != collection.Model.Dimensions)
                {
                    skipped.Add(new SkippedVectorCopy(name, copy.Model));
                    continue;
                }

                (int u, int d) = collection.MergeFrom(copy, cancellationToken);
                upserted += u;
                deleted += d;
                devices++;
            }
            catch (Exception e) when (Unreadable(e, name) is DamagedVectorCopy bad)
            {
                // The copy is read and authenticated whole before anything of it is merged: skipping it merges nothing
                // of it, and the devices after it still sync.
                damaged.Add(bad);
            }
            finally
            {
                File.Delete(plainPath);
            }
        }

        return new VectorPullResult(devices, upserted, deleted, skipped) { Damaged = damaged };
    }

    // A copy that cannot be read is reported, not thrown; a storage outage or a cancellation still ends the pull.
    private static DamagedVectorCopy? Unreadable(Exception e, string name) => e switch
    {
        GhostieSyncException g when !g.IsTransient && g.Code is GhostieErrorCode.IntegrityFailure or GhostieErrorCode.UnsupportedFormat
            => new DamagedVectorCopy(name, g.Code, g.Message.Contains(name, StringComparison.Ordinal) ? g.Message : $"Vector copy '{name}': {g.Message}"),
        InvalidDataException or EndOfStreamException
            => new DamagedVectorCopy(name, GhostieErrorCode.IntegrityFailure,
                $"Vector copy '{name}' is authentic but not a readable vector collection ({e.GetType().Name}); it was not merged. Push again from the device that wrote it, or delete the object."),
        _ => null,
    };

    private static string TempPath() => Path.Combine(Path.GetTempPath(), "ghostie-vectors-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)) + ".tmp");

    // Plaintext vectors are written to a temporary file readable by the owner only, deleted on close.
    private static FileStream NewTemp(string path)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = 1 << 16,
            Options = FileOptions.DeleteOnClose,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new FileStream(path, options);
    }
}
