using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Vectors.Tiers.Tests;

public sealed class LoggingTests
{
    private sealed class CapturingLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
            {
                Lines.Add($"{eventId.Id} {formatter(state, exception)}");
            }
        }
    }

    private sealed class LeakyTier(IVectorCollection inner) : IVectorCollection
    {
        public string Name => inner.Name;

        public EmbeddingModelInfo Model => inner.Model;

        public Task UpsertAsync(IEnumerable<VectorRecord> records, CancellationToken cancellationToken = default) => inner.UpsertAsync(records, cancellationToken);

        public Task<VectorRecord?> GetAsync(string key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

        public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

        public Task<long> CountAsync(CancellationToken cancellationToken = default) => inner.CountAsync(cancellationToken);

        public IAsyncEnumerable<VectorSearchResult> SearchAsync(ReadOnlyMemory<float> query, VectorSearchOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("password=hunter2 memory: my bank PIN is 1234");
    }

    [Fact]
    public async Task TierFailure_LogsAndReportsNoExceptionText()
    {
        var logger = new CapturingLogger();
        var context = new MemoryVectorCollection("c", TierRig.Model);
        var historical = new MemoryVectorCollection("h", TierRig.Model);
        var collection = new TieredVectorCollection("notes", TierRig.Model,
            new Dictionary<VectorTier, IVectorCollection> { [VectorTier.Context] = new LeakyTier(context), [VectorTier.Historical] = historical },
            logger: logger);
        await collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);

        TieredSearchResult result = await collection.SearchWithReportAsync(new float[] { 1, 0, 0, 0 });

        Assert.Equal([VectorTier.Context], result.Failed);
        Assert.Contains(logger.Lines, l => l.StartsWith("6101 ", StringComparison.Ordinal) && l.Contains("InvalidOperationException", StringComparison.Ordinal));
        string everything = string.Join("\n", logger.Lines) + result.Tiers.Single(t => t.Tier == VectorTier.Context).Error;
        Assert.DoesNotContain("hunter2", everything, StringComparison.Ordinal);
        Assert.DoesNotContain("PIN", everything, StringComparison.Ordinal);
    }
}
