using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Handoff.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Handoff;

/// <summary>
/// Creates, lists, fetches, resumes and deletes handoff packages in a repository. A package is JSON, Brotli-compressed,
/// sealed with the repository's keys (kind <see cref="ObjectKind.Handoff"/>, the name bound into the authenticated data)
/// and stored under an opaque name that says only "a package for some device" (docs/format.md, "Handoff packages").
/// </summary>
/// <remarks>Thread-safe. Create one per device from a <see cref="MemorySyncManager"/> with <see cref="For"/>, or through
/// <c>AddHandoff()</c> and <see cref="GhostieHandoffClient"/>.</remarks>
public sealed partial class HandoffService : IDisposable
{
    /// <summary>The storage prefix of handoff packages.</summary>
    public const string Prefix = "x/";

    /// <summary>The layout version of a package object's plaintext (docs/format.md).</summary>
    internal const byte LayoutVersion = 1;

    private const string RecipientPurpose = "handoff-recipient";
    private static readonly byte[] AnyRecipientInput = [0, (byte)'a', (byte)'n', (byte)'y'];

    private readonly IStorageBackend _backend;
    private readonly RepositoryKeys _keys;
    private readonly string _deviceId;
    private readonly string _deviceName;
    private readonly HandoffOptions _options;
    private readonly IContextCompressor _compressor;
    private readonly SecretScrubber _scrubber = SecretScrubber.Default;
    private readonly HandoffSerializer _serializer;
    private readonly ILogger _logger;
    private readonly IDisposable? _owned;

    /// <summary>Creates the service for one device.</summary>
    /// <param name="backend">The repository's storage.</param>
    /// <param name="keys">The repository's unlocked keys (not disposed by this service).</param>
    /// <param name="deviceId">This device's id (packages addressed to it are listed as pending).</param>
    /// <param name="options">Options; defaults when null. Validated here.</param>
    /// <param name="compressor">The context compressor; <see cref="ExtractiveCompressor"/> when null.</param>
    /// <param name="logger">Where events go; never receives secrets or conversation content.</param>
    /// <param name="deviceName">This device's display name; the id when null.</param>
    /// <param name="owned">Something disposed with the service (the manager that owns the keys), if any.</param>
    public HandoffService(IStorageBackend backend, RepositoryKeys keys, string deviceId, HandoffOptions? options = null,
        IContextCompressor? compressor = null, ILogger<HandoffService>? logger = null, string? deviceName = null, IDisposable? owned = null)
    {
        _backend = backend ?? throw new ArgumentNullException(nameof(backend));
        _keys = keys ?? throw new ArgumentNullException(nameof(keys));
        if (string.IsNullOrWhiteSpace(deviceId) || deviceId.Length > 128 || deviceId.Any(char.IsControl))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "The device id must be 1 to 128 printable characters.");
        }

        _deviceId = deviceId;
        _deviceName = deviceName ?? deviceId;
        _options = options ?? new HandoffOptions();
        _options.Validate();
        _compressor = compressor ?? ExtractiveCompressor.Instance;
        _serializer = new HandoffSerializer(_options.Migrations);
        _logger = logger ?? NullLogger<HandoffService>.Instance;
        _owned = owned;
    }

    /// <summary>Creates the service over a sync manager's repository and device identity.</summary>
    /// <param name="manager">An open manager; it must outlive the service unless <paramref name="ownsManager"/>.</param>
    /// <param name="backend">The same storage the manager syncs with.</param>
    /// <param name="options">Options; defaults when null.</param>
    /// <param name="compressor">The context compressor; extractive when null.</param>
    /// <param name="logger">Where events go.</param>
    /// <param name="ownsManager">Whether disposing the service disposes the manager.</param>
    public static HandoffService For(MemorySyncManager manager, IStorageBackend backend, HandoffOptions? options = null, IContextCompressor? compressor = null,
        ILogger<HandoffService>? logger = null, bool ownsManager = false)
    {
        ArgumentNullException.ThrowIfNull(manager);
        return new HandoffService(backend, manager.Keys, manager.DeviceId, options, compressor, logger, manager.DeviceName, ownsManager ? manager : null);
    }

    /// <summary>This device's id.</summary>
    public string DeviceId => _deviceId;

    /// <summary>The options in use.</summary>
    public HandoffOptions Options => _options;

    /// <summary>Builds a package from <paramref name="request"/> and stores it (see <see cref="BuildAsync"/> and <see cref="StoreAsync"/>).</summary>
    /// <param name="request">What to hand off.</param>
    /// <param name="cancellationToken">Cancels the work; a cancelled store leaves no object.</param>
    public async Task<HandoffCreateResult> CreateAsync(HandoffRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await HandoffTelemetry.RunAsync("create", async () =>
        {
            HandoffPackage package = await BuildAsync(request, cancellationToken).ConfigureAwait(false);
            request.Progress?.Report(HandoffStage.Storing);
            HandoffCreateResult result = await StoreAsync(package, request.Transcript.RawBytes, cancellationToken).ConfigureAwait(false);
            request.Progress?.Report(HandoffStage.Stored);
            return result;
        }, static (activity, result) =>
        {
            activity.SetTag("ghostie.handoff.stored_bytes", result.StoredBytes);
            activity.SetTag("ghostie.handoff.json_bytes", result.JsonBytes);
        }).ConfigureAwait(false);
    }

    /// <summary>Stores a built package: JSON, Brotli, sealed, under an opaque name addressed to its target device (or any).</summary>
    /// <param name="package">The package.</param>
    /// <param name="sourceBytes">The size of what it was built from, for the ratio; the JSON size when 0.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The package is too large for <see cref="HandoffOptions.MaxPackageBytes"/>, or the backend fails.</exception>
    public async Task<HandoffCreateResult> StoreAsync(HandoffPackage package, long sourceBytes = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (!IsPackageId(package.PackageId))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"'{package.PackageId}' is not a package id: use 24 lowercase hex digits (HandoffService.NewPackageId()).");
        }

        string name = ObjectNameFor(package.TargetDeviceId, package.PackageId);
        byte[] json = _serializer.Serialize(package);
        byte[] plaintext = Pack(package, json);
        byte[] sealedObject = _keys.Cipher.Seal(plaintext, ObjectKind.Handoff, name);
        if (sealedObject.Length > _options.MaxPackageBytes)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Handoff package {package.PackageId} is {sealedObject.Length:N0} bytes, more than HandoffOptions.MaxPackageBytes ({_options.MaxPackageBytes:N0}). Send fewer embeddings or agents.");
        }

        using (var content = new MemoryStream(sealedObject, writable: false))
        {
            if (_backend is IConditionalStorageBackend conditional)
            {
                if (!await conditional.TryCreateAsync(name, content, cancellationToken).ConfigureAwait(false))
                {
                    throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"Handoff package {package.PackageId} already exists in the repository; build a new package.");
                }
            }
            else
            {
                await _backend.PutAsync(name, content, cancellationToken).ConfigureAwait(false);
            }
        }

        Log.Stored(_logger, package.PackageId, sealedObject.Length, package.Scrubbing.SecretsRemoved);
        long source = sourceBytes > 0 ? sourceBytes : json.Length;
        return new HandoffCreateResult
        {
            PackageId = package.PackageId,
            ObjectName = name,
            TargetDeviceId = package.TargetDeviceId,
            StoredBytes = sealedObject.Length,
            JsonBytes = json.Length,
            SourceBytes = source,
            CompressionRatio = Math.Round((double)source / sealedObject.Length, 2),
            EstimatedLoadTime = EstimateLoadTime(sealedObject.Length, json.Length),
            Scrubbing = package.Scrubbing,
            ExpiresAt = package.ExpiresAt,
            Package = package,
        };
    }

    /// <summary>Lists the packages waiting for this device (addressed to it, or to any device by another device), oldest
    /// first. Expired packages found are deleted; unreadable objects are reported, not dropped.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<HandoffListing> ListPendingAsync(CancellationToken cancellationToken = default)
    {
        var pending = new List<PendingHandoff>();
        var problems = new List<SyncProblem>();
        int expired = 0;
        DateTimeOffset now = _options.TimeProvider.GetUtcNow();
        foreach (string prefix in new[] { Prefix + RecipientTag(_deviceId) + "/", Prefix + RecipientTag(null) + "/" })
        {
            await foreach (string name in _backend.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            {
                (PackageManifest? manifest, long size, GhostieSyncException? problem) = await TryReadManifestAsync(name, cancellationToken).ConfigureAwait(false);
                if (manifest is null)
                {
                    if (problem is not null)
                    {
                        problems.Add(new SyncProblem(problem.Code, name, problem.Message));
                    }

                    continue;
                }

                if (manifest.ExpiresAt is { } expiry && expiry <= now)
                {
                    await DeleteObjectAsync(name, "expired", cancellationToken).ConfigureAwait(false);
                    expired++;
                    continue;
                }

                if (manifest.TargetDeviceId is null && manifest.SourceDeviceId == _deviceId)
                {
                    continue; // offered to any device by this one: not for itself
                }

                pending.Add(ToPending(manifest, name, size));
            }
        }

        pending.Sort((a, b) => a.CreatedAt != b.CreatedAt ? a.CreatedAt.CompareTo(b.CreatedAt) : string.CompareOrdinal(a.PackageId, b.PackageId));
        return new HandoffListing(pending, problems, expired);
    }

    /// <summary>Fetches, verifies and decrypts a package addressed to this device (or to any).</summary>
    /// <param name="packageId">The package id.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">No such package for this device (<see cref="GhostieErrorCode.NotFound"/>).</exception>
    /// <exception cref="IntegrityException">The stored package was modified, truncated, renamed or replaced (names the object).</exception>
    /// <exception cref="UnsupportedFormatException">The package was written by a newer version: upgrade.</exception>
    public async Task<HandoffPackage> FetchAsync(string packageId, CancellationToken cancellationToken = default)
    {
        packageId = NormalizePackageId(packageId);
        string name = await FindForThisDeviceAsync(packageId, cancellationToken).ConfigureAwait(false);
        return await ReadPackageAsync(name, packageId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Fetches a package, rebuilds the conversation within <paramref name="profile"/>, and (unless kept) deletes the
    /// package from the repository: it has been consumed.
    /// </summary>
    /// <param name="packageId">The package id.</param>
    /// <param name="profile">The receiving device's budgets.</param>
    /// <param name="options">Path rewriting and token counting; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">No such package for this device, or it expired (<see cref="GhostieErrorCode.NotFound"/>); another device is resuming it right now (<see cref="GhostieErrorCode.Busy"/>, on backends with conditional writes); or see <see cref="FetchAsync"/>.</exception>
    public async Task<RebuiltConversation> ResumeAsync(string packageId, DeviceProfile profile, HandoffResumeOptions? options = null, CancellationToken cancellationToken = default)
    {
        HandoffResumption resumption = await BeginResumeAsync(packageId, profile, options, cancellationToken).ConfigureAwait(false);
        await using (resumption.ConfigureAwait(false))
        {
            await resumption.CompleteAsync(cancellationToken).ConfigureAwait(false);
            return resumption.Conversation;
        }
    }

    /// <summary>Deletes a package, whoever it is addressed to (a sender cancelling a handoff).</summary>
    /// <param name="packageId">The package id.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>Whether a package was deleted.</returns>
    public async Task<bool> DeleteAsync(string packageId, CancellationToken cancellationToken = default)
    {
        packageId = NormalizePackageId(packageId);
        string? name = await FindAnywhereAsync(packageId, cancellationToken).ConfigureAwait(false);
        bool deleted = name is not null && await DeleteObjectAsync(name, "deleted", cancellationToken).ConfigureAwait(false);
        await DeleteObjectAsync(ClaimPrefix + packageId, "claim of a deleted package", cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    /// <summary>Deletes every expired package of the repository, whoever it is addressed to (reading only their manifests),
    /// and the resume claims of packages that are gone.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>How many were deleted.</returns>
    public async Task<int> PruneExpiredAsync(CancellationToken cancellationToken = default)
    {
        DateTimeOffset now = _options.TimeProvider.GetUtcNow();
        var expired = new List<string>();
        await foreach (string name in _backend.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            (PackageManifest? manifest, _, _) = await TryReadManifestAsync(name, cancellationToken).ConfigureAwait(false);
            if (manifest?.ExpiresAt is { } expiry && expiry <= now)
            {
                expired.Add(name);
            }
        }

        foreach (string name in expired)
        {
            await DeleteObjectAsync(name, "expired", cancellationToken).ConfigureAwait(false);
        }

        // Claims left by a device that crashed after deleting a package but before deleting its claim.
        var live = new HashSet<string>(StringComparer.Ordinal);
        await foreach (string name in _backend.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            live.Add(name[(name.LastIndexOf('/') + 1)..]);
        }

        await foreach (string claim in _backend.ListAsync(ClaimPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (!live.Contains(claim[ClaimPrefix.Length..]))
            {
                await DeleteObjectAsync(claim, "orphaned claim", cancellationToken).ConfigureAwait(false);
            }
        }

        return expired.Count;
    }

    /// <summary>Disposes what the service owns (the manager, when created with <c>ownsManager</c>).</summary>
    public void Dispose() => _owned?.Dispose();

    /// <summary>A new random package id: 24 lowercase hex digits.</summary>
    public static string NewPackageId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>The storage name of a package: <c>x/&lt;recipient tag&gt;/&lt;package id&gt;</c>; the tag is a keyed hash of the device id (or of "any").</summary>
    /// <param name="targetDeviceId">The recipient; null for any device.</param>
    /// <param name="packageId">The package id.</param>
    public string ObjectNameFor(string? targetDeviceId, string packageId) => Prefix + RecipientTag(targetDeviceId) + "/" + packageId;

    private string RecipientTag(string? deviceId) => deviceId is null
        ? _keys.DeriveObjectName("", RecipientPurpose, AnyRecipientInput)
        : _keys.DeriveObjectName("", RecipientPurpose, Encoding.UTF8.GetBytes(deviceId));

    private static void CheckPackageId(string packageId)
    {
        if (!IsPackageId(packageId))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"'{packageId}' is not a handoff package id (24 lowercase hex digits, as 'list' shows them).");
        }
    }

    internal static bool IsPackageId(string? id) => id is { Length: 24 } && id.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    private TimeSpan EstimateLoadTime(long storedBytes, long jsonBytes) =>
        TimeSpan.FromMilliseconds(Math.Round(1000 * ((storedBytes / _options.NetworkBytesPerSecond) + (jsonBytes / _options.DecodeBytesPerSecond)), 1));

    private PendingHandoff ToPending(PackageManifest manifest, string name, long size) => new()
    {
        PackageId = manifest.PackageId,
        ObjectName = name,
        ConversationId = manifest.ConversationId,
        Title = manifest.Title,
        SourceDeviceId = manifest.SourceDeviceId,
        SourceDeviceName = manifest.SourceDeviceName,
        TargetDeviceId = manifest.TargetDeviceId,
        CreatedAt = manifest.CreatedAt,
        ExpiresAt = manifest.ExpiresAt,
        StoredBytes = size,
        MessageCount = manifest.MessageCount,
        TokenCount = manifest.TokenCount,
        Agents = manifest.Agents,
        Embeddings = manifest.Embeddings,
        SecretsRemoved = manifest.SecretsRemoved,
        EstimatedLoadTime = EstimateLoadTime(size, manifest.JsonBytes),
    };

    /// <summary>The plaintext of a package object: layout version, manifest length, manifest JSON, Brotli of the package JSON.</summary>
    private byte[] Pack(HandoffPackage package, byte[] json)
    {
        var manifest = new PackageManifest
        {
            PackageId = package.PackageId,
            SchemaVersion = HandoffSerializer.SchemaVersionFor(package),
            ConversationId = package.Conversation.Id,
            Title = ExtractiveCompressor.Truncate(package.Conversation.Title, 200),
            SourceDeviceId = package.Source.DeviceId,
            SourceDeviceName = package.Source.DeviceName,
            TargetDeviceId = package.TargetDeviceId,
            CreatedAt = package.CreatedAt,
            ExpiresAt = package.ExpiresAt,
            MessageCount = package.Conversation.MessageCount,
            TokenCount = package.Conversation.TokenCount,
            Agents = package.Agents.Count,
            Embeddings = package.Embeddings?.Entries.Count ?? 0,
            SecretsRemoved = package.Scrubbing.SecretsRemoved,
            JsonBytes = json.Length,
        };
        byte[] head = JsonSerializer.SerializeToUtf8Bytes(manifest, HandoffJson.Stored.PackageManifest);
        byte[] compressed = new byte[BrotliEncoder.GetMaxCompressedLength(json.Length)];
        int quality = json.Length > _options.LargePackageJsonBytes ? _options.LargePackageBrotliQuality : _options.BrotliQuality;
        if (!BrotliEncoder.TryCompress(json, compressed, out int compressedLength, quality, window: 22))
        {
            throw new InvalidOperationException("Brotli compression failed with a buffer of its own maximum size.");
        }

        byte[] plaintext = new byte[5 + head.Length + compressedLength];
        plaintext[0] = LayoutVersion;
        BinaryPrimitives.WriteUInt32BigEndian(plaintext.AsSpan(1), (uint)head.Length);
        head.CopyTo(plaintext, 5);
        compressed.AsSpan(0, compressedLength).CopyTo(plaintext.AsSpan(5 + head.Length));
        return plaintext;
    }

    private async Task<HandoffPackage> ReadPackageAsync(string name, string packageId, CancellationToken cancellationToken)
    {
        byte[] sealedObject = await ReadObjectAsync(name, cancellationToken).ConfigureAwait(false);
        byte[] plaintext = _keys.Cipher.Open(sealedObject, ObjectKind.Handoff, name);
        (PackageManifest manifest, int bodyStart) = ParseManifest(plaintext, name);
        if (manifest.JsonBytes is < 2 || manifest.JsonBytes > _options.MaxPackageBytes * 64)
        {
            throw new IntegrityException(name, $"its manifest declares an impossible size ({manifest.JsonBytes} bytes)");
        }

        byte[] json = new byte[manifest.JsonBytes];
        if (!BrotliDecoder.TryDecompress(plaintext.AsSpan(bodyStart), json, out int written) || written != json.Length)
        {
            throw new IntegrityException(name, "its package data does not decompress to the size its manifest declares");
        }

        HandoffPackage package;
        try
        {
            package = _serializer.Deserialize(json, $"'{name}'");
        }
        catch (GhostieSyncException ex) when (ex.Code == GhostieErrorCode.InvalidArgument)
        {
            throw new IntegrityException(name, "it is authentic but not a valid handoff package (written by a faulty client?)", ex);
        }

        if (package.PackageId != packageId || manifest.PackageId != packageId)
        {
            throw new IntegrityException(name, "the package inside is not the one its name refers to");
        }

        if (package.ExpiresAt is { } expiry && expiry <= _options.TimeProvider.GetUtcNow())
        {
            // Expired packages are no longer offered, whether or not a listing has pruned this one yet.
            await DeleteObjectAsync(name, "expired", cancellationToken).ConfigureAwait(false);
            throw new GhostieSyncException(GhostieErrorCode.NotFound,
                $"Handoff package {packageId} expired at {expiry.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z and has been deleted; create a new one on the sending device.");
        }

        return package;
    }

    private static (PackageManifest Manifest, int BodyStart) ParseManifest(ReadOnlySpan<byte> plaintext, string name)
    {
        if (plaintext.Length < 5)
        {
            throw new IntegrityException(name, "it is too short to be a handoff package");
        }

        if (plaintext[0] != LayoutVersion)
        {
            throw new UnsupportedFormatException($"Handoff object '{name}'", plaintext[0], LayoutVersion);
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(plaintext[1..]);
        if (length > plaintext.Length - 5)
        {
            throw new IntegrityException(name, "its manifest length exceeds the object");
        }

        try
        {
            PackageManifest manifest = JsonSerializer.Deserialize(plaintext.Slice(5, (int)length), HandoffJson.Stored.PackageManifest)
                ?? throw new JsonException("null");
            if (manifest.Format > 1)
            {
                throw new UnsupportedFormatException($"Handoff object '{name}'", manifest.Format, 1);
            }

            return (manifest, 5 + (int)length);
        }
        catch (JsonException ex)
        {
            throw new IntegrityException(name, "its manifest is not valid", ex);
        }
    }

    /// <summary>Reads a package's manifest from its first chunk only: listing never downloads or decompresses whole packages it does not need.</summary>
    private async Task<(PackageManifest? Manifest, long Size, GhostieSyncException? Problem)> TryReadManifestAsync(string name, CancellationToken cancellationToken)
    {
        if (!IsPackageName(name))
        {
            return (null, 0, null); // not ours: ignored, as readers of the format ignore foreign names
        }

        try
        {
            Stream? stream = await _backend.GetAsync(name, cancellationToken).ConfigureAwait(false);
            if (stream is null)
            {
                return (null, 0, null); // deleted meanwhile (consumed by another device)
            }

            await using (stream.ConfigureAwait(false))
            {
                long size = stream.CanSeek ? stream.Length : -1;
                if (size > _options.MaxPackageBytes)
                {
                    throw new IntegrityException(name, $"it is {size:N0} bytes, more than HandoffOptions.MaxPackageBytes");
                }

                using var enough = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var capture = new PrefixCapture(enough);
                try
                {
                    await _keys.Cipher.OpenAsync(stream, capture, ObjectKind.Handoff, name, enough.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (capture.Complete && !cancellationToken.IsCancellationRequested)
                {
                    // the manifest is in: the rest of the object is not needed
                }

                (PackageManifest manifest, _) = ParseManifest(capture.Bytes, name);
                return (manifest, size, null);
            }
        }
        catch (GhostieSyncException ex) when (ex is IntegrityException or UnsupportedFormatException || ex.Code == GhostieErrorCode.NotFound)
        {
            Log.Skipped(_logger, name, ex.Message);
            return (null, 0, ex);
        }
    }

    private static bool IsPackageName(string name)
    {
        string[] parts = name.Split('/');
        return parts.Length == 3 && parts[0] == "x" && parts[1].Length == 32 && IsPackageId(parts[2]);
    }

    private async Task<string> FindForThisDeviceAsync(string packageId, CancellationToken cancellationToken)
    {
        CheckPackageId(packageId);
        foreach (string? recipient in new[] { _deviceId, null })
        {
            string name = ObjectNameFor(recipient, packageId);
            await foreach (string found in _backend.ListAsync(name, cancellationToken).ConfigureAwait(false))
            {
                if (found == name)
                {
                    return name;
                }
            }
        }

        string? elsewhere = await FindAnywhereAsync(packageId, cancellationToken).ConfigureAwait(false);
        throw new GhostieSyncException(GhostieErrorCode.NotFound, elsewhere is null
            ? $"There is no handoff package {packageId} in the repository: it was resumed already, expired, or deleted. Run 'list' to see the pending ones."
            : $"Handoff package {packageId} is addressed to another device, not to '{_deviceId}'. Resume it on that device, or create a new package for this one.");
    }

    private async Task<string?> FindAnywhereAsync(string packageId, CancellationToken cancellationToken)
    {
        CheckPackageId(packageId);
        await foreach (string name in _backend.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            if (name.EndsWith("/" + packageId, StringComparison.Ordinal) && IsPackageName(name))
            {
                return name;
            }
        }

        return null;
    }

    private async Task<byte[]> ReadObjectAsync(string name, CancellationToken cancellationToken)
    {
        Stream stream = await _backend.GetAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new GhostieSyncException(GhostieErrorCode.NotFound, $"Handoff object '{name}' vanished while it was being read: another device resumed or deleted it.");
        await using (stream.ConfigureAwait(false))
        {
            if (stream.CanSeek && stream.Length > _options.MaxPackageBytes)
            {
                throw new IntegrityException(name, $"it is {stream.Length:N0} bytes, more than HandoffOptions.MaxPackageBytes");
            }

            using var buffer = new MemoryStream(stream.CanSeek ? (int)stream.Length : 64 * 1024);
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (buffer.Length > _options.MaxPackageBytes)
            {
                throw new IntegrityException(name, "it is larger than HandoffOptions.MaxPackageBytes");
            }

            return buffer.GetBuffer().Length == buffer.Length ? buffer.GetBuffer() : buffer.ToArray();
        }
    }

    private async Task<bool> DeleteObjectAsync(string name, string reason, CancellationToken cancellationToken)
    {
        bool deleted = await _backend.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
        if (deleted)
        {
            Log.Deleted(_logger, name, reason);
        }

        return deleted;
    }

    /// <summary>A write-only stream that keeps the first bytes of the plaintext and cancels the decryption once the manifest is in.</summary>
    private sealed class PrefixCapture(CancellationTokenSource enough) : Stream
    {
        private readonly MemoryStream _bytes = new();
        private long _needed = -1;

        public bool Complete { get; private set; }

        public ReadOnlySpan<byte> Bytes => _bytes.GetBuffer().AsSpan(0, (int)_bytes.Length);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _bytes.Length;

        public override long Position { get => _bytes.Length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Complete)
            {
                return;
            }

            _bytes.Write(buffer);
            if (_needed < 0 && _bytes.Length >= 5)
            {
                _needed = 5 + BinaryPrimitives.ReadUInt32BigEndian(_bytes.GetBuffer().AsSpan(1, 4));
            }

            if (_needed >= 0 && _bytes.Length >= _needed)
            {
                Complete = true;
                enough.Cancel();
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _bytes.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
