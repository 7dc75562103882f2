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

    /// <summary>phone edits a memory while laptop deletes it (later): a conflict whose current version is the deletion.</summary>
    private async Task<string> EditDeleteConflictAsync()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        string id = (await _sandbox.RunAsync("laptop", "memory", "add", "shared", "--json")).Expect(0).Json().GetProperty("id").GetString()!;
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("phone", "sync", "pull")).Expect(0);
        (await _sandbox.RunAsync("phone", "memory", "edit", id, "edited on the phone")).Expect(0);
        (await _sandbox.RunAsync("phone", "sync", "push")).Expect(0);
        await Task.Delay(50); // the deletion's clock is later
        (await _sandbox.RunAsync("laptop", "memory", "rm", id)).Expect(0);
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("laptop", "sync", "pull")).Expect(0);
        (await _sandbox.RunAsync("phone", "sync", "pull")).Expect(0);
        return id;
    }

    [Fact]
    public async Task ConflictResolve_KeepingTheDeletion_ReportsDeleted_NotKept()
    {
        string id = await EditDeleteConflictAsync();
        JsonElement conflict = (await _sandbox.RunAsync("phone", "sync", "conflict", "show", id, "--json")).Expect(0).Json();
        Assert.True(conflict.GetProperty("current").GetProperty("deleted").GetBoolean());

        JsonElement resolved = (await _sandbox.RunAsync("phone", "sync", "conflict", "resolve", id, "--keep", "theirs", "--json")).Expect(0).Json();

        Assert.True(resolved.GetProperty("deleted").GetBoolean());
        Assert.Empty(resolved.GetProperty("kept").EnumerateArray());
        (await _sandbox.RunAsync("phone", "memory", "show", id)).Expect(1);
        (await _sandbox.RunAsync("phone", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("laptop", "sync", "pull")).Expect(0);
        JsonElement status = (await _sandbox.RunAsync("laptop", "sync", "status", "--json")).Expect(0).Json();
        Assert.Equal(0, status.GetProperty("conflicts").GetInt32());
        Assert.Equal(0, status.GetProperty("local_memories").GetInt32());
    }

    [Fact]
    public async Task ConflictResolve_KeepingTheDeletion_SaysSoInText()
    {
        string id = await EditDeleteConflictAsync();
        CliResult resolved = (await _sandbox.RunAsync("phone", "sync", "conflict", "resolve", id, "--keep", "theirs")).Expect(0);
        Assert.Contains($"Resolved {id} (theirs): the memory is deleted.", resolved.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConflictResolve_KeepMineOnADeviceWithNoVersionOfItsOwn_ExitsOneSayingWhatToUse_AndChangesNothing()
    {
        string id = await EditDeleteConflictAsync();
        await _sandbox.SetupAsync("tablet");
        (await _sandbox.RunAsync("tablet", "sync", "pull")).Expect(0);

        CliResult refused = (await _sandbox.RunAsync("tablet", "sync", "conflict", "resolve", id, "--keep", "mine", "--json")).Expect(1);

        JsonElement error = refused.Json().GetProperty("error");
        Assert.Equal("InvalidArgument", error.GetProperty("code").GetString());
        string message = error.GetProperty("message").GetString()!;
        Assert.Contains("'tablet'", message, StringComparison.Ordinal);
        Assert.Contains("'laptop'", message, StringComparison.Ordinal);
        Assert.Contains("'phone'", message, StringComparison.Ordinal);
        Assert.Contains("--keep theirs", message, StringComparison.Ordinal);
        JsonElement conflicts = (await _sandbox.RunAsync("tablet", "sync", "conflict", "list", "--json")).Expect(0).Json();
        Assert.Single(conflicts.GetProperty("conflicts").EnumerateArray());
    }

    [Fact]
    public async Task Pull_CannotWriteTheHome_ExitsTenNamingTheHome_NeverSaysUpToDate()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        string id = (await _sandbox.RunAsync("laptop", "memory", "add", "to pull", "--json")).Expect(0).Json().GetProperty("id").GetString()!;
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);

        // A local write that fails whatever the user's rights (the tests may run as root): a folder where the
        // memory file must go. A full disk or a read-only home fails the same way, with its own reason.
        string blocker = Path.Combine(_sandbox.Home("phone"), "memories", id + ".json");
        Directory.CreateDirectory(blocker);
        CliResult failed = (await _sandbox.RunAsync("phone", "sync", "pull")).Expect(10);
        Assert.DoesNotContain("up to date", failed.StdOut, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"ghostie: error: The pull could not write this device's Ghostie home {_sandbox.Home("phone")}", failed.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("BackendUnavailable", failed.StdErr, StringComparison.Ordinal);

        JsonElement error = (await _sandbox.RunAsync("phone", "sync", "pull", "--json")).Expect(10).Json().GetProperty("error");
        Assert.Equal("LocalStorageFailure", error.GetProperty("code").GetString());
        Assert.Equal(10, error.GetProperty("exit_code").GetInt32());

        Directory.Delete(blocker);
        (await _sandbox.RunAsync("phone", "sync", "pull")).Expect(0);
        Assert.Contains("to pull", (await _sandbox.RunAsync("phone", "memory", "show", id)).Expect(0).StdOut, StringComparison.Ordinal);
    }

    private Task<CliResult> SetupInHomeAsync(string home, string device, params string[] extra) =>
        _sandbox.RunWithPassphraseAsync(home, Sandbox.Passphrase, ["sync", "setup", "--backend", "folder", "--path", _sandbox.Repository, "--device", device, .. extra]);

    [Fact]
    public async Task Setup_DeviceIdUsedByAnotherHome_ExitsTwelveNamingItAndAnotherDevice_AndCreatesNothing()
    {
        await _sandbox.SetupAsync("laptop");
        (await _sandbox.RunAsync("laptop", "memory", "add", "first home")).Expect(0);
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);

        CliResult refused = (await SetupInHomeAsync("second", "laptop", "--json")).Expect(12);

        JsonElement error = refused.Json().GetProperty("error");
        Assert.Equal("DeviceIdInUse", error.GetProperty("code").GetString());
        Assert.Equal(12, error.GetProperty("exit_code").GetInt32());
        string message = error.GetProperty("message").GetString()!;
        Assert.Contains("'laptop'", message, StringComparison.Ordinal);
        Assert.Contains("--device <other-id>", message, StringComparison.Ordinal);
        Assert.Contains("--take-over-device", message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_sandbox.Home("second"), "sync", "config.json")));
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0); // the first home is not locked out
        (await SetupInHomeAsync("laptop", "laptop")).Expect(0);        // and may rejoin as itself
    }

    [Fact]
    public async Task LockedOutHome_PushExitsTwelve_RenameDevice_KeepsItsMemoriesAndPendingChanges_AndPushesThem()
    {
        await _sandbox.SetupAsync("laptop");
        string shared = (await _sandbox.RunAsync("laptop", "memory", "add", "shared", "--json")).Expect(0).Json().GetProperty("id").GetString()!;
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);

        // A second home takes the id over (as after a reinstall whose old home was thought gone) and pushes.
        (await SetupInHomeAsync("reinstalled", "laptop", "--take-over-device")).Expect(0);
        (await _sandbox.RunAsync("reinstalled", "sync", "pull")).Expect(0);
        (await _sandbox.RunAsync("reinstalled", "memory", "add", "from the reinstalled home")).Expect(0);
        (await _sandbox.RunAsync("reinstalled", "sync", "push")).Expect(0);

        // The original home has changes of its own, then finds itself locked out.
        string pending = (await _sandbox.RunAsync("laptop", "memory", "add", "pending on the original", "--json")).Expect(0).Json().GetProperty("id").GetString()!;
        (await _sandbox.RunAsync("laptop", "memory", "edit", shared, "edited on the original")).Expect(0);
        CliResult locked = (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(12);
        Assert.Contains("ghostie sync rename-device <new-id>", locked.StdErr, StringComparison.Ordinal);
        (await _sandbox.RunAsync("laptop", "sync", "pull")).Expect(12);

        JsonElement renamed = (await _sandbox.RunAsync("laptop", "sync", "rename-device", "laptop-2", "--json")).Expect(0).Json();
        Assert.Equal("laptop", renamed.GetProperty("previous_device_id").GetString());
        Assert.Equal("laptop-2", renamed.GetProperty("device_id").GetString());
        Assert.Equal("laptop-2", File.ReadAllText(Path.Combine(_sandbox.Home("laptop"), "sync", "device_id")).Trim());
        Assert.Equal(2, (await _sandbox.RunAsync("laptop", "sync", "status", "--json")).Expect(0).Json().GetProperty("pending_push").GetInt32());

        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);
        (await _sandbox.RunAsync("laptop", "sync", "pull")).Expect(0);
        JsonElement status = (await _sandbox.RunAsync("laptop", "sync", "status", "--json")).Expect(0).Json();
        Assert.Equal(0, status.GetProperty("pending_push").GetInt32());
        Assert.Equal(3, status.GetProperty("cloud_memories").GetInt32());
        Assert.Equal(0, status.GetProperty("conflicts").GetInt32());

        (await _sandbox.RunAsync("reinstalled", "sync", "pull")).Expect(0);
        string list = (await _sandbox.RunAsync("reinstalled", "memory", "list")).Expect(0).StdOut;
        Assert.Contains("edited on the original", list, StringComparison.Ordinal);
        Assert.Contains("pending on the original", list, StringComparison.Ordinal);
        Assert.Contains("from the reinstalled home", list, StringComparison.Ordinal);
        Assert.Contains(pending, list, StringComparison.Ordinal);
        Assert.Equal(0, (await _sandbox.RunAsync("reinstalled", "sync", "status", "--json")).Expect(0).Json().GetProperty("conflicts").GetInt32());
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
