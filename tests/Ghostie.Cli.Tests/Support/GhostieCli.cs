using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Ghostie.Cli.Tests.Support;

/// <summary>Runs the built <c>ghostie</c> command (<c>dotnet Ghostie.Cli.dll ...</c>) as a separate process.</summary>
internal static class GhostieCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly Lazy<string> Dll = new(FindDll);

    /// <summary>The built Ghostie.Cli.dll that the tests run.</summary>
    public static string DllPath => Dll.Value;

    /// <summary>Runs the CLI with stdin closed (never a terminal), in <paramref name="workingDirectory"/>.</summary>
    /// <param name="args">The arguments after the command name.</param>
    /// <param name="workingDirectory">The working directory.</param>
    /// <param name="environment">Variables to set; a null value removes the variable. GHOSTIE_PASSPHRASE is removed unless given.</param>
    /// <param name="standardInput">Bytes to write to stdin before it is closed (a pipe, never a terminal).</param>
    public static async Task<CliResult> RunAsync(IReadOnlyList<string> args, string workingDirectory, IReadOnlyDictionary<string, string?> environment,
        byte[]? standardInput = null)
    {
        using Process process = Start(args, workingDirectory, environment, standardInput);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(Timeout))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"ghostie {string.Join(' ', args)} did not finish within {Timeout.TotalSeconds} s.");
            }
        }

        return new CliResult(args, process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts the CLI as <see cref="RunAsync"/> does and returns the running process (stdin closed; the caller reads or drops the output).</summary>
    /// <param name="args">The arguments after the command name.</param>
    /// <param name="workingDirectory">The working directory.</param>
    /// <param name="environment">Variables to set; a null value removes the variable.</param>
    /// <param name="standardInput">Bytes to write to stdin before it is closed.</param>
    /// <param name="keepInputOpen">Leave stdin open (a pipe) for the caller to write to, instead of closing it.</param>
    public static Process Start(IReadOnlyList<string> args, string workingDirectory, IReadOnlyDictionary<string, string?> environment,
        byte[]? standardInput = null, bool keepInputOpen = false)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(Dll.Value);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("GHOSTIE_PASSPHRASE");
        start.Environment["NO_COLOR"] = "1";
        foreach ((string name, string? value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + start.FileName);
        if (standardInput is not null)
        {
            // Written on another thread: the child may fail before reading, or fill its stdout while we write.
            _ = Task.Run(() =>
            {
                try
                {
                    process.StandardInput.BaseStream.Write(standardInput);
                }
                catch (IOException)
                {
                    // the process exited without reading it all; its exit code tells the test why
                }
                finally
                {
                    try
                    {
                        process.StandardInput.Close();
                    }
                    catch (IOException)
                    {
                    }
                }
            });
        }
        else if (!keepInputOpen)
        {
            process.StandardInput.Close();
        }

        return process;
    }

    /// <summary>
    /// Runs the CLI on a pseudo-terminal (stdin, stdout and stderr all the terminal), answering its prompts in order
    /// through scripts/pty-run.py: each step waits for its text to appear, then types its answer.
    /// </summary>
    /// <param name="args">The arguments after the command name.</param>
    /// <param name="workingDirectory">The working directory.</param>
    /// <param name="environment">Variables to set; a null value removes the variable. GHOSTIE_PASSPHRASE is removed unless given.</param>
    /// <param name="steps">(text to wait for, keys to type): "\r" is Enter, "\u0003" Ctrl+C, "\u0004" Ctrl+D.</param>
    public static async Task<TerminalResult> RunOnTerminalAsync(IReadOnlyList<string> args, string workingDirectory, IReadOnlyDictionary<string, string?> environment,
        params (string Expect, string Send)[] steps)
    {
        string stepsFile = Path.Combine(workingDirectory, $"pty-steps-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(stepsFile, JsonSerializer.Serialize(steps.Select(s => new Dictionary<string, string> { ["expect"] = s.Expect, ["send"] = s.Send })));
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("GHOSTIE_INTEROP_PYTHON") is { Length: > 0 } python ? python : "python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (string arg in (string[])[Path.Combine(AppContext.BaseDirectory, "scripts", "pty-run.py"), stepsFile, "--", DotnetHost(), Dll.Value, .. args])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("GHOSTIE_PASSPHRASE");
        start.Environment["NO_COLOR"] = "1";
        start.Environment["TERM"] = "xterm";
        foreach ((string name, string? value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + start.FileName);
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180)))
        {
            await process.WaitForExitAsync(timeout.Token);
        }

        string report = await stdout;
        Assert.True(process.ExitCode == 0, $"pty-run.py failed ({process.ExitCode}): {await stderr}\n{report}");
        using JsonDocument document = JsonDocument.Parse(report);
        JsonElement root = document.RootElement;
        var result = new TerminalResult(args, root.GetProperty("exit").ValueKind == JsonValueKind.Number ? root.GetProperty("exit").GetInt32() : -1,
            root.GetProperty("output").GetString()!.Replace("\r\n", "\n", StringComparison.Ordinal),
            root.GetProperty("failed_step").ValueKind == JsonValueKind.Number ? root.GetProperty("failed_step").GetInt32() : null);
        File.Delete(stepsFile);
        Assert.True(result.FailedStep is null, $"ghostie {string.Join(' ', args)}: the terminal never showed '{(result.FailedStep is int i ? steps[i].Expect : "")}'.\nIt showed:\n{result.Output}");
        return result;
    }

    private static string FindDll()
    {
        var candidates = new List<string?>
        {
            Environment.GetEnvironmentVariable("GHOSTIE_CLI_DLL"),
            typeof(GhostieCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "GhostieCliPath")?.Value,
            Path.Combine(AppContext.BaseDirectory, "Ghostie.Cli.dll"),
        };
        return candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c) && File.Exists(c))
            ?? throw new FileNotFoundException("Ghostie.Cli.dll was not found; build samples/Ghostie.Cli first, or set GHOSTIE_CLI_DLL. Tried: " + string.Join(", ", candidates));
    }

    /// <summary>The dotnet host that runs <see cref="DllPath"/>.</summary>
    public static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        return Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}

/// <summary>What one run of the CLI on a pseudo-terminal did: everything the terminal showed, stdout and stderr together.</summary>
internal sealed record TerminalResult(IReadOnlyList<string> Args, int ExitCode, string Output, int? FailedStep)
{
    /// <summary>Asserts the exit code, showing the terminal when it differs.</summary>
    public TerminalResult Expect(int exitCode)
    {
        Assert.True(ExitCode == exitCode, $"ghostie {string.Join(' ', Args)}: exit code {ExitCode}, expected {exitCode}.\nThe terminal showed:\n{Output}");
        return this;
    }
}

/// <summary>What one run of the CLI did.</summary>
internal sealed record CliResult(IReadOnlyList<string> Args, int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Asserts the exit code, showing everything the process wrote when it differs.</summary>
    public CliResult Expect(int exitCode)
    {
        Assert.True(ExitCode == exitCode, $"ghostie {string.Join(' ', Args)}: exit code {ExitCode}, expected {exitCode}.\nstdout:\n{StdOut}\nstderr:\n{StdErr}");
        return this;
    }

    /// <summary>Parses stdout, which must be exactly one JSON document.</summary>
    public JsonElement Json()
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(StdOut);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            Assert.Fail($"ghostie {string.Join(' ', Args)}: stdout is not one JSON document ({ex.Message}).\nstdout:\n{StdOut}\nstderr:\n{StdErr}");
            throw;
        }
    }
}
