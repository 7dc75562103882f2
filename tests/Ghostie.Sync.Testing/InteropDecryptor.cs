using System.Diagnostics;

namespace Ghostie.Sync.Testing;

/// <summary>Runs the independent decryptors of tests/interop (Python and Node), with the passphrase only in the
/// environment, and checks the passphrase never appears in what they print.</summary>
public static class InteropDecryptor
{
    /// <summary>Runs <c>tests/interop/decrypt.py</c> (python3 from <c>GHOSTIE_INTEROP_PYTHON</c>, else /usr/bin/python3).</summary>
    /// <param name="args">Its arguments.</param>
    /// <param name="passphrase">Set as <c>GHOSTIE_PASSPHRASE</c> when not null (removed from the environment otherwise).</param>
    public static Task<(int Code, string Stdout, string Stderr)> RunPythonAsync(IReadOnlyList<string> args, string? passphrase) =>
        RunAsync(Environment.GetEnvironmentVariable("GHOSTIE_INTEROP_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3", "decrypt.py", args, passphrase);

    /// <summary>Runs <c>tests/interop/decrypt.mjs</c> (node from <c>GHOSTIE_INTEROP_NODE</c>, else node on the PATH).</summary>
    /// <param name="args">Its arguments.</param>
    /// <param name="passphrase">Set as <c>GHOSTIE_PASSPHRASE</c> when not null (removed from the environment otherwise).</param>
    public static Task<(int Code, string Stdout, string Stderr)> RunNodeAsync(IReadOnlyList<string> args, string? passphrase) =>
        RunAsync(Environment.GetEnvironmentVariable("GHOSTIE_INTEROP_NODE") is { Length: > 0 } n ? n : "node", "decrypt.mjs", args, passphrase);

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string program, string script, IReadOnlyList<string> args, string? passphrase)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(ServerProcess.RepositoryRoot, "tests", "interop", script));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("GHOSTIE_PASSPHRASE");
        if (passphrase is not null)
        {
            start.Environment["GHOSTIE_PASSPHRASE"] = passphrase;
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        if (passphrase is not null)
        {
            Assert.DoesNotContain(passphrase, await stderr.ConfigureAwait(false) + await stdout.ConfigureAwait(false), StringComparison.Ordinal);
        }

        return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
