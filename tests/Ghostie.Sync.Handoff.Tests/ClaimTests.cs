using System.Runtime.CompilerServices;
using Ghostie.Sync.Handoff.Tests.Support;

namespace Ghostie.Sync.Handoff.Tests;

/// <summary>A package for any device resumed by two devices at once: on a backend with conditional writes, exactly one gets it.</summary>
public sealed class ClaimTests
{
    [Fact]
    public async Task TwoDevices_ResumingOneAnyDevicePackage_AtTheSameMoment_ExactlyOneGetsIt()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffCreateResult created = await repository.Device("laptop").CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript() });

        // Both devices find the package before either goes on, and neither deletes it before the other has read it
        // (or given up): the race the claim must settle.
        var rendezvous = new Rendezvous(repository.Storage, parties: 2);
        HandoffService phone = repository.Device("phone", backend: rendezvous), tablet = repository.Device("tablet", backend: rendezvous);
        Task<RebuiltConversation>[] attempts =
        [
            Task.Run(() => rendezvous.Attempt(() => phone.ResumeAsync(created.PackageId, DeviceProfile.Ios))),
            Task.Run(() => rendezvous.Attempt(() => tablet.ResumeAsync(created.PackageId, DeviceProfile.Android))),
        ];
        _ = await Task.WhenAny(Task.WhenAll(attempts), Task.Delay(TimeSpan.FromSeconds(30)));

        Assert.All(attempts, a => Assert.True(a.IsCompleted));
        _ = Assert.Single(attempts, a => a.IsCompletedSuccessfully);
        GhostieSyncException loser = Assert.IsType<GhostieSyncException>(Assert.Single(attempts, a => a.IsFaulted).Exception!.InnerException);
        Assert.True(loser.Code is GhostieErrorCode.Busy or GhostieErrorCode.NotFound, loser.Message);
        Assert.Empty(repository.Names(HandoffService.Prefix));
        Assert.Empty(repository.Names(HandoffService.ClaimPrefix));
    }

    [Fact]
    public async Task AClaimHeld_BlocksOthers_UntilTheTimeout_ThenTheFirstCannotConsume()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffCreateResult created = await repository.Device("laptop").CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript() });
        HandoffService phone = repository.Device("phone"), tablet = repository.Device("tablet");

        // The phone starts resuming and stalls (or crashes) before consuming it.
        HandoffResumption stalled = await phone.BeginResumeAsync(created.PackageId, DeviceProfile.Ios);
        Assert.True(stalled.Claimed);
        Assert.Single(repository.Names(HandoffService.ClaimPrefix));
        Assert.DoesNotContain("phone", string.Join(" ", repository.Names("x")), StringComparison.Ordinal);
        Assert.DoesNotContain("phone", System.Text.Encoding.Latin1.GetString(repository.Storage.GetRaw(HandoffService.ClaimPrefix + created.PackageId)!), StringComparison.Ordinal);

        var busy = await Assert.ThrowsAsync<GhostieSyncException>(() => tablet.ResumeAsync(created.PackageId, DeviceProfile.Web));
        Assert.Equal(GhostieErrorCode.Busy, busy.Code);
        Assert.Contains("being resumed by device 'phone'", busy.Message, StringComparison.Ordinal);
        Assert.Single(repository.Names(HandoffService.Prefix));

        repository.Time.Advance(TimeSpan.FromMinutes(5));
        RebuiltConversation taken = await tablet.ResumeAsync(created.PackageId, DeviceProfile.Web);
        Assert.Equal(created.PackageId, taken.PackageId);
        Assert.Empty(repository.Names("x"));

        var late = await Assert.ThrowsAsync<GhostieSyncException>(() => stalled.CompleteAsync());
        Assert.Equal(GhostieErrorCode.Busy, late.Code);
        await stalled.DisposeAsync();
    }

    [Fact]
    public async Task DisposingWithoutCompleting_GivesThePackageBack()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffCreateResult created = await repository.Device("laptop").CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript() });
        HandoffService phone = repository.Device("phone"), tablet = repository.Device("tablet");

        await using (HandoffResumption interrupted = await phone.BeginResumeAsync(created.PackageId, DeviceProfile.Ios))
        {
            Assert.True(interrupted.Consumes);
            Assert.NotEmpty(interrupted.Conversation.Context);
        }

        Assert.Empty(repository.Names(HandoffService.ClaimPrefix));
        Assert.Single(repository.Names(HandoffService.Prefix));
        Assert.Equal(created.PackageId, (await tablet.ResumeAsync(created.PackageId, DeviceProfile.Web)).PackageId);
        Assert.Empty(repository.Names("x"));
    }

    [Fact]
    public async Task TheSameDevice_RetryingAfterACrash_TakesItsOwnClaimOver_AndPruneRemovesOrphanedClaims()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop");
        HandoffCreateResult created = await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript() });
        HandoffService phone = repository.Device("phone");

        _ = await phone.BeginResumeAsync(created.PackageId, DeviceProfile.Ios); // crashed: neither completed nor disposed
        RebuiltConversation retried = await phone.ResumeAsync(created.PackageId, DeviceProfile.Ios);
        Assert.Equal(created.PackageId, retried.PackageId);
        Assert.Empty(repository.Names("x"));

        // A claim whose package is gone (its device crashed between the two deletes) is removed by pruning.
        HandoffCreateResult second = await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript() });
        _ = await phone.BeginResumeAsync(second.PackageId, DeviceProfile.Ios);
        await repository.Storage.DeleteAsync(second.ObjectName);
        Assert.Equal(0, await laptop.PruneExpiredAsync());
        Assert.Empty(repository.Names("x"));
    }

    [Fact]
    public async Task KeepingThePackage_TakesNoClaim()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffCreateResult created = await repository.Device("laptop").CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript() });
        await using HandoffResumption kept = await repository.Device("phone").BeginResumeAsync(created.PackageId, DeviceProfile.Ios, new HandoffResumeOptions { KeepPackage = true });
        Assert.False(kept.Claimed);
        Assert.False(kept.Consumes);
        await kept.CompleteAsync();
        Assert.Equal([created.ObjectName], repository.Names("x"));
    }

    /// <summary>A conditional backend where the first <c>parties</c> package look-ups that find something wait for each
    /// other, and a package is deleted only once every party has read it or given up.</summary>
    private sealed class Rendezvous(InMemoryStorageBackend inner, int parties) : IConditionalStorageBackend
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _allRead = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;
        private int _done;

        public async Task<T> Attempt<T>(Func<Task<T>> attempt)
        {
            try
            {
                return await attempt();
            }
            catch
            {
                Done();
                throw;
            }
        }

        private void Done()
        {
            if (Interlocked.Increment(ref _done) == parties)
            {
                _allRead.TrySetResult();
            }
        }

        public string DisplayName => inner.DisplayName;

        public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var names = new List<string>();
            await foreach (string name in inner.ListAsync(prefix, cancellationToken))
            {
                names.Add(name);
            }

            bool lookUp = prefix.StartsWith(HandoffService.Prefix, StringComparison.Ordinal) && prefix.Count(c => c == '/') == 2 && names.Contains(prefix);
            if (lookUp && Interlocked.Increment(ref _arrived) <= parties)
            {
                if (_arrived >= parties)
                {
                    _all.TrySetResult();
                }

                await _all.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            }

            foreach (string name in names)
            {
                yield return name;
            }
        }

        public async Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
        {
            Stream? stream = await inner.GetAsync(name, cancellationToken);
            if (stream is not null && name.StartsWith(HandoffService.Prefix, StringComparison.Ordinal))
            {
                var copy = new MemoryStream();
                await stream.CopyToAsync(copy, cancellationToken);
                copy.Position = 0;
                Done();
                return copy;
            }

            return stream;
        }

        public Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default) => inner.PutAsync(name, content, cancellationToken);

        public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
        {
            if (name.StartsWith(HandoffService.Prefix, StringComparison.Ordinal))
            {
                await _allRead.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            }

            return await inner.DeleteAsync(name, cancellationToken);
        }

        public Task<bool> TryCreateAsync(string name, Stream content, CancellationToken cancellationToken = default) => inner.TryCreateAsync(name, content, cancellationToken);

        public Task<string?> GetVersionAsync(string name, CancellationToken cancellationToken = default) => inner.GetVersionAsync(name, cancellationToken);

        public Task<bool> TryReplaceAsync(string name, Stream content, string expectedVersion, CancellationToken cancellationToken = default) =>
            inner.TryReplaceAsync(name, content, expectedVersion, cancellationToken);
    }
}
