using System.Text;
using System.Text.Json;
using Ghostie.Cli.Tests.Support;
using Ghostie.Sync.Testing;

namespace Ghostie.Cli.Tests;

/// <summary>A PostgreSQL 15 server for the class, with a role that owns a database (the schema is created on first use).</summary>
public sealed class PostgresCliFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public string Password { get; } = "cli-pg-" + Guid.NewGuid().ToString("N")[..14];

    public string ConnectionString(string? password = null) => Server.ConnectionString("cli_user", password ?? Password, "ghostie");

    public async Task InitializeAsync()
    {
        Server = await PostgresServer.StartAsync();
        await Server.ExecuteAsync($"CREATE ROLE cli_user LOGIN PASSWORD '{Password}'");
        await Server.ExecuteAsync("CREATE DATABASE ghostie OWNER cli_user");
    }

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

/// <summary><c>ghostie sync setup --backend postgres</c>: two homes sync through one database, the connection string only
/// ever in the environment variable named at setup.</summary>
public sealed class PostgresEndToEndTests(PostgresCliFixture postgres) : IClassFixture<PostgresCliFixture>, IDisposable
{
    private const string Variable = "MY_GHOSTIE_PG";
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private Task<CliResult> RunAsync(string device, string? connectionString, params string[] args) =>
        GhostieCli.RunAsync(["--home", _sandbox.Home(device), .. args], _sandbox.Root, new Dictionary<string, string?>
        {
            ["GHOSTIE_HOME"] = Path.Combine(_sandbox.Root, "default-home"),
            ["GHOSTIE_PASSPHRASE"] = Sandbox.Passphrase,
            [Variable] = connectionString,
            ["GHOSTIE_PG_CONNECTION"] = null,
        });

    private static string[] Setup(string device, params string[] extra) =>
        ["sync", "setup", "--backend", "postgres", "--repository", "notes", "--secret-env", Variable, "--device", device, "--json", .. extra];

    [Fact]
    public async Task TwoHomes_SetupPushPull_Converge_AndTheConnectionStringIsNeverStored()
    {
        JsonElement laptop = (await RunAsync("laptop", postgres.ConnectionString(), Setup("laptop"))).Expect(0).Json();
        Assert.True(laptop.GetProperty("created_repository").GetBoolean());
        Assert.Equal("postgres", laptop.GetProperty("backend").GetString());
        Assert.Contains("PostgreSQL repository 'notes'", laptop.GetProperty("path").GetString(), StringComparison.Ordinal);
        JsonElement phone = (await RunAsync("phone", postgres.ConnectionString(), Setup("phone"))).Expect(0).Json();
        Assert.False(phone.GetProperty("created_repository").GetBoolean());
        Assert.Equal(laptop.GetProperty("repository_id").GetString(), phone.GetProperty("repository_id").GetString());

        (await RunAsync("laptop", postgres.ConnectionString(), "memory", "add", "Uses PostgreSQL for sync", "--category", "setup")).Expect(0);
        Assert.Equal(1, (await RunAsync("laptop", postgres.ConnectionString(), "sync", "push", "--json")).Expect(0).Json().GetProperty("uploaded").GetInt32());
        Assert.Equal(1, (await RunAsync("phone", postgres.ConnectionString(), "sync", "pull", "--json")).Expect(0).Json().GetProperty("downloaded").GetInt32());
        Assert.Contains("Uses PostgreSQL for sync", (await RunAsync("phone", postgres.ConnectionString(), "memory", "list")).Expect(0).StdOut, StringComparison.Ordinal);

        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(_sandbox.Home("laptop"), "sync", "config.json")));
        JsonElement settings = config.RootElement.GetProperty("settings");
        Assert.Equal(Variable, settings.GetProperty("connection_env").GetString());
        Assert.Equal("notes", settings.GetProperty("repository").GetString());
        foreach (string file in Directory.GetFiles(_sandbox.Root, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(postgres.Password, Encoding.Latin1.GetString(File.ReadAllBytes(file)), StringComparison.Ordinal);
        }

        List<object?> plaintext = await postgres.Server.QueryAsync(
            "SELECT count(*) FROM ghostie.chunks WHERE position(convert_to('Uses PostgreSQL', 'UTF8') IN data) > 0", "ghostie");
        Assert.Equal(0L, plaintext.Single());

        // Without the variable: exit 4 naming it, on one line. With a wrong password: exit 11, the password nowhere.
        CliResult missing = (await RunAsync("phone", null, "sync", "pull")).Expect(4);
        Assert.Contains(Variable, missing.StdErr, StringComparison.Ordinal);
        Assert.Single(missing.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        const string wrong = "not-the-password-Kq2";
        CliResult refused = (await RunAsync("phone", postgres.ConnectionString(wrong), "sync", "pull")).Expect(11);
        Assert.Contains("refused the login", refused.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, refused.StdErr + refused.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain(postgres.Password, refused.StdErr + refused.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Setup_WithAWrongPassword_AMissingDatabase_OrAnotherRolesRepository_FailsTyped_AndWritesNoConfig()
    {
        const string wrong = "wrong-setup-pw-7Hq";
        CliResult refused = (await RunAsync("laptop", postgres.ConnectionString(wrong), Setup("laptop"))).Expect(11);
        Assert.Contains("refused the login", refused.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, refused.StdErr + refused.StdOut, StringComparison.Ordinal);

        string noDatabase = postgres.Server.ConnectionString("cli_user", postgres.Password, "no_such_database");
        CliResult missing = (await RunAsync("laptop", noDatabase, Setup("laptop"))).Expect(5);
        Assert.Contains("no_such_database", missing.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(postgres.Password, missing.StdErr + missing.StdOut, StringComparison.Ordinal);

        // Another login role claims "taken" first; this one is refused and told what to do.
        string other = "other-" + Guid.NewGuid().ToString("N")[..10];
        await postgres.Server.ExecuteAsync($"CREATE ROLE other_user LOGIN PASSWORD '{other}'");
        await postgres.Server.ExecuteAsync("GRANT CONNECT ON DATABASE ghostie TO other_user");
        await using (var claim = new Ghostie.Sync.Backends.Postgres.PostgresBackend(new Ghostie.Sync.Backends.Postgres.PostgresBackendOptions
        {
            ConnectionString = postgres.ConnectionString(), Repository = "taken",
        }))
        {
            await claim.InitializeAsync();
        }

        await Ghostie.Sync.Backends.Postgres.PostgresSchema.GrantTenantAsync(postgres.ConnectionString(), "other_user");
        CliResult foreign = (await RunAsync("laptop", postgres.Server.ConnectionString("other_user", other, "ghostie"),
            ["sync", "setup", "--backend", "postgres", "--repository", "taken", "--secret-env", Variable, "--device", "laptop"])).Expect(11);
        Assert.Contains("belongs to another role", foreign.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_sandbox.Home("laptop"), "sync", "config.json")));
    }
}
