using System.Text.Json;
using System.Text.RegularExpressions;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary>What <c>sync status</c> and <c>sync conflict resolve</c> say must be exactly what happened.</summary>
public sealed class StateCommandTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Status_RightAfterMemoryAdd_CountsItAsPending_AndNotAsCloud()
    {
        await _sandbox.SetupAsync("laptop");
        (await _sandbox.RunAsync("laptop", "memory", "add", "pushed")).Expect(0);
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("laptop", "memory", "add", "just added, not pushed")).Expect(0);

        JsonElement status = (await _sandbox.RunAsync("laptop", "sync", "status", "--json")).Expect(0).Json();
        Assert.Equal(2, status.GetProperty("local_memories").GetInt32());
        Assert.Equal(1, status.GetProperty("cloud_memories").GetInt32());
        Assert.Equal(1, status.GetProperty("pending_push").GetInt32());

        string text = (await _sandbox.RunAsync("laptop", "sync", "status")).Expect(0).StdOut;
        Assert.Contains("Pending push:    1 (not yet in the repository)", text, StringComparison.Ordinal);
        Assert.Contains("Cloud Memories:  1 (as of last sync)", text, StringComparison.Ordinal);

        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);
        status = (await _sandbox.RunAsync("laptop", "sync", "status", "--json")).Expect(0).Json();
        Assert.Equal(0, status.GetProperty("pending_push").GetInt32());
        Assert.Equal(2, status.GetProperty("cloud_memories").GetInt32());
    }

    [Fact]
    public async Task Status_ShowsTheKeyEpochInHex_AsKeyListDoes()
    {
        await _sandbox.SetupAsync("laptop");
        (await _sandbox.RunAsync("laptop", "key", "rotate")).Expect(0);
        string epoch = (await _sandbox.RunAsync("laptop", "key", "list", "--json")).Expect(0).Json().GetProperty("current_epoch").GetString()!;
        Assert.Matches("^[0-9a-f]{8}$", epoch);

        JsonElement status = (await _sandbox.RunAsync("laptop", "sync", "status", "--json")).Expect(0).Json();
        Assert.Equal(epoch, status.GetProperty("current_epoch").GetString());
        string text = (await _sandbox.RunAsync("laptop", "sync", "status")).Expect(0).StdOut;
        Assert.Contains($"Key epoch:       {epoch}", text, StringComparison.Ordinal);
        string listHint = (await _sandbox.RunAsync("laptop", "key", "list")).Expect(0).StdErr;
        Assert.Contains($"key epoch {epoch} is current", listHint, StringComparison.Ordinal);
        Assert.DoesNotMatch(new Regex(@"epoch \d{9,10}\b"), text + listHint); // never the decimal spelling
    }
}
