namespace Ghostie.Sync.Tests;

/// <summary>Key epoch ids reach people (sync problems, the CLI's errors) spelled as docs/format.md names them: 8 hex digits.</summary>
public class EpochSpellingTests
{
    [Fact]
    public async Task Pull_ObjectUnderAnEpochThatIsGone_NamesTheEpochInHex()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        uint epoch = await a.Manager.Keys.RotateEpochAsync();
        Assert.True(epoch > 9, "a random epoch id whose decimal and hex spellings differ"); // 1 in 400 million to be lower
        a.Add("sealed under the new epoch");
        await a.SyncAsync();
        string hex = epoch.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(await cluster.Storage.DeleteAsync("epochs/" + hex));

        SyncResult result = await b.Manager.PullAsync();

        SyncProblem problem = Assert.Single(result.Problems);
        Assert.Contains($"key epoch {hex}", problem.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(epoch.ToString(System.Globalization.CultureInfo.InvariantCulture), problem.Message, StringComparison.Ordinal);
    }
}
