using System.Diagnostics;
using System.Text.Json;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary>
/// <c>--wait [SECONDS]</c>: a command that finds another process holding the home's lock retries until that process lets
/// go or the deadline passes (then exit code 8, as without --wait). The other process is a separate python3 holding
/// <c>sync/.lock</c> with flock, the lock .NET takes for FileShare.None (as a syncing ghostie does).
/// </summary>
public sealed class BusyWaitTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    /// <summary>Starts a process that holds the home's lock for <paramref name="seconds"/>, once it says it holds it.</summary>
    private async Task<Process> HoldLockAsync(string device, double seconds)
    {
        string lockPath = Path.Combine(_sandbox.Home(device), "sync", ".lock");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("GHOSTIE_INTEROP_PYTHON") ?? "python3")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import fcntl, sys, time\nf = open(sys.argv[1], 'a+')\nfcntl.flock(f, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(float(sys.argv[2]))\n");
        start.ArgumentList.Add(lockPath);
        start.ArgumentList.Add(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Process holder = Process.Start(start)!;
        Assert.Equal("held", await holder.StandardOutput.ReadLineAsync());
        return holder;
    }

    private async Task<string> SetUpWithAChangeAsync()
    {
        await _sandbox.SetupAsync("laptop");
        return (await _sandbox.RunAsync("laptop", "memory", "add", "Something to push", "--json")).Expect(0).Json().GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task Push_Wait_RetriesUntilTheOtherProcessLetsGo()
    {
        await SetUpWithAChangeAsync();
        using Process holder = await HoldLockAsync("laptop", 3);
        var clock = Stopwatch.StartNew();

        (await _sandbox.RunAsync("laptop", "sync", "push", "--json")).Expect(8);  // without --wait: at once
        CliResult waited = (await _sandbox.RunAsync("laptop", "sync", "push", "--wait", "30", "--json")).Expect(0);

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.5), $"finished after {clock.Elapsed}, while the lock was held 3 s");
        Assert.Equal(1, waited.Json().GetProperty("uploaded").GetInt32());
        Assert.True(holder.HasExited);
    }

    [Fact]
    public async Task Pull_WaitWithoutSeconds_UsesTheDefault_AndAWaitHintGoesToStderr()
    {
        await SetUpWithAChangeAsync();
        using Process holder = await HoldLockAsync("laptop", 2);

        CliResult waited = (await _sandbox.RunAsync("laptop", "sync", "pull", "--wait")).Expect(0);

        Assert.Contains("waiting", waited.StdErr, StringComparison.Ordinal);
        Assert.Contains("Already up to date", waited.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_WaitDeadlinePasses_ExitsEightAfterTheDeadline()
    {
        await SetUpWithAChangeAsync();
        using Process holder = await HoldLockAsync("laptop", 30);
        var clock = Stopwatch.StartNew();

        JsonElement error = (await _sandbox.RunAsync("laptop", "sync", "push", "--wait", "1.5", "--json")).Expect(8).Json().GetProperty("error");

        Assert.InRange(clock.Elapsed.TotalSeconds, 1.4, 25);
        Assert.Equal("Busy", error.GetProperty("code").GetString());
        Assert.Contains("--wait", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        holder.Kill();
    }

    [Fact]
    public async Task ConflictResolve_WaitBeforeTheId_TakesTheIdAsTheId()
    {
        await SetUpWithAChangeAsync();

        // '--wait' then a word that is not a number: the word is the id, and --wait has its default.
        CliResult result = (await _sandbox.RunAsync("laptop", "sync", "conflict", "resolve", "--wait", "abc", "--keep", "mine")).Expect(1);

        Assert.Contains("'abc' is not in conflict", result.StdErr, StringComparison.Ordinal);
        (await _sandbox.RunAsync("laptop", "sync", "push", "--wait", "-3")).Expect(1);
    }
}
