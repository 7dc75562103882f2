using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ghostie.Sync.Testing;

/// <summary>
/// A real server started for tests on 127.0.0.1 and a free port, stopped (with its process tree) on dispose.
/// Server programs come from PATH (moto_server) or from tests/servers/node_modules/.bin, which scripts/test.sh
/// installs with npm; a missing program fails the test with the command that installs it.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;

    private ServerProcess(Process process, StringBuilder output, int port, string name)
    {
        _process = process;
        _output = output;
        Port = port;
        Name = name;
    }

    /// <summary>The port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The server's short name, for messages.</summary>
    public string Name { get; }

    /// <summary>The base URL, http://127.0.0.1:PORT.</summary>
    public Uri BaseUri => new($"http://127.0.0.1:{Port}");

    /// <summary>The server's output so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The repository root (the folder holding Ghostie.Sync.sln), found from the test's base directory.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Ghostie.Sync.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("Ghostie.Sync.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The path of an npm-installed server program under tests/servers/node_modules/.bin.</summary>
    /// <param name="program">The program name, for example "azurite-blob".</param>
    public static string NpmProgram(string program)
    {
        string path = Path.Combine(RepositoryRoot, "tests", "servers", "node_modules", ".bin", program);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"Test server '{program}' is not installed ({path} is missing). Run 'bash scripts/test.sh', or 'npm ci --prefix tests/servers'.");
        }

        return path;
    }

    /// <summary>A port that was free a moment ago (the OS picks it; below 32768 is not guaranteed, so we pick
    /// randomly from 20000-32000 and probe).</summary>
    public static int FreePort()
    {
        for (int i = 0; i < 200; i++)
        {
            int port = Random.Shared.Next(20_000, 32_000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("No free port found between 20000 and 32000.");
    }

    /// <summary>Starts <paramref name="fileName"/> with arguments built for a free port and waits until the port accepts connections.</summary>
    /// <param name="name">A short name for messages.</param>
    /// <param name="fileName">The program.</param>
    /// <param name="arguments">Builds the arguments from the chosen port.</param>
    /// <param name="environment">Extra environment variables.</param>
    /// <param name="startTimeout">How long to wait for the port (default 30 s).</param>
    public static async Task<ServerProcess> StartAsync(string name, string fileName, Func<int, IEnumerable<string>> arguments,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? startTimeout = null)
    {
        Exception? last = null;
        for (int tries = 0; tries < 3; tries++)
        {
            int port = FreePort();
            var info = new ProcessStartInfo(fileName)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in arguments(port))
            {
                info.ArgumentList.Add(argument);
            }

            foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
            {
                info.Environment[key] = value;
            }

            var output = new StringBuilder();
            var process = new Process { StartInfo = info };
            process.OutputDataReceived += (_, e) => Append(output, e.Data);
            process.ErrorDataReceived += (_, e) => Append(output, e.Data);
            try
            {
                if (!process.Start())
                {
                    throw new InvalidOperationException($"Could not start {name} ({fileName}).");
                }
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                process.Dispose();
                throw new InvalidOperationException(
                    $"Test server '{name}' could not be started: '{fileName}' was not found or is not executable ({e.Message}). Run 'bash scripts/test.sh', which installs it.", e);
            }

            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new ServerProcess(process, output, port, name);
            try
            {
                await server.WaitForPortAsync(startTimeout ?? TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                return server;
            }
            catch (Exception e)
            {
                last = e;
                await server.DisposeAsync().ConfigureAwait(false);
            }
        }

        throw new InvalidOperationException($"{name} did not start: {last?.Message}", last);
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            if (output.Length < 64_000)
            {
                output.AppendLine(line);
            }
        }
    }

    private async Task WaitForPortAsync(TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode}: {Output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port).ConfigureAwait(false);
                // Another program may have taken the port between the probe and our server's bind: then our server
                // exits with "address in use" while the connection reached the other program. Make sure ours lives.
                await Task.Delay(150).ConfigureAwait(false);
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} right after port {Port} answered (taken by another program?): {Output}");
                }

                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
        }

        throw new TimeoutException($"{Name} did not listen on port {Port} within {timeout.TotalSeconds:0} s: {Output}");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (OperationCanceledException)
        {
        }

        _process.Dispose();
    }
}
