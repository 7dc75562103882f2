using Ghostie.Sync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

using Ghostie.Sync.Backends.AzureBlob;

namespace Ghostie.Sync.Tests;

/// <summary>The Azure factory rebuilds a registered backend from the settings setup saves, and the health check probes it, on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobFactoryAndHealthTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Factory_SettingsFromOptions_ReachTheSameBlobs_WithTheKeyFromItsVariable()
    {
        using AzureBlobBackend written = await azurite.NewBackendAsync(o => o.Prefix = "alice");
        AzureBlobBackendOptions options = azurite.Options(ContainerOf(written));
        options.Prefix = "alice";
        var factory = new AzureBlobBackendFactory();
        Dictionary<string, string> settings = factory.GetSettings(options);
        Assert.DoesNotContain(Servers.AzuriteKey, string.Join(";", settings.Values), StringComparison.Ordinal);
        Assert.Equal(("AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "alice"), (settings["key_env"], settings["sas_env"], settings["prefix"]));

        await written.PutAsync("h/one", new MemoryStream([4, 5]));
        var variables = new Dictionary<string, string> { ["AZURE_STORAGE_KEY"] = Servers.AzuriteKey };
        IStorageBackend rebuilt = await factory.CreateAsync(settings, new EnvironmentSecretSource(variables.GetValueOrDefault));
        using (rebuilt as IDisposable)
        {
            Assert.Equal(written.DisplayName, rebuilt.DisplayName);
            Assert.Equal(new byte[] { 4, 5 }, await StorageReads.ReadAllAsync(rebuilt, "h/one"));
        }
    }

    [Fact]
    public void Factory_ConnectionString_SavesAccountAndEndpoint_NeverTheString()
    {
        string connection = $"DefaultEndpointsProtocol=http;AccountName={Servers.AzuriteAccount};AccountKey={Servers.AzuriteKey};BlobEndpoint={azurite.ServiceUri}";
        Dictionary<string, string> settings = new AzureBlobBackendFactory().GetSettings(new AzureBlobBackendOptions { ConnectionString = connection, Container = "ghostie" });

        Assert.Equal(Servers.AzuriteAccount, settings["account"]);
        Assert.Equal(azurite.ServiceUri.ToString().TrimEnd('/'), settings["endpoint"]);
        Assert.DoesNotContain(Servers.AzuriteKey, string.Join(";", settings.Values), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Factory_NoCredentialAnywhere_IsMissingBackendCredential_NamingBothVariables()
    {
        var settings = new Dictionary<string, string> { ["container"] = "ghostie", ["endpoint"] = azurite.ServiceUri.ToString(), ["key_env"] = "MY_KEY" };

        MissingBackendCredentialException error = await Assert.ThrowsAsync<MissingBackendCredentialException>(
            () => new AzureBlobBackendFactory().CreateAsync(settings, new EnvironmentSecretSource(_ => null)));

        Assert.Equal(GhostieErrorCode.NotConfigured, error.Code);
        Assert.Contains("Azure container 'ghostie'", error.Message, StringComparison.Ordinal);
        Assert.Contains("MY_KEY (the account key) or AZURE_STORAGE_SAS_TOKEN (a SAS token)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Factory_TypedSasToken_IsKeptAsTheSasToken_NotAsTheAccountKey()
    {
        var source = new AskingSource("sv=2021-12-02&ss=b&srt=sco&sp=rwdl&sig=abc%3D");
        var settings = new Dictionary<string, string> { ["container"] = "ghostie", ["endpoint"] = azurite.ServiceUri.ToString() };

        using var backend = (AzureBlobBackend)await new AzureBlobBackendFactory().CreateAsync(settings, source);

        Assert.Equal(["azure.sas_token"], source.Kept.Keys);
        Assert.Contains("AZURE_STORAGE_KEY", Assert.Single(source.Prompts), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthCheck_ExistingContainer_IsHealthy_WrongKey_IsUnhealthyWithoutTheKey()
    {
        using AzureBlobBackend existing = await azurite.NewBackendAsync();
        string container = ContainerOf(existing);
        HealthReportEntry healthy = await CheckAsync(b => b.AddAzureBlobBackend(o => (o.ServiceUri, o.AccountKey, o.Container) = (azurite.ServiceUri, Servers.AzuriteKey, container)));
        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Contains($"The azure backend (Azure container '{container}'", healthy.Description, StringComparison.Ordinal);

        string wrongKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64));
        HealthReportEntry refused = await CheckAsync(b => b.AddAzureBlobBackend(o => (o.ServiceUri, o.AccountKey, o.Container) = (azurite.ServiceUri, wrongKey, container)));
        Assert.Equal(HealthStatus.Unhealthy, refused.Status);
        Assert.Contains("The azure backend", refused.Description, StringComparison.Ordinal);
        Assert.Contains(container, refused.Description, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, refused.Description + string.Join(";", refused.Data.Values), StringComparison.Ordinal);
        Assert.Null(refused.Exception);
    }

    private static string ContainerOf(AzureBlobBackend backend) =>
        backend.DisplayName.Split('\'')[1];  // "Azure container 'NAME' at ..."

    private static async Task<HealthReportEntry> CheckAsync(Action<IGhostieSyncBuilder> register)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        register(services.AddGhostieSync(o => o.Home = Path.GetTempPath()));
        services.AddHealthChecks().AddGhostieHealthChecks();
        await using ServiceProvider provider = services.BuildServiceProvider();
        return Assert.Single((await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries).Value;
    }

    /// <summary>A host's source that has nothing stored and answers every question with one typed value.</summary>
    private sealed class AskingSource(string answer) : IBackendSecretSource
    {
        public List<string> Prompts { get; } = [];

        public Dictionary<string, string> Kept { get; } = [];

        public string? GetSecret(BackendSecret secret) => null;

        public string? AskSecret(BackendSecret secret, string prompt, bool echo)
        {
            Prompts.Add(prompt);
            return answer;
        }

        public void KeepSecret(BackendSecret secret, string value) => Kept[secret.Name] = value;
    }
}
