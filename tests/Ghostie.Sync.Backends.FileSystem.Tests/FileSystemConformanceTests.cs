using Ghostie.Sync.Backends.FileSystem;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>The shared backend conformance suite, over a fresh folder per test.</summary>
public sealed class FileSystemConformanceTests : BackendConformanceTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-fsc-" + Guid.NewGuid().ToString("N")[..10]);
    private int _count;

    protected override bool ExpectConditionalWrites => true;

    protected override Task<IStorageBackend> CreateBackendAsync() =>
        Task.FromResult<IStorageBackend>(new FileSystemBackend(Path.Combine(_root, $"repo{Interlocked.Increment(ref _count)}")));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
