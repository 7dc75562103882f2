using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace Ghostie.Sync.Testing;

/// <summary>
/// A real PostgreSQL 15 server for tests: a fresh cluster initialized (initdb) in a temporary folder, listening on
/// 127.0.0.1 and a free port below 32768, with password (SCRAM) authentication and fsync off. Run as the postgres user
/// when the tests run as root (initdb refuses root). The server runs under a small shell that stops it when its standard
/// input closes, so it also stops when the test process dies. Disposing stops it and deletes the folder.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _bin;
    private Process? _process;
    private readonly StringBuilder _output = new();

    private PostgresServer(string directory, string bin, string superPassword)
    {
        _directory = directory;
        _bin = bin;
        SuperPassword = superPassword;
    }

    /// <summary>The port the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>The superuser's password (random per server).</summary>
    public string SuperPassword { get; }

    private string DataDirectory => Path.Combine(_directory, "data");

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>Where the PostgreSQL programs are: GHOSTIE_PG_BIN, else Debian's /usr/lib/postgresql/15/bin.</summary>
    public static string BinDirectory()
    {
        string bin = Environment.GetEnvironmentVariable("GHOSTIE_PG_BIN") is { Length: > 0 } configured ? configured : "/usr/lib/postgresql/15/bin";
        if (!File.Exists(Path.Combine(bin, "initdb")) || !File.Exists(Path.Combine(bin, "postgres")))
        {
            throw new InvalidOperationException(
                $"PostgreSQL 15 is not installed ({bin}/initdb is missing). Install it (Debian: apt-get install postgresql-15), or set GHOSTIE_PG_BIN to the folder holding initdb and postgres.");
        }

        return bin;
    }

    /// <summary>Initializes a cluster and starts it.</summary>
    public static async Task<PostgresServer> StartAsync()
    {
        string bin = BinDirectory();
        string directory = Path.Combine(IsRoot ? "/tmp" : Path.GetTempPath(), "ghostie-pg-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(directory);
        var server = new PostgresServer(directory, bin, "pg-super-" + Guid.NewGuid().ToString("N")[..16]);
        try
        {
            string passwordFile = Path.Combine(directory, "superuser.pw");
            await File.WriteAllTextAsync(passwordFile, server.SuperPassword + "\n");
            if (IsRoot)
            {
                await RunAsync("chown", ["-R", "postgres:postgres", directory]);
            }

            await server.RunAsServerUserAsync(Path.Combine(bin, "initdb"),
                ["-D", server.DataDirectory, "-U", "postgres", "-A", "scram-sha-256", "--pwfile", passwordFile, "--no-sync",
                 "--no-instructions", "-E", "UTF8", "--locale", "C"]);
            File.Delete(passwordFile);
            await server.StartServerAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A connection string to <paramref name="database"/> as <paramref name="user"/>.</summary>
    public string ConnectionString(string user, string password, string database = "postgres") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = user,
            Password = password,
            Database = database,
            Timeout = 5,
        }.ConnectionString;

    /// <summary>A superuser connection string.</summary>
    public string AdminConnectionString(string database = "postgres") => ConnectionString("postgres", SuperPassword, database);

    /// <summary>Runs SQL as the superuser.</summary>
    public async Task ExecuteAsync(string sql, string database = "postgres")
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs a query as the superuser and returns the first column of every row.</summary>
    public async Task<List<object?>> QueryAsync(string sql, string database = "postgres")
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        var values = new List<object?>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.IsDBNull(0) ? null : reader.GetValue(0));
        }

        return values;
    }

    /// <summary>Stops the server (fast shutdown), keeping its data, as a server going away would.</summary>
    public async Task StopServerAsync()
    {
        if (_process is null)
        {
            return;
        }

        Process process = _process;
        _process = null;
        try
        {
            process.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }

        process.Dispose();
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Starts the server on its data folder (again, after <see cref="StopServerAsync"/>: on the same port).</summary>
    public async Task StartServerAsync()
    {
        Exception? last = null;
        for (int tries = 0; tries < 3; tries++)
        {
            if (Port == 0 || tries > 0)
            {
                Port = ServerProcess.FreePort();
            }

            string postgres = Path.Combine(_bin, "postgres");
            string port = Port.ToString(CultureInfo.InvariantCulture);
            // The shell stops the server (SIGINT: fast shutdown) when its standard input closes: when we close it, or
            // when this process dies and the kernel closes the pipe.
            string script = $"'{postgres}' -D '{DataDirectory}' -c listen_addresses=127.0.0.1 -p {port} -k '{_directory}' "
                + "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 & p=$!; cat >/dev/null; kill -INT $p; wait $p";
            var info = IsRoot
                ? new ProcessStartInfo("runuser") { ArgumentList = { "-u", "postgres", "--", "/bin/sh", "-c", script } }
                : new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", script } };
            info.RedirectStandardInput = true;
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            info.UseShellExecute = false;
            var process = new Process { StartInfo = info };
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
            try
            {
                await WaitReadyAsync(process);
                return;
            }
            catch (Exception e)
            {
                last = e;
                await StopServerAsync();
            }
        }

        throw new InvalidOperationException($"PostgreSQL did not start: {last?.Message}", last);
    }

    private async Task WaitReadyAsync(Process process)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"postgres exited with code {process.ExitCode}: {Output}");
            }

            try
            {
                await using var connection = new NpgsqlConnection(AdminConnectionString() + ";Pooling=false");
                await connection.OpenAsync();
                return;
            }
            catch (NpgsqlException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"PostgreSQL did not accept connections on port {Port} within 30 s: {Output}");
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
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 64_000)
            {
                _output.AppendLine(line);
            }
        }
    }

    private async Task RunAsServerUserAsync(string program, IEnumerable<string> arguments)
    {
        if (IsRoot)
        {
            await RunAsync("runuser", ["-u", "postgres", "--", program, .. arguments]);
        }
        else
        {
            await RunAsync(program, arguments);
        }
    }

    private static async Task RunAsync(string program, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed with code {process.ExitCode}: {await output}{await error}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopServerAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
