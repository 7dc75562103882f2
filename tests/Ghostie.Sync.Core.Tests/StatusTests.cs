using System.Runtime.CompilerServices;

namespace Ghostie.Sync.Tests;

/// <summary>
/// What <see cref="MemorySyncManager.GetStatusAsync"/> says must be true of the repository: "pending" is everything
/// not yet in it, "cloud" only what it is known to hold. A user decides on these numbers before wiping a device.
/// </summary>
public class StatusTests
{
    [Fact]
    public async Task GetStatus_AfterAddBeforeAnySync_CountsTheNewFileAsPending_AndNothingAsCloud()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        a.Add("written by 'memory add', not seen by sync yet");
        a.Add("another one");

        SyncStatus status = await a.Manager.GetStatusAsync();

        Assert.Equal(2, status.LocalCount);
        Assert.Equal(2, status.PendingPush);
        Assert.Equal(0, status.CloudCount);
    }

    [Fact]
    public async Task GetStatus_CountsUncommittedEditsAndDeletions_ButNotATouchWithTheSameContent()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        MemoryRecord one = a.Add("one");
        MemoryRecord two = a.Add("two");
        MemoryRecord three = a.Add("three");
        await a.SyncAsync();
        Assert.Equal(0, (await a.Manager.GetStatusAsync()).PendingPush);

        a.Edit(one.Id, "one, edited");
        a.Manager.Memories.Delete(two.Id);
        string path = a.Home.MemoryPath(three.Id);
        File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddMinutes(1)); // touched, same content

        SyncStatus status = await a.Manager.GetStatusAsync();

        Assert.Equal(2, status.PendingPush);
        Assert.Equal(3, status.CloudCount); // the repository still holds all three (one in its old version)
    }

    [Fact]
    public async Task GetStatus_AfterAFailedPush_CountsTheUnconfirmedVersionsAsPending_NotAsCloud()
    {
        var storage = new RefusingWritesBackend(new InMemoryStorageBackend());
        using var cluster = new Cluster(storage);
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        b.Add("from b");
        await b.SyncAsync();
        MemoryRecord kept = a.Add("pushed before the disk filled");
        await a.SyncAsync();
        a.Add("new 1");
        a.Add("new 2");
        a.Edit(kept.Id, "edited while the disk is full");

        storage.RefuseWrites = true;
        await Assert.ThrowsAsync<GhostieSyncException>(() => a.Manager.SyncAsync()); // committed to the outbox, push failed
        SyncStatus status = await a.Manager.GetStatusAsync();

        Assert.Equal(4, status.LocalCount);
        Assert.Equal(3, status.PendingPush);
        Assert.Equal(2, status.CloudCount); // b's memory and the first version of a's; not the two new ones

        storage.RefuseWrites = false;
        await a.SyncAsync();
        status = await a.Manager.GetStatusAsync();
        Assert.Equal(0, status.PendingPush);
        Assert.Equal(4, status.CloudCount);
    }

    [Fact]
    public async Task GetStatus_ACommittedButUnpushedDeletion_IsPending_AndTheMemoryStaysInCloud()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        MemoryRecord gone = a.Add("to delete");
        a.Add("to keep");
        await a.SyncAsync();
        a.Manager.Memories.Delete(gone.Id);
        await a.Manager.PullAsync(); // commits the deletion to the outbox, pushes nothing

        SyncStatus status = await a.Manager.GetStatusAsync();

        Assert.Equal(1, status.PendingPush);
        Assert.Equal(2, status.CloudCount);
    }

    [Fact]
    public async Task GetStatus_ANewMemoryCommittedButUnpushed_IsPendingOnce_AndNotInCloud()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        MemoryRecord m = a.Add("v1");
        await a.Manager.PullAsync(); // committed, not pushed
        a.Edit(m.Id, "v2");           // and edited again, not committed

        SyncStatus status = await a.Manager.GetStatusAsync();

        Assert.Equal(1, status.PendingPush); // one memory, whatever the number of versions
        Assert.Equal(0, status.CloudCount);
    }

    [Fact]
    public async Task GetStatus_AfterReopening_StillKnowsWhatIsUnconfirmed()
    {
        var storage = new RefusingWritesBackend(new InMemoryStorageBackend());
        using var cluster = new Cluster(storage);
        Device a = await cluster.AddDeviceAsync("a");
        a.Add("first");
        await a.SyncAsync();
        a.Add("second");
        storage.RefuseWrites = true;
        await Assert.ThrowsAsync<GhostieSyncException>(() => a.Manager.PushAsync());
        await cluster.ReopenAsync(a);

        SyncStatus status = await a.Manager.GetStatusAsync();

        Assert.Equal(1, status.PendingPush);
        Assert.Equal(1, status.CloudCount);
    }
}

/// <summary>A backend whose writes fail while <see cref="RefuseWrites"/> is set, as a full repository disk does.</summary>
internal sealed class RefusingWritesBackend(IStorageBackend inner) : IStorageBackend
{
    public bool RefuseWrites { get; set; }

    public string DisplayName => "refusing " + inner.DisplayName;

    public Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default) =>
        RefuseWrites
            ? throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"No space left on device writing '{name}'.")
            : inner.PutAsync(name, content, cancellationToken);

    public Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default) => inner.GetAsync(name, cancellationToken);

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (string name in inner.ListAsync(prefix, cancellationToken))
        {
            yield return name;
        }
    }

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) =>
        RefuseWrites ? throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, "No space left on device.") : inner.DeleteAsync(name, cancellationToken);
}
