using System.Globalization;
using System.Text.Json;

namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>A copy known to be stale: left in <paramref name="Tier"/> by a failed delete, an interrupted move or a
/// failed edge update. Never served; the next rebalance deletes it.</summary>
/// <param name="Key">The record key.</param>
/// <param name="Tier">The tier holding the stale copy.</param>
public sealed record VectorStaleCopy(string Key, VectorTier Tier);

/// <summary>What a tiered collection must keep over a restart: every tracked vector's usage and the stale marks.
/// Holds no vector and no memory content, only keys, tiers, times and scores.</summary>
/// <param name="Usages">Every tracked vector's usage.</param>
/// <param name="StaleCopies">The copies known to be stale.</param>
public sealed record VectorUsageState(IReadOnlyList<VectorUsage> Usages, IReadOnlyList<VectorStaleCopy> StaleCopies);

/// <summary>Keeps the usage state of tiered collections over restarts (see <see cref="TieredVectorCollection.ExportState"/>).
/// The default is <see cref="FileVectorUsageStore"/>; a host may keep it elsewhere (for example its own database).</summary>
public interface IVectorUsageStore
{
    /// <summary>The state saved for collection <paramref name="collectionName"/>, or null when none was saved.</summary>
    /// <param name="collectionName">The collection name.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The saved state cannot be read (damaged, or of a newer format).</exception>
    Task<VectorUsageState?> LoadAsync(string collectionName, CancellationToken cancellationToken = default);

    /// <summary>Saves the state of collection <paramref name="collectionName"/>, replacing the previous one whole (a
    /// reader never sees half of it).</summary>
    /// <param name="collectionName">The collection name.</param>
    /// <param name="state">The state.</param>
    /// <param name="cancellationToken">Cancels the work (the previous state stays).</param>
    Task SaveAsync(string collectionName, VectorUsageState state, CancellationToken cancellationToken = default);
}

/// <summary>A saved usage state that cannot be read. The file was set aside (renamed, not deleted) so that the next save
/// does not destroy it; the collection starts with an empty usage table.</summary>
public sealed class VectorUsageStoreException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">Why: <see cref="GhostieErrorCode.IntegrityFailure"/> or <see cref="GhostieErrorCode.UnsupportedFormat"/>.</param>
    /// <param name="path">The file that could not be read.</param>
    /// <param name="setAsideTo">Where it was moved, or null when it could not be.</param>
    /// <param name="reason">What is wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public VectorUsageStoreException(GhostieErrorCode code, string path, string? setAsideTo, string reason, Exception? innerException = null)
        : base(code, $"The vector usage file '{path}' cannot be read: {reason}. "
            + (setAsideTo is null ? "It was left in place; " : $"It was moved to '{setAsideTo}'; ")
            + "the collection starts with an empty usage table (placement is relearned from use, and the next rebalance corrects it). "
            + "Delete the file, or restore it from a backup.", isTransient: false, innerException)
    {
        FilePath = path;
        SetAsideTo = setAsideTo;
    }

    /// <summary>The file that could not be read.</summary>
    public string FilePath { get; }

    /// <summary>Where the file was moved, or null.</summary>
    public string? SetAsideTo { get; }
}

/// <summary>
/// Keeps each collection's usage state in a JSON file <c>{collection}.usage.json</c> under a directory (default
/// <c>$GHOSTIE_HOME/vector-usage</c>, else <c>~/.ghostie/vector-usage</c>). Writes are atomic (a temporary file
/// beside it, flushed to disk, then renamed over the old one), the file is readable by its owner only (Unix), and its
/// format is versioned (<c>"format": 1</c>; a newer one is refused, not misread). A damaged file is set aside and
/// reported (<see cref="VectorUsageStoreException"/>), never crashes the host. The file holds memory keys and usage
/// figures, never vectors nor content.
/// </summary>
public sealed class FileVectorUsageStore : IVectorUsageStore
{
    /// <summary>The format this version writes and reads.</summary>
    public const int FormatVersion = 1;

    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Creates the store.</summary>
    /// <param name="directory">The directory of the files (created when needed).</param>
    /// <param name="timeProvider">The clock for the saved-at stamp and set-aside names (default: the system clock).</param>
    public FileVectorUsageStore(string directory, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The default directory: <c>$GHOSTIE_HOME/vector-usage</c>, else <c>~/.ghostie/vector-usage</c>.</summary>
    public static string DefaultDirectory =>
        Path.Combine(Environment.GetEnvironmentVariable("GHOSTIE_HOME") is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ghostie"), "vector-usage");

    /// <summary>The directory of the files.</summary>
    public string Directory { get; }

    /// <summary>The file of collection <paramref name="collectionName"/>.</summary>
    /// <param name="collectionName">The collection name.</param>
    public string PathFor(string collectionName)
    {
        VectorCollectionName.EnsureValid(collectionName);
        return Path.Combine(Directory, collectionName + ".usage.json");
    }

    /// <inheritdoc />
    /// <exception cref="VectorUsageStoreException">The file is damaged (<see cref="GhostieErrorCode.IntegrityFailure"/>) or of
    /// a newer format (<see cref="GhostieErrorCode.UnsupportedFormat"/>); it was set aside.</exception>
    public async Task<VectorUsageState?> LoadAsync(string collectionName, CancellationToken cancellationToken = default)
    {
        string path = PathFor(collectionName);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }

            try
            {
                return Parse(bytes, collectionName);
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidDataException or KeyNotFoundException or InvalidOperationException or ArgumentException)
            {
                throw new VectorUsageStoreException(GhostieErrorCode.IntegrityFailure, path, SetAside(path, "corrupt"), $"it is not a valid usage file ({Describe(e)})", e);
            }
            catch (NewerFormatException e)
            {
                throw new VectorUsageStoreException(GhostieErrorCode.UnsupportedFormat, path, SetAside(path, "newer"),
                    $"it has format {e.Found}, and this version reads format {FormatVersion} (written by a newer version: upgrade to keep it)");
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task SaveAsync(string collectionName, VectorUsageState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        string path = PathFor(collectionName);
        byte[] content = Serialize(collectionName, state, _time.GetUtcNow());
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            string temp = Path.Combine(Directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..12] + ".tmp");
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                await using (var stream = new FileStream(temp, options))
                {
                    await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temp, path, overwrite: true);
            }
            finally
            {
                if (File.Exists(temp))
                {
                    File.Delete(temp);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    internal static byte[] Serialize(string collectionName, VectorUsageState state, DateTimeOffset savedAt)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("format", FormatVersion);
            json.WriteString("collection", collectionName);
            json.WriteString("savedAt", savedAt.ToUniversalTime());
            json.WriteStartArray("usages");
            foreach (VectorUsage u in state.Usages)
            {
                json.WriteStartObject();
                json.WriteString("key", u.Key);
                json.WriteString("tier", u.Tier.ToString());
                json.WriteString("createdAt", u.CreatedAt.ToUniversalTime());
                json.WriteString("lastUsedAt", u.LastUsedAt.ToUniversalTime());
                json.WriteNumber("useCount", u.UseCount);
                json.WriteNumber("decayedUses", u.DecayedUses);
                json.WriteNumber("interactionScore", u.InteractionScore);
                json.WriteNumber("relevance", u.Relevance);
                json.WriteBoolean("inEdgeCache", u.InEdgeCache);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("staleCopies");
            foreach (VectorStaleCopy stale in state.StaleCopies)
            {
                json.WriteStartObject();
                json.WriteString("key", stale.Key);
                json.WriteString("tier", stale.Tier.ToString());
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    internal static VectorUsageState Parse(byte[] bytes, string collectionName)
    {
        using JsonDocument document = JsonDocument.Parse(bytes);
        JsonElement root = document.RootElement;
        int format = root.GetProperty("format").GetInt32();
        if (format > FormatVersion)
        {
            throw new NewerFormatException(format);
        }

        if (format < 1)
        {
            throw new InvalidDataException($"format {format.ToString(CultureInfo.InvariantCulture)} does not exist");
        }

        string? name = root.GetProperty("collection").GetString();
        if (!string.Equals(name, collectionName, StringComparison.Ordinal))
        {
            throw new InvalidDataException("it belongs to another collection");
        }

        var usages = new List<VectorUsage>();
        foreach (JsonElement u in root.GetProperty("usages").EnumerateArray())
        {
            usages.Add(new VectorUsage(
                Key(u),
                Tier(u),
                u.GetProperty("createdAt").GetDateTimeOffset(),
                u.GetProperty("lastUsedAt").GetDateTimeOffset(),
                u.GetProperty("useCount").GetInt64(),
                Finite(u.GetProperty("decayedUses").GetDouble()),
                Finite(u.GetProperty("interactionScore").GetDouble()),
                Finite(u.GetProperty("relevance").GetDouble()),
                u.GetProperty("inEdgeCache").GetBoolean()));
        }

        var stale = new List<VectorStaleCopy>();
        foreach (JsonElement s in root.GetProperty("staleCopies").EnumerateArray())
        {
            stale.Add(new VectorStaleCopy(Key(s), Tier(s)));
        }

        return new VectorUsageState(usages, stale);
    }

    private static string Key(JsonElement e) => e.GetProperty("key").GetString() is { Length: > 0 } key ? key : throw new InvalidDataException("an entry has no key");

    private static VectorTier Tier(JsonElement e) =>
        Enum.TryParse(e.GetProperty("tier").GetString(), ignoreCase: false, out VectorTier tier) && Enum.IsDefined(tier)
            ? tier
            : throw new InvalidDataException("an entry names an unknown tier");

    private static double Finite(double value) => double.IsFinite(value) ? value : throw new InvalidDataException("a figure is not a number");

    private static string Describe(Exception e) => e is JsonException j && j.LineNumber is long line ? $"{e.GetType().Name} at line {line + 1}" : e.GetType().Name + (e is InvalidDataException ? ": " + e.Message : "");

    private string? SetAside(string path, string why)
    {
        string aside = $"{path}.{why}-{_time.GetUtcNow():yyyyMMddTHHmmssZ}";
        try
        {
            File.Move(path, aside, overwrite: true);
            return aside;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private sealed class NewerFormatException(int found) : Exception
    {
        public int Found { get; } = found;
    }
}
