using System.Diagnostics;
using System.Text.Json;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary>
/// <c>ghostie sync watch</c> end to end: two homes on one folder repository, the watcher running on one as a separate
/// process with a short interval. Waits are for events the process prints (or files it writes), each with a generous
/// hang guard; nothing asserts how long anything took.
/// </summary>
public sealed class SyncWatchTests : IDisposable
{
    private const int Sigint = 2;
    private const int Sigterm = 15;
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(90);
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Watch_PullsAMemoryAddedOnTheOtherHome_PushesALocalOne_AndStopsCleanlyOnSigint()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        await using var watch = Watcher.Start(_sandbox, "laptop", "--interval", "0.5", "--debounce", "0.2", "--json");
        JsonElement started = await watch.NextEventAsync("started");
        Assert.Equal("laptop", started.GetProperty("device_id").GetString());
        Assert.Equal(0.5, started.GetProperty("interval_seconds").GetDouble());

        // Added and pushed on the phone: the watcher pulls it within a few intervals.
        string fromPhone = (await _sandbox.RunAsync("phone", "memory", "add", "added on the phone while the laptop watches", "--json")).Expect(0).Json()
            .GetProperty("id").GetString()!;
        (await _sandbox.RunAsync("phone", "sync", "push")).Expect(0);
        JsonElement pulled = await watch.NextEventAsync("synced", e => e.GetProperty("downloaded").GetInt32() > 0);
        Assert.Equal(1, pulled.GetProperty("downloaded").GetInt32());
        Assert.True(File.Exists(Path.Combine(_sandbox.Home("laptop"), "memories", fromPhone + ".json")));

        // Added on the laptop by another command: the watch pushes it (the folder watcher or the next interval).
        string fromLaptop = (await _sandbox.RunAsync("laptop", "memory", "add", "added on the laptop while it watches", "--json")).Expect(0).Json()
            .GetProperty("id").GetString()!;
        JsonElement pushed = await watch.NextEventAsync("synced", e => e.GetProperty("uploaded").GetInt32() > 0);
        Assert.Equal(1, pushed.GetProperty("uploaded").GetInt32());
        (await _sandbox.RunAsync("phone", "sync", "pull")).Expect(0);
        Assert.True(File.Exists(Path.Combine(_sandbox.Home("phone"), "memories", fromLaptop + ".json")));

        // A push from another process while the watch runs: the home's lock is shared politely (no exit code 8 here).
        (await _sandbox.RunAsync("laptop", "sync", "push", "--wait", "30")).Expect(0);

        int exit = await watch.SignalAsync(Sigint);
        Assert.True(exit == 0, $"exit code {exit}; stderr:\n{watch.StdErr}");
        Assert.Equal("stopped", watch.Events[^1].GetProperty("event").GetString());
        Assert.All(watch.Events, e => Assert.NotEqual("failed", e.GetProperty("event").GetString()));
        (await _sandbox.RunAsync("laptop", "sync", "status", "--json")).Expect(0); // the home is fine after the stop
    }

    [Fact]
    public async Task Watch_Sigterm_StopsWithExitCode0_AndSaysSoOnStdout()
    {
        await _sandbox.SetupAsync("laptop");
        await using var watch = Watcher.Start(_sandbox, "laptop", "--interval", "0.5");
        await watch.NextLineAsync(l => l.StartsWith("Watching ", StringComparison.Ordinal));

        int exit = await watch.SignalAsync(Sigterm);

        Assert.True(exit == 0, $"exit code {exit}; stderr:\n{watch.StdErr}");
        Assert.Contains(watch.Lines, l => l.StartsWith("Stopped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Watch_NotSetUp_FailsAtOnceWithExitCode4()
    {
        CliResult result = await _sandbox.RunAsync("nowhere", "sync", "watch", "--interval", "0.5");
        result.Expect(4);
    }

    [Fact]
    public async Task Watch_BadInterval_IsAUsageError()
    {
        await _sandbox.SetupAsync("laptop");
        CliResult result = (await _sandbox.RunAsync("laptop", "sync", "watch", "--interval", "0")).Expect(1);
        Assert.Contains("--interval", result.StdErr, StringComparison.Ordinal);
    }

    /// <summary>Sends a signal with the system's kill(1), as a terminal's Ctrl+C or a service manager's stop would.</summary>
    private static async Task SendSignalAsync(int pid, int signal)
    {
        using Process kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
        })!;
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>A running <c>ghostie sync watch</c>: its stdout lines as they come.</summary>
    private sealed class Watcher : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly List<string> _lines = [];
        private readonly Task _stdout;
        private readonly Task<string> _stderr;
        private readonly SemaphoreSlim _newLine = new(0);
        private int _seen;

        private Watcher(Process process)
        {
            _process = process;
            _stderr = process.StandardError.ReadToEndAsync();
            _stdout = Task.Run(async () =>
            {
                while (await process.StandardOutput.ReadLineAsync() is { } line)
                {
                    lock (_lines)
                    {
                        _lines.Add(line);
                    }

                    _newLine.Release();
                }

                _newLine.Release(1000); // end of output: wake any waiter
            });
        }

        public static Watcher Start(Sandbox sandbox, string device, params string[] args) =>
            new(GhostieCli.Start(["--home", sandbox.Home(device), "sync", "watch", .. args], sandbox.Root,
                new Dictionary<string, string?> { ["GHOSTIE_HOME"] = Path.Combine(sandbox.Root, "default-home") }));

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public IReadOnlyList<JsonElement> Events => Lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

        public string StdErr => _stderr.IsCompleted ? _stderr.Result : "(still running)";

        /// <summary>The next stdout line (after those already returned) that matches.</summary>
        public async Task<string> NextLineAsync(Func<string, bool> match)
        {
            using var guard = new CancellationTokenSource(Guard);
            while (true)
            {
                string? next = null;
                lock (_lines)
                {
                    while (next is null && _seen < _lines.Count)
                    {
                        string line = _lines[_seen++];
                        next = match(line) ? line : null;
                    }
                }

                if (next is not null)
                {
                    return next;
                }

                if (_process.HasExited && _stdout.IsCompleted && _seen >= Lines.Count)
                {
                    Assert.Fail($"ghostie sync watch exited ({_process.ExitCode}) without printing the line awaited.\nstdout:\n{string.Join('\n', Lines)}\nstderr:\n{await _stderr}");
                }

                try
                {
                    await _newLine.WaitAsync(guard.Token);
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"ghostie sync watch did not print the line awaited within the guard.\nstdout:\n{string.Join('\n', Lines)}");
                }
            }
        }

        /// <summary>The next JSON event of this kind (that matches).</summary>
        public async Task<JsonElement> NextEventAsync(string kind, Func<JsonElement, bool>? match = null)
        {
            string line = await NextLineAsync(l =>
            {
                JsonElement e = JsonDocument.Parse(l).RootElement;
                return e.GetProperty("event").GetString() == kind && (match is null || match(e));
            });
            return JsonDocument.Parse(line).RootElement.Clone();
        }

        /// <summary>Sends the signal and returns the exit code once the process has exited.</summary>
        public async Task<int> SignalAsync(int signal)
        {
            await SendSignalAsync(_process.Id, signal);
            using var guard = new CancellationTokenSource(Guard);
            await _process.WaitForExitAsync(guard.Token);
            await _stdout;
            await _stderr;
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
            _newLine.Dispose();
        }
    }
}
