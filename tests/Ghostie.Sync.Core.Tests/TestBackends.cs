using System.Runtime.CompilerServices;

namespace Ghostie.Sync.Tests;

/// <summary>Wraps a backend: counts every request by verb, and can fail the k-th request (a crash or a network error).</summary>
internal sealed class InstrumentedBackend(IStorageBackend inner) : IStorageBackend
{
    private int _requests;

    public IStorageBackend Inner => inner;
    public int Gets { get; private set; }
    public int Puts { get; private set; }
    public int Lists { get; private set; }
    public int Deletes { get; private set; }
    public int Requests => _requests;

    /// <summary>When set, the request with this 1-based number (counted from <see cref="Reset"/>) throws.</summary>
    public int? FailAt { get; set; }

    /// <summary>When set, called with the name of every object before it is read (a test may throw from it).</summary>
    public Action<string>? BeforeGet { get; set; }

    public string DisplayName => "instrumented " + inner.DisplayName;

    public void Reset()
    {
        _requests = 0;
        Gets = Puts = Lists = Deletes = 0;
    }

    public async Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        Count();
        Puts++;
        await inner.PutAsync(name, content, cancellationToken);
    }

    public Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        BeforeGet?.Invoke(name);
        Count();
        Gets++;
        return inner.GetAsync(name, cancellationToken);
    }

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Count();
        Lists++;
        await foreach (string name in inner.ListAsync(prefix, cancellationToken))
        {
            yield return name;
        }
    }

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        Count();
        Deletes++;
        return inner.DeleteAsync(name, cancellationToken);
    }

    private void Count()
    {
        int n = Interlocked.Increment(ref _requests);
        if (n == FailAt)
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"injected failure of request {n}", isTransient: true);
        }
    }
}
