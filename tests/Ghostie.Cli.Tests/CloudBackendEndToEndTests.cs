using System.Text;
using System.Text.Json;
using Ghostie.Cli.Tests.Support;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Testing;

namespace Ghostie.Cli.Tests;

/// <summary>moto_server (S3) and Azurite (Azure Blob), started once for the class.</summary>
public sealed class CloudServersFixture : IAsyncLifetime
{
    public ServerProcess Moto { get; private set; } = null!;

    public ServerProcess Azurite { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Task<ServerProcess> moto = Servers.StartMotoAsync();
        Task<ServerProcess> azurite = Servers.StartAzuriteAsync();
        try
        {
            await Task.WhenAll(moto, azurite);
        }
        finally
        {
            // Whichever started is kept for DisposeAsync, even when the other failed.
            Moto = moto.IsCompletedSuccessfully ? moto.Result : null!;
            Azurite = azurite.IsCompletedSuccessfully ? azurite.Result : null!;
        }
    }

    public async Task DisposeAsync()
    {
        if (Moto is not null)
        {
            await Moto.DisposeAsync();
        }

        if (Azurite is not null)
        {
            await Azurite.DisposeAsync();
        }
    }
}

/// <summary><c>ghostie sync setup --backend s3|azure|gist</c> and sync between two homes, through real servers, in separate processes.</summary>
public sealed class CloudBackendEndToEndTests : IClassFixture<CloudServersFixture>, IDisposable
{
    private const string S3Secret = "s3-secret-Zq8vR2mK5pW9";
    private readonly CloudServersFixture _servers;
    private readonly Sandbox _sandbox = new();

    public CloudBackendEndToEndTests(CloudServersFixture servers) => _servers = servers;

    public void Dispose() => _sandbox.Dispose();

    private Task<CliResult> RunAsync(string device, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var variables = new Dictionary<string, string?>
        {
            ["GHOSTIE_HOME"] = Path.Combine(_sandbox.Root, "default-home"),
            ["GHOSTIE_PASSPHRASE"] = Sandbox.Passphrase,
            ["AWS_CA_BUNDLE"] = null,
            ["AWS_PROFILE"] = null,
            ["AWS_CONFIG_FILE"] = "/nonexistent",
            ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent",
        };
        foreach ((string name, string? value) in environment)
        {
            variables[name] = value;  // the test's own values win (null unsets)
        }

        return GhostieCli.RunAsync(["--home", _sandbox.Home(device), .. args], _sandbox.Root, variables);
    }

    private static Dictionary<string, string?> S3Environment(string? secret = S3Secret) => new()
    {
        ["AWS_ACCESS_KEY_ID"] = secret is null ? null : "testing-key-id",
        ["AWS_SECRET_ACCESS_KEY"] = secret,
        ["AWS_REGION"] = "us-east-1",
    };

    private string[] S3Setup(string device, string bucket, params string[] extra) =>
        ["sync", "setup", "--backend", "s3", "--endpoint", _servers.Moto.BaseUri.ToString().TrimEnd('/'), "--path-style", "--bucket", bucket, "--device", device, "--json", .. extra];

    private void AssertNoFileContains(string secret)
    {
        foreach (string file in Directory.GetFiles(_sandbox.Root, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(secret, Encoding.Latin1.GetString(File.ReadAllBytes(file)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task S3_TwoHomes_SetupPushPull_Converge_AndNoCredentialIsStored()
    {
        JsonElement laptop = (await RunAsync("laptop", S3Environment(), S3Setup("laptop", "ghostie-e2e", "--create-bucket"))).Expect(0).Json();
        Assert.True(laptop.GetProperty("created_repository").GetBoolean());
        Assert.Equal("s3", laptop.GetProperty("backend").GetString());
        Assert.Contains("ghostie-e2e", laptop.GetProperty("path").GetString(), StringComparison.Ordinal);
        JsonElement phone = (await RunAsync("phone", S3Environment(), S3Setup("phone", "ghostie-e2e"))).Expect(0).Json();
        Assert.False(phone.GetProperty("created_repository").GetBoolean());
        Assert.Equal(laptop.GetProperty("repository_id").GetString(), phone.GetProperty("repository_id").GetString());

        (await RunAsync("laptop", S3Environment(), "memory", "add", "Uses S3 for sync", "--category", "setup")).Expect(0);
        JsonElement push = (await RunAsync("laptop", S3Environment(), "sync", "push", "--json")).Expect(0).Json();
        Assert.Equal(1, push.GetProperty("uploaded").GetInt32());
        JsonElement pull = (await RunAsync("phone", S3Environment(), "sync", "pull", "--json")).Expect(0).Json();
        Assert.Equal(1, pull.GetProperty("downloaded").GetInt32());
        string listed = (await RunAsync("phone", S3Environment(), "memory", "list")).Expect(0).StdOut;
        Assert.Contains("Uses S3 for sync", listed, StringComparison.Ordinal);

        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(_sandbox.Home("laptop"), "sync", "config.json")));
        JsonElement settings = config.RootElement.GetProperty("settings");
        Assert.Equal("AWS_SECRET_ACCESS_KEY", settings.GetProperty("secret_key_env").GetString());
        Assert.Equal("ghostie-e2e", settings.GetProperty("bucket").GetString());
        AssertNoFileContains(S3Secret);
        Assert.False(File.Exists(new DeviceSecretStore(_sandbox.Home("laptop")).FilePath), "credentials from the environment are not copied to disk");
        await AssertNoStoredObjectContainsAsync(await Ghostie.Sync.Backends.S3.S3Backend.CreateAsync(new Ghostie.Sync.Backends.S3.S3BackendOptions
        {
            Bucket = "ghostie-e2e", ServiceUrl = _servers.Moto.BaseUri.ToString().TrimEnd('/'), ForcePathStyle = true, Region = "us-east-1",
            AccessKeyId = "testing-key-id", SecretAccessKey = S3Secret,
        }), "Uses S3 for sync");

        // Later, without the variables (and nothing stored on the device): exit 4 naming them, on one line.
        CliResult locked = (await RunAsync("phone", S3Environment(secret: null), "sync", "pull")).Expect(4);
        Assert.Contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", locked.StdErr, StringComparison.Ordinal);
        Assert.Single(locked.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task S3_MissingBucket_WithoutCreate_SaysToAddCreateBucket()
    {
        CliResult result = (await RunAsync("laptop", S3Environment(), S3Setup("laptop", "ghostie-no-such-bucket"))).Expect(5);
        Assert.Equal("StorageNotFound", result.Json().GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("'ghostie-no-such-bucket'", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("--create-bucket", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("never creates", result.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_sandbox.Home("laptop"), "sync", "config.json")));
    }

    [Fact]
    public async Task S3_CustomVariableNames_AndCredentialsFromTheDeviceStore()
    {
        var custom = new Dictionary<string, string?> { ["WORK_S3_ID"] = "testing-key-id", ["WORK_S3_SECRET"] = S3Secret, ["AWS_ACCESS_KEY_ID"] = null, ["AWS_SECRET_ACCESS_KEY"] = null };
        (await RunAsync("laptop", custom, S3Setup("laptop", "ghostie-custom", "--create", "--access-key-env", "WORK_S3_ID", "--secret-env", "WORK_S3_SECRET"))).Expect(0);
        string config = File.ReadAllText(Path.Combine(_sandbox.Home("laptop"), "sync", "config.json"));
        Assert.Contains("WORK_S3_SECRET", config, StringComparison.Ordinal);

        // A credential typed at the setup prompt lands in the device store; later commands find it there with no variable set.
        var store = new DeviceSecretStore(_sandbox.Home("laptop"));
        store.Set("s3.access_key_id", "testing-key-id");
        store.Set("s3.secret_access_key", S3Secret);
        (await RunAsync("laptop", S3Environment(secret: null), "memory", "add", "from the store")).Expect(0);
        JsonElement push = (await RunAsync("laptop", S3Environment(secret: null), "sync", "push", "--json")).Expect(0).Json();
        Assert.Equal(1, push.GetProperty("uploaded").GetInt32());
        AssertNoFileContains(S3Secret);

        JsonElement forget = (await RunAsync("laptop", S3Environment(secret: null), "sync", "forget", "--json")).Expect(0).Json();
        Assert.True(forget.GetProperty("credentials_forgotten").GetBoolean());
        Assert.Null(new DeviceSecretStore(_sandbox.Home("laptop")).TryGet("s3.secret_access_key"));
    }

    [Fact]
    public async Task Azure_TwoHomes_SetupPushPull_Converge()
    {
        var env = new Dictionary<string, string?> { ["AZURE_STORAGE_KEY"] = Servers.AzuriteKey };
        string endpoint = _servers.Azurite.BaseUri + Servers.AzuriteAccount;
        string[] Setup(string device, params string[] extra) =>
            ["sync", "setup", "--backend", "azure", "--endpoint", endpoint, "--account", Servers.AzuriteAccount, "--container", "ghostie-e2e", "--device", device, "--json", .. extra];

        JsonElement laptop = (await RunAsync("laptop", env, Setup("laptop", "--create-container"))).Expect(0).Json();
        Assert.True(laptop.GetProperty("created_repository").GetBoolean());
        (await RunAsync("phone", env, Setup("phone"))).Expect(0);
        (await RunAsync("phone", env, "memory", "add", "Azure works too")).Expect(0);
        (await RunAsync("phone", env, "sync", "push")).Expect(0);
        JsonElement pull = (await RunAsync("laptop", env, "sync", "pull", "--json")).Expect(0).Json();
        Assert.Equal(1, pull.GetProperty("downloaded").GetInt32());
        JsonElement status = (await RunAsync("laptop", env, "sync", "status", "--json")).Expect(0).Json();
        Assert.Equal(1, status.GetProperty("cloud_memories").GetInt32());
        AssertNoFileContains(Servers.AzuriteKey);

        // Without the variable, and with no credential stored on the device: exit 4, naming both variables, in the CLI's words.
        CliResult locked = (await RunAsync("laptop", new Dictionary<string, string?> { ["AZURE_STORAGE_KEY"] = null, ["AZURE_STORAGE_SAS_TOKEN"] = null },
            "sync", "pull", "--json")).Expect(4);
        Assert.Equal("NotConfigured", locked.Json().GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("AZURE_STORAGE_KEY", locked.StdErr, StringComparison.Ordinal);
        Assert.Contains("AZURE_STORAGE_SAS_TOKEN", locked.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("AzureBlobBackendOptions", locked.StdErr, StringComparison.Ordinal);

        await AssertNoStoredObjectContainsAsync(new Ghostie.Sync.Backends.AzureBlob.AzureBlobBackend(new Ghostie.Sync.Backends.AzureBlob.AzureBlobBackendOptions
        {
            Container = "ghostie-e2e", ServiceUri = new Uri(endpoint), AccountName = Servers.AzuriteAccount, AccountKey = Servers.AzuriteKey,
        }), "Azure works too");
    }

    /// <summary>Reads every object of the repository's storage and checks that none holds <paramref name="plaintext"/>.</summary>
    private static async Task AssertNoStoredObjectContainsAsync(Ghostie.Sync.IStorageBackend backend, string plaintext)
    {
        int objects = 0;
        try
        {
            await foreach (string name in backend.ListAsync(""))
            {
                await using Stream? stream = await backend.GetAsync(name);
                Assert.NotNull(stream);
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer);
                Assert.DoesNotContain(plaintext, Encoding.Latin1.GetString(buffer.ToArray()), StringComparison.Ordinal);
                objects++;
            }
        }
        finally
        {
            (backend as IDisposable)?.Dispose();
        }

        Assert.True(objects > 2, $"only {objects} objects were read");
    }

    [Fact]
    public async Task Azure_MissingContainer_WithoutCreate_IsAClearError()
    {
        var env = new Dictionary<string, string?> { ["AZURE_STORAGE_KEY"] = Servers.AzuriteKey };
        CliResult result = await RunAsync("laptop", env, "sync", "setup", "--backend", "azure", "--endpoint", _servers.Azurite.BaseUri + Servers.AzuriteAccount,
            "--account", Servers.AzuriteAccount, "--container", "does-not-exist", "--device", "laptop");
        Assert.Equal(5, result.ExitCode);
        Assert.Contains("does-not-exist", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("--create-container", result.StdErr, StringComparison.Ordinal); // what to do, in setup's words
        Assert.DoesNotContain("CreateContainerIfMissing", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(Servers.AzuriteKey, result.StdErr + result.StdOut, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_sandbox.Home("laptop"), "sync", "config.json")));
    }

    [Theory]
    [InlineData("--create-bucket")]
    [InlineData("--device-name")]
    public async Task S3_WithoutCredentials_NonInteractive_SaysWhatToSet_AndCreatesNothing(string extra)
    {
        string[] args = extra == "--device-name" ? S3Setup("laptop", "ghostie-nocred", extra, "Laptop") : S3Setup("laptop", "ghostie-nocred", extra);
        CliResult result = await RunAsync("laptop", S3Environment(secret: null), args);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("AWS_ACCESS_KEY_ID", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("AWS_SECRET_ACCESS_KEY", result.StdErr, StringComparison.Ordinal);
        Assert.Equal(4, result.ExitCode);
        Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("Exception 1 of", result.StdErr, StringComparison.Ordinal); // not the SDK's list of every provider it tried
        Assert.DoesNotContain("Unexpected", result.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_sandbox.Home("laptop"), "sync", "config.json")));
    }

    [Fact]
    public async Task S3_WrongSecret_ExitsElevenAsAccessDenied_WithoutTheSecret()
    {
        (await RunAsync("laptop", S3Environment(), S3Setup("laptop", "ghostie-denied", "--create-bucket"))).Expect(0);
        // moto checks credentials only once authentication is switched on (/moto-api/reset-auth: "0" = from now on, "inf" = never).
        using var http = new HttpClient { BaseAddress = _servers.Moto.BaseUri };
        using (var on = await http.PostAsync("/moto-api/reset-auth", new StringContent("0")))
        {
            on.EnsureSuccessStatusCode();
        }

        try
        {
            CliResult result = await RunAsync("laptop", S3Environment("wrong-secret-Qx7"), "sync", "push");
            Assert.Equal(11, result.ExitCode);
            Assert.DoesNotContain("wrong-secret-Qx7", result.StdErr + result.StdOut, StringComparison.Ordinal);
        }
        finally
        {
            using var off = await http.PostAsync("/moto-api/reset-auth", new StringContent("inf"));
        }
    }

    [Fact]
    public async Task S3_CreateBucket_WithoutAPassphrase_CreatesNoBucket()
    {
        var env = S3Environment();
        env["GHOSTIE_PASSPHRASE"] = null;
        CliResult result = await RunAsync("laptop", env, S3Setup("laptop", "ghostie-nopass", "--create-bucket"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("GHOSTIE_PASSPHRASE", result.StdErr, StringComparison.Ordinal);
        using var http = new HttpClient { BaseAddress = _servers.Moto.BaseUri };
        string buckets = await http.GetStringAsync("/");
        Assert.Contains("ListAllMyBucketsResult", buckets, StringComparison.Ordinal);
        Assert.DoesNotContain("ghostie-nopass", buckets, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://acct.blob.core.windows.net/?sv=2021-12-02&sig=SECRETSIG123")]
    [InlineData("https://user:hunter2@minio.example.com")]
    [InlineData("not a url")]
    public async Task Setup_EndpointCarryingCredentialsOrMalformed_IsRefused_AndNothingIsWritten(string endpoint)
    {
        CliResult result = await RunAsync("laptop", new Dictionary<string, string?> { ["AZURE_STORAGE_KEY"] = Servers.AzuriteKey }, "sync", "setup", "--backend", "azure",
            "--endpoint", endpoint, "--account", "acct", "--container", "ghostie", "--device", "laptop");
        Assert.Equal(ExitCodesUsage, result.ExitCode);
        Assert.Contains("--endpoint", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETSIG123", result.StdErr + result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", result.StdErr + result.StdOut, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_sandbox.Home("laptop")) && File.Exists(Path.Combine(_sandbox.Home("laptop"), "sync", "config.json")));
    }

    [Theory]
    [InlineData("s3", "--bucket")]
    [InlineData("azure", "--container")]
    [InlineData("ftp", "Use one of")]
    public async Task Setup_WithMissingOrUnknownBackendOptions_IsAUsageError(string backend, string expected)
    {
        CliResult result = await RunAsync("laptop", new Dictionary<string, string?>(), "sync", "setup", "--backend", backend, "--device", "laptop");
        Assert.Equal(ExitCodesUsage, result.ExitCode);
        Assert.Contains(expected, result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gist_TwoHomes_SetupPushPull_Converge_ThroughTheProtocolDouble()
    {
        const string token = "ghp_e2eTokenValue0123456789abcdefABCDEF";
        await using var github = new GistDouble(token);
        var env = new Dictionary<string, string?> { ["GHOSTIE_GITHUB_TOKEN"] = token, ["GITHUB_TOKEN"] = null };
        string[] Setup(string device) =>
            ["sync", "setup", "--backend", "gist", "--endpoint", github.BaseUri.ToString(), "--tag", "e2e", "--device", device, "--json"];

        // With --verbose the backend's own log events reach stderr (the factory hands it the CLI's loggers).
        CliResult laptopSetup = (await RunAsync("laptop", env, ["--verbose", .. Setup("laptop")])).Expect(0);
        JsonElement laptop = laptopSetup.Json();
        Assert.Contains("[Ghostie.Sync.Backends.GitHubGist.GitHubGistBackend 4104]", laptopSetup.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(token, laptopSetup.StdErr, StringComparison.Ordinal);
        Assert.True(laptop.GetProperty("created_repository").GetBoolean());
        Assert.Equal("gist", laptop.GetProperty("backend").GetString());
        JsonElement phone = (await RunAsync("phone", env, Setup("phone"))).Expect(0).Json();
        Assert.False(phone.GetProperty("created_repository").GetBoolean());
        (await RunAsync("laptop", env, "memory", "add", "Gists hold my memories")).Expect(0);
        (await RunAsync("laptop", env, "sync", "push")).Expect(0);
        JsonElement pull = (await RunAsync("phone", env, "sync", "pull", "--json")).Expect(0).Json();
        Assert.Equal(1, pull.GetProperty("downloaded").GetInt32());
        Assert.Contains("Gists hold my memories", (await RunAsync("phone", env, "memory", "list")).Expect(0).StdOut, StringComparison.Ordinal);
        AssertNoFileContains(token);

        // A revoked token: the double answers 401, the CLI exits 11 without printing the token.
        CliResult denied = await RunAsync("phone", new Dictionary<string, string?> { ["GHOSTIE_GITHUB_TOKEN"] = "ghp_revokedToken000000000000000000000000" }, "sync", "pull");
        Assert.Equal(11, denied.ExitCode);
        Assert.DoesNotContain("ghp_revoked", denied.StdErr + denied.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gist_WithoutAToken_NonInteractive_SaysWhichVariableToSet()
    {
        var env = new Dictionary<string, string?> { ["GHOSTIE_GITHUB_TOKEN"] = null, ["GITHUB_TOKEN"] = null };
        CliResult result = await RunAsync("laptop", env, "sync", "setup", "--backend", "gist", "--endpoint", "http://127.0.0.1:9/", "--device", "laptop");
        Assert.Equal(4, result.ExitCode); // not configured: the credential is found nowhere (docs/cli.md)
        Assert.Contains("GHOSTIE_GITHUB_TOKEN", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("GITHUB_TOKEN", result.StdErr, StringComparison.Ordinal);
        Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private const int ExitCodesUsage = 1;
}
