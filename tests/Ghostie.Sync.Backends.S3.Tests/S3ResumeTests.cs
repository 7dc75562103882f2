using Ghostie.Sync.Shared;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.S3.Tests;

/// <summary>A GET whose connection breaks midway is resumed from the offset with a ranged GET under the ETag
/// (If-Match), so a replaced object is never spliced. Against moto and s3rver (which does not honour conditional
/// writes, but must still never splice).</summary>
public abstract class S3ResumeTests<TFixture>(TFixture server) : IClassFixture<TFixture>
    where TFixture : S3ServerFixture
{
    private static byte[] Random(int size, int seed)
    {
        byte[] data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }

    private async Task<(S3Backend Backend, string Bucket)> BackendAsync(BreakingHandler breaking)
    {
        string bucket = await server.CreateBucketAsync();
        S3BackendOptions options = server.Options(bucket, S3ConditionalWrites.Disabled);
        options.HttpMessageHandler = breaking;
        options.Retry = new BackendRetryOptions { MaxAttempts = 3, TimeProvider = new RecordingTimeProvider(), JitterSeed = 1 };
        return (await S3Backend.CreateAsync(options), bucket);
    }

    [Fact]
    public async Task Download_BrokenMidway_ResumesFromTheOffset_UnderTheETag()
    {
        using var breaking = new BreakingHandler(breakAfter: 100_000, breaks: 2);
        (S3Backend backend, _) = await BackendAsync(breaking);
        using (backend)
        {
            byte[] data = Random(300_000, 8);
            await backend.PutAsync("d/1", new MemoryStream(data));
            long before = backend.RequestCount;

            await using (Stream? stream = await backend.GetAsync("d/1"))
            {
                var resumable = Assert.IsType<ResumableReadStream>(stream);
                var copy = new MemoryStream();
                await resumable.CopyToAsync(copy);
                Assert.Equal(data, copy.ToArray());
                Assert.Equal(1, resumable.Resumes);
            }

            Assert.Equal(["bytes=100000-299999"], breaking.Ranges);
            Assert.Equal(2, backend.RequestCount - before);
            Assert.Equal(data, await StorageReads.ReadAllAsync(backend, "d/1")); // the second break, on a fresh download
        }
    }

    [Fact]
    public async Task Download_BrokenWhileTheObjectIsReplaced_FailsClearly_NeverSplices()
    {
        S3Backend? other = null;
        using var breaking = new BreakingHandler(breakAfter: 50_000, breaks: 1, onBreak: () => other!.PutAsync("d/2", new MemoryStream(Random(200_000, 2))));
        (S3Backend backend, string bucket) = await BackendAsync(breaking);
        using (backend)
        using (other = await S3Backend.CreateAsync(server.Options(bucket, S3ConditionalWrites.Disabled)))
        {
            await backend.PutAsync("d/2", new MemoryStream(Random(200_000, 1)));

            var error = await Assert.ThrowsAsync<GhostieSyncException>(() => StorageReads.ReadAllAsync(backend, "d/2"));

            Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
            Assert.True(error.IsTransient);
            Assert.Contains("'d/2'", error.Message, StringComparison.Ordinal);
            Assert.Contains("replaced", error.Message, StringComparison.Ordinal);
            Assert.Single(breaking.Ranges);
        }
    }
}

public sealed class MotoResumeTests(MotoFixture moto) : S3ResumeTests<MotoFixture>(moto);

public sealed class S3rverResumeTests(S3rverFixture s3rver) : S3ResumeTests<S3rverFixture>(s3rver);
