using System.Text;
using System.Text.RegularExpressions;
using Ghostie.Sync.Handoff.Tests.Support;

namespace Ghostie.Sync.Handoff.Tests;

/// <summary>Packages in the encrypted repository: addressing, listing, tampering, consumption and expiry.</summary>
public sealed class RepositoryTests
{
    [Fact]
    public async Task Create_ReportsSizeRatioAndLoadTime_AndStoresOneOpaqueObject()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop");
        int before = repository.Names().Count();

        HandoffCreateResult result = await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "phone", Title = "Secret project Zebra" });

        string name = Assert.Single(repository.Names(HandoffService.Prefix));
        Assert.Equal(before + 1, repository.Names().Count());
        Assert.Equal(name, result.ObjectName);
        Assert.Matches(new Regex("^x/[a-z2-7]{32}/[0-9a-f]{24}$"), name);
        Assert.DoesNotContain("phone", name, StringComparison.Ordinal);
        Assert.DoesNotContain("laptop", name, StringComparison.Ordinal);
        byte[] stored = repository.Storage.GetRaw(name)!;
        Assert.Equal(stored.Length, result.StoredBytes);
        Assert.DoesNotContain("Zebra", Encoding.Latin1.GetString(stored), StringComparison.Ordinal);
        Assert.True(result.JsonBytes > result.StoredBytes / 2);
        Assert.Equal(Math.Round((double)result.JsonBytes / result.StoredBytes, 2), result.CompressionRatio);
        double expectedMs = 1000 * ((result.StoredBytes / 1_250_000.0) + (result.JsonBytes / 50_000_000.0));
        Assert.Equal(expectedMs, result.EstimatedLoadTime.TotalMilliseconds, 0.1);
        Assert.Equal(repository.Time.GetUtcNow().AddDays(7), result.ExpiresAt);
    }

    [Fact]
    public async Task AddressedToOneDevice_ListedThereOnly()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop"), phone = repository.Device("phone"), tablet = repository.Device("tablet");
        HandoffCreateResult created = await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "phone" });

        PendingHandoff pending = Assert.Single((await phone.ListPendingAsync()).Pending);
        Assert.Equal(created.PackageId, pending.PackageId);
        Assert.Equal("laptop", pending.SourceDeviceId);
        Assert.Equal("laptop name", pending.SourceDeviceName);
        Assert.Equal("phone", pending.TargetDeviceId);
        Assert.Equal(30, pending.MessageCount);
        Assert.Equal(created.StoredBytes, pending.StoredBytes);
        Assert.Equal(created.EstimatedLoadTime, pending.EstimatedLoadTime);
        Assert.Empty((await tablet.ListPendingAsync()).Pending);
        Assert.Empty((await laptop.ListPendingAsync()).Pending);

        var wrong = await Assert.ThrowsAsync<GhostieSyncException>(() => tablet.FetchAsync(created.PackageId));
        Assert.Equal(GhostieErrorCode.NotFound, wrong.Code);
        Assert.Contains("addressed to another device", wrong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddressedToAny_ListedByEveryOtherDevice_NotBySender()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop"), phone = repository.Device("phone"), tablet = repository.Device("tablet");
        await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript() });

        Assert.Single((await phone.ListPendingAsync()).Pending);
        Assert.Single((await tablet.ListPendingAsync()).Pending);
        Assert.Empty((await laptop.ListPendingAsync()).Pending);
    }

    [Fact]
    public async Task Resume_ConsumesThePackage_UnlessKept()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop"), phone = repository.Device("phone");
        HandoffCreateResult first = await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "phone" });
        HandoffCreateResult second = await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "phone" });

        RebuiltConversation kept = await phone.ResumeAsync(first.PackageId, DeviceProfile.Ios, new HandoffResumeOptions { KeepPackage = true });
        Assert.Equal(2, (await phone.ListPendingAsync()).Pending.Count);
        RebuiltConversation consumed = await phone.ResumeAsync(first.PackageId, DeviceProfile.Ios);
        Assert.Equal(kept.Context, consumed.Context);
        Assert.Equal(second.PackageId, Assert.Single((await phone.ListPendingAsync()).Pending).PackageId);
        Assert.Null(repository.Storage.GetRaw(first.ObjectName));

        var again = await Assert.ThrowsAsync<GhostieSyncException>(() => phone.ResumeAsync(first.PackageId, DeviceProfile.Ios));
        Assert.Equal(GhostieErrorCode.NotFound, again.Code);
        Assert.Contains("resumed already", again.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TamperedPackage_RejectedByName()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop"), phone = repository.Device("phone");
        HandoffCreateResult created = await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "phone" });
        byte[] stored = repository.Storage.GetRaw(created.ObjectName)!;
        stored[^20] ^= 0x01;
        repository.Storage.SetRaw(created.ObjectName, stored);

        var error = await Assert.ThrowsAsync<IntegrityException>(() => phone.ResumeAsync(created.PackageId, DeviceProfile.Android));
        Assert.Equal(created.ObjectName, error.ObjectName);
        Assert.Contains(created.ObjectName, error.Message, StringComparison.Ordinal);
        Assert.NotNull(repository.Storage.GetRaw(created.ObjectName)); // a rejected package is not consumed
    }

    [Fact]
    public async Task PackageMovedToAnotherRecipient_RejectedByName()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop"), tablet = repository.Device("tablet");
        HandoffCreateResult created = await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "phone" });

        // A hostile provider copies the phone's package to the tablet's name space: the name is bound into the envelope.
        string moved = tablet.ObjectNameFor("tablet", created.PackageId);
        repository.Storage.SetRaw(moved, repository.Storage.GetRaw(created.ObjectName)!);

        HandoffListing listing = await tablet.ListPendingAsync();
        Assert.Empty(listing.Pending);
        SyncProblem problem = Assert.Single(listing.Problems);
        Assert.Equal(moved, problem.Subject);
        Assert.Equal(GhostieErrorCode.IntegrityFailure, problem.Code);
        var error = await Assert.ThrowsAsync<IntegrityException>(() => tablet.FetchAsync(created.PackageId));
        Assert.Equal(moved, error.ObjectName);
    }

    [Fact]
    public async Task TruncatedPackage_RejectedByName()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop"), phone = repository.Device("phone");
        HandoffCreateResult created = await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "phone" });
        byte[] stored = repository.Storage.GetRaw(created.ObjectName)!;
        repository.Storage.SetRaw(created.ObjectName, stored[..^10]);

        var error = await Assert.ThrowsAsync<IntegrityException>(() => phone.FetchAsync(created.PackageId));
        Assert.Equal(created.ObjectName, error.ObjectName);
    }

    [Fact]
    public async Task ExpiredPackages_AreDeletedWhenListed_AndByPrune()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop"), phone = repository.Device("phone");
        await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "phone", TimeToLive = TimeSpan.FromHours(1) });
        await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "tablet", TimeToLive = TimeSpan.FromHours(1) });
        HandoffCreateResult lasting = await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "phone", TimeToLive = TimeSpan.FromDays(2) });
        repository.Time.Advance(TimeSpan.FromHours(2));

        HandoffListing listing = await phone.ListPendingAsync();
        Assert.Equal(1, listing.ExpiredDeleted);
        Assert.Equal(lasting.PackageId, Assert.Single(listing.Pending).PackageId);
        Assert.Equal(2, repository.Names(HandoffService.Prefix).Count());
        Assert.Equal(1, await phone.PruneExpiredAsync()); // the tablet's, which the phone cannot list
        Assert.Single(repository.Names(HandoffService.Prefix));
    }

    [Fact]
    public async Task Delete_BySender_RemovesIt()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop"), phone = repository.Device("phone");
        HandoffCreateResult created = await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "phone" });

        Assert.True(await laptop.DeleteAsync(created.PackageId));
        Assert.False(await laptop.DeleteAsync(created.PackageId));
        Assert.Empty((await phone.ListPendingAsync()).Pending);
    }

    [Fact]
    public async Task Create_ReportsEachStage_InOrder_AndACancelledCreateStoresNothing()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop");
        var stages = new StageRecorder();
        await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), Progress = stages });
        Assert.Equal([HandoffStage.Scrubbing, HandoffStage.Compressing, HandoffStage.SelectingEmbeddings, HandoffStage.Storing, HandoffStage.Stored], stages.Seen);

        // Cancelled as the compression begins: nothing reaches the repository.
        using var cancel = new CancellationTokenSource();
        var cancelling = new StageRecorder(stage => { if (stage == HandoffStage.Compressing) { cancel.Cancel(); } });
        int before = repository.Names("x").Count();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), Progress = cancelling }, cancel.Token));
        Assert.Equal(before, repository.Names("x").Count());
        Assert.DoesNotContain(HandoffStage.Storing, cancelling.Seen);
    }

    private sealed class StageRecorder(Action<HandoffStage>? onStage = null) : IProgress<HandoffStage>
    {
        public List<HandoffStage> Seen { get; } = [];

        public void Report(HandoffStage value)
        {
            Seen.Add(value);
            onStage?.Invoke(value);
        }
    }

    [Fact]
    public async Task AnExpiredPackage_IsNotResumedOrFetched_EvenBeforeAListingPrunesIt()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService phone = repository.Device("phone");
        HandoffCreateResult created = await repository.Device("laptop").CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TimeToLive = TimeSpan.FromHours(1) });
        repository.Time.Advance(TimeSpan.FromHours(1));

        var fetch = await Assert.ThrowsAsync<GhostieSyncException>(() => phone.FetchAsync(created.PackageId));
        Assert.Equal(GhostieErrorCode.NotFound, fetch.Code);
        Assert.Contains("expired at 2026-11-21 09:00:00Z", fetch.Message, StringComparison.Ordinal);
        Assert.Empty(repository.Names("x"));

        HandoffCreateResult second = await repository.Device("laptop").CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TimeToLive = TimeSpan.FromMinutes(1) });
        repository.Time.Advance(TimeSpan.FromMinutes(2));
        var resume = await Assert.ThrowsAsync<GhostieSyncException>(() => phone.ResumeAsync(second.PackageId, DeviceProfile.Ios));
        Assert.Equal(GhostieErrorCode.NotFound, resume.Code);
        Assert.Empty(repository.Names("x")); // neither the package nor a claim left
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("0123456789abcdef0123456g")]
    [InlineData("0123456789abcdef012345678")]
    [InlineData("")]
    public async Task BadPackageId_IsAUsageError(string id)
    {
        using Repository repository = await Repository.CreateAsync();
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => repository.Device("phone").FetchAsync(id));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
    }

    [Fact]
    public async Task PackageIds_AreTakenAsTyped_UpperCaseAndSpacesAllowed()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffCreateResult created = await repository.Device("laptop").CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "phone" });
        HandoffService phone = repository.Device("phone");
        Assert.Equal(created.PackageId, (await phone.FetchAsync(" " + created.PackageId.ToUpperInvariant() + "\n")).PackageId);
        Assert.Equal(created.PackageId, (await phone.ResumeAsync(created.PackageId.ToUpperInvariant(), DeviceProfile.Web)).PackageId);
        Assert.Empty(repository.Names(HandoffService.Prefix));
    }

    [Fact]
    public async Task ListManifest_ReadsOnlyTheFirstChunk_OfALargePackage()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop", o => o.BrotliQuality = 0), phone = repository.Device("phone");
        var random = new Random(7);
        float[] reference = Enumerable.Range(0, 384).Select(_ => (float)random.NextDouble()).ToArray();
        var candidates = Enumerable.Range(0, 400).Select(i => new EmbeddingEntry { Id = "e" + i, Vector = reference.Select(v => v + ((float)random.NextDouble() * 0.05f)).ToArray() }).ToArray();
        HandoffCreateResult created = await laptop.CreateAsync(new HandoffRequest
        {
            Transcript = Fixtures.SmallTranscript(),
            TargetDeviceId = "phone",
            Embeddings = new EmbeddingCandidates { Model = "m", Reference = reference, Candidates = candidates },
        });
        Assert.True(created.StoredBytes > 4 * 65_536);

        // Damage the last chunk: listing still works (it never reads that far); fetching does not.
        byte[] stored = repository.Storage.GetRaw(created.ObjectName)!;
        stored[^5] ^= 0xff;
        repository.Storage.SetRaw(created.ObjectName, stored);
        Assert.Single((await phone.ListPendingAsync()).Pending);
        await Assert.ThrowsAsync<IntegrityException>(() => phone.FetchAsync(created.PackageId));
    }

    [Fact]
    public async Task EmbeddingTexts_AreScrubbed_BeforeTheyLeaveTheDevice()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop"), phone = repository.Device("phone");
        float[] reference = [1, 0, 0, 0];
        string key = "sk-ant-api03-" + new string('Q', 30) + "7xY";
        var candidates = new[]
        {
            new EmbeddingEntry { Id = "near", Vector = [1, 0.01f, 0, 0], Text = "deploy with " + key, Source = "msg 3 " + key },
        };
        HandoffCreateResult created = await laptop.CreateAsync(new HandoffRequest
        {
            Transcript = Fixtures.SmallTranscript(),
            TargetDeviceId = "phone",
            Embeddings = new EmbeddingCandidates { Model = "m", Reference = reference, Candidates = candidates },
        });

        HandoffPackage package = await phone.FetchAsync(created.PackageId);
        EmbeddingEntry entry = Assert.Single(package.Embeddings!.Entries);
        Assert.DoesNotContain(key, entry.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(key, entry.Source, StringComparison.Ordinal);
        Assert.Contains("deploy with", entry.Text, StringComparison.Ordinal);
        Assert.True(created.Scrubbing.SecretsRemoved >= 2);
    }
}
