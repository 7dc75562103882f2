using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Ghostie.Sync;

/// <summary>
/// A thread-safe <see cref="IStorageBackend"/> that keeps objects in process memory. For tests, samples and
/// hosts that want an ephemeral repository; nothing survives the process.
/// </summary>
public sealed class InMemoryStorageBackend : IStorageBackend
{
    private readonly ConcurrentDictionary<string, byte[]> _objects = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public string DisplayName => "in-memory";

    /// <summary>The number of objects currently stored.</summary>
    public int Count => _objects.Count;

    /// <inheritdoc />
    public async Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        _objects[name] = buffer.ToArray();
    }

    /// <inheritdoc />
    public Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        Stream? result = _objects.TryGetValue(name, out byte[]? bytes) ? new MemoryStream(bytes, writable: false) : null;
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

    /// <summary>Returns a copy of the raw bytes stored under <paramref name="name"/>, or null. For tests that inspect or tamper with stored bytes.</summary>
    /// <param name="name">The object name.</param>
    public byte[]? GetRaw(string name) => _objects.TryGetValue(name, out byte[]? bytes) ? (byte[])bytes.Clone() : null;

    /// <summary>Replaces the raw bytes under <paramref name="name"/> without validation. For tests that simulate a hostile or faulty provider.</summary>
    /// <param name="name">The object name.</param>
    /// <param name="bytes">The new bytes.</param>
    public void SetRaw(string name, byte[] bytes) => _objects[name] = (byte[])bytes.Clone();
}
