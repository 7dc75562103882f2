using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

namespace Ghostie.Sync.Testing;

/// <summary>
/// A real redis-server (the Debian package, installed by scripts/test.sh) on 127.0.0.1 and a free port below 32768,
/// with an append-only file fsynced on every write so that a killed server restarts with what it acknowledged.
/// Each test (or test class) starts its own and stops it on dispose.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string[] _extra;
    private readonly StringBuilder _output = new();
    private Process? _process;
    private ConnectionMultiplexer? _admin;

    private RedisServer(int port, string directory, string[] extra)
    {
        Port = port;
        Directory = directory;
        _extra = extra;
    }

    public int Port { get; }

    public string Directory { get; }

    /// <summary>The configuration string of a client without credentials.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync(params string[] extra)
    {
        string directory = Path.Combine(Path.GetTempPath(), "ghostie-redis-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var server = new RedisServer(ServerProcess.FreePort(), directory, extra);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>An admin connection (password from the server's own arguments): CONFIG, DEBUG, CLIENT, SCAN.</summary>
    public async Task<IDatabase> AdminAsync()
    {
        if (_admin is null || !_admin.IsConnected)
        {
            var options = ConfigurationOptions.Parse(Configuration);
            options.AllowAdmin = true;
            int pass = Array.IndexOf(_extra, "--requirepass");
            if (pass >= 0)
            {
                options.Password = _extra[pass + 1];
            }

            _admin?.Dispose();
            _admin = await ConnectionMultiplexer.ConnectAsync(options);
        }

        return _admin.GetDatabase();
    }

    public async Task<IServer> AdminServerAsync()
    {
        await AdminAsync();
        return _admin!.GetServer(_admin.GetEndPoints()[0]);
    }

    /// <summary>Every key and its value, for checks of what Redis holds.</summary>
    public async Task<Dictionary<string, byte[]>> DumpAsync()
    {
        IDatabase db = await AdminAsync();
        IServer server = await AdminServerAsync();
        var all = new Dictionary<string, byte[]>();
        await foreach (RedisKey key in server.KeysAsync(pattern: "*"))
        {
            if (await db.KeyTypeAsync(key) == RedisType.String)
            {
                all[key.ToString()] = (byte[])(await db.StringGetAsync(key))!;
            }
        }

        return all;
    }

    /// <summary>Kills the server with SIGKILL (no shutdown, no save), as a crash would.</summary>
    public async Task KillAsync()
    {
        _admin?.Dispose();
        _admin = null;
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Starts the server again on the same port and folder (it replays its append-only file).</summary>
    public Task RestartAsync() => StartProcessAsync();

    private async Task StartProcessAsync()
    {
        var info = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in (string[])["--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", Directory,
                     "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--enable-debug-command", "yes", "--daemonize", "no", .. _extra])
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed: run 'bash scripts/test.sh' as root (it installs the Debian package), or 'apt-get install redis-server'.", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {process.ExitCode}: {Output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(25);
            }
        }

        throw new TimeoutException($"redis-server did not listen on {Port}: {Output}");
    }

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

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
