using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Ghostie.Sync;

/// <summary>
/// A thread-safe <see cref="IStorageBackend"/> that keeps objects in process memory. For tests, samples and
/// hosts that want an ephemeral repository; nothing survives the process.
/// </summary>
public sealed class InMemoryStorageBackend : IConditionalStorageBackend
{
    private readonly ConcurrentDictionary<string, Stored> _objects = new(StringComparer.Ordinal);
    private long _versions;

    /// <inheritdoc />
    public string DisplayName => "in-memory";

    /// <summary>The number of objects currently stored.</summary>
    public int Count => _objects.Count;

    /// <inheritdoc />
    public async Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        _objects[name] = NewStored(await ReadAllAsync(content, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        Stream? result = _objects.TryGetValue(name, out Stored? stored) ? new MemoryStream(stored.Bytes, writable: false) : null;
        return Task.FromResult(result);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string[] names = _objects.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        foreach (string name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return name;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_objects.TryRemove(name, out _));
    }

    /// <inheritdoc />
    public async Task<bool> TryCreateAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        byte[] bytes = await ReadAllAsync(content, cancellationToken).ConfigureAwait(false);
        return _objects.TryAdd(name, NewStored(bytes));
    }

    /// <inheritdoc />
    public Task<string?> GetVersionAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        return Task.FromResult(_objects.TryGetValue(name, out Stored? stored) ? VersionOf(stored) : null);
    }

    /// <inheritdoc />
    public async Task<bool> TryReplaceAsync(string name, Stream content, string expectedVersion, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        byte[] bytes = await ReadAllAsync(content, cancellationToken).ConfigureAwait(false);
        return _objects.TryGetValue(name, out Stored? current) && VersionOf(current) == expectedVersion && _objects.TryUpdate(name, NewStored(bytes), current);
    }

    private Stored NewStored(byte[] bytes) => new(bytes, Interlocked.Increment(ref _versions));

    private static string VersionOf(Stored stored) => stored.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Every write gets a new version number, so a changed object always has a new version.</summary>
    private sealed record Stored(byte[] Bytes, long Version);

    private static async Task<byte[]> ReadAllAsync(Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return buffer.ToArray();
    }

    /// <summary>Returns a copy of the raw bytes stored under <paramref name="name"/>, or null. For tests that inspect or tamper with stored bytes.</summary>
    /// <param name="name">The object name.</param>
    public byte[]? GetRaw(string name) => _objects.TryGetValue(name, out Stored? stored) ? (byte[])stored.Bytes.Clone() : null;

    /// <summary>Replaces the raw bytes under <paramref name="name"/> without validation. For tests that simulate a hostile or faulty provider.</summary>
    /// <param name="name">The object name.</param>
    /// <param name="bytes">The new bytes.</param>
    public void SetRaw(string name, byte[] bytes) => _objects[name] = NewStored((byte[])bytes.Clone());
}
