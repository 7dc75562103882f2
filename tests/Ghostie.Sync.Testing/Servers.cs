namespace Ghostie.Sync.Testing;

/// <summary>Starts each real server the tests use, as PACKAGES.md documents it (all on 127.0.0.1).</summary>
public static class Servers
{
    /// <summary>moto_server (S3; honours If-None-Match / If-Match).</summary>
    public static Task<ServerProcess> StartMotoAsync() =>
        ServerProcess.StartAsync("moto_server", "moto_server", port => ["-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    /// <summary>s3rver (S3; ignores conditional writes). Stores its data under <paramref name="directory"/>.</summary>
    /// <param name="directory">A fresh folder for the server's data.</param>
    public static Task<ServerProcess> StartS3rverAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        return ServerProcess.StartAsync("s3rver", ServerProcess.NpmProgram("s3rver"),
            port => ["-d", directory, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent"],
            new Dictionary<string, string> { ["NODE_OPTIONS"] = "--openssl-legacy-provider" });
    }

    /// <summary>Azurite's blob service, in memory (Azurite refuses --location together with --inMemoryPersistence), with
    /// the well-known development account.</summary>
    public static Task<ServerProcess> StartAzuriteAsync() =>
        ServerProcess.StartAsync("azurite-blob", ServerProcess.NpmProgram("azurite-blob"),
            port => ["--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--inMemoryPersistence", "--disableProductStyleUrl", "--disableTelemetry", "--silent", "--skipApiVersionCheck"]);

    /// <summary>Azurite's blob service over https with basic OAuth (<c>--oauth basic</c>: bearer tokens are decoded and
    /// their lifetime, issuer and audience checked, their signature not), in memory.</summary>
    /// <param name="certPem">The server certificate (PEM).</param>
    /// <param name="keyPem">Its private key (PEM).</param>
    public static Task<ServerProcess> StartAzuriteOAuthAsync(string certPem, string keyPem) =>
        ServerProcess.StartAsync("azurite-blob (https, oauth)", ServerProcess.NpmProgram("azurite-blob"),
            port => ["--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--inMemoryPersistence", "--disableProductStyleUrl", "--disableTelemetry", "--silent", "--skipApiVersionCheck",
                "--cert", certPem, "--key", keyPem, "--oauth", "basic"]);

    /// <summary>PGlite (PostgreSQL in WASM) with pgvector over the wire protocol.</summary>
    public static Task<ServerProcess> StartPgliteAsync() =>
        ServerProcess.StartAsync("pglite-server", ServerProcess.NpmProgram("pglite-server"),
            port => ["-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-e", "@electric-sql/pglite-pgvector:vector", "-m", "4"],
            startTimeout: TimeSpan.FromSeconds(60));

    /// <summary>The well-known Azurite development account name.</summary>
    public const string AzuriteAccount = "devstoreaccount1";

    /// <summary>The well-known Azurite development account key (public, documented by Microsoft; not a secret).</summary>
    public const string AzuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
}
