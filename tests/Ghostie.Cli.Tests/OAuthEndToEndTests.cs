using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Ghostie.Cli.Tests.Support;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Testing;

namespace Ghostie.Cli.Tests;

/// <summary>
/// <c>ghostie sync setup --backend drive|dropbox</c> and <c>ghostie sync credentials rotate</c> end to end, in separate
/// processes, against the OAuth doubles and the Drive and Dropbox doubles. The test plays the person's browser: $BROWSER is
/// a script that records the address the CLI opens; the test fetches it (the double consents and redirects) and follows
/// the redirect to the CLI's loopback listener. The paste flow writes the redirected address (Google) or the code shown on
/// the page (Dropbox) to the CLI's stdin.
/// </summary>
public sealed class OAuthEndToEndTests : IAsyncLifetime
{
    private const string DriveClientId = "123-e2e.apps.googleusercontent.com";
    private const string DriveClientSecret = "GOCSPX-e2e-client-SECRET";
    private const string DropboxAppKey = "e2eappkey";
    private readonly Sandbox _sandbox = new();
    private readonly int _dropboxPort = ServerProcess.FreePort();
    private DriveDouble _drive = null!;
    private DropboxDouble _dropbox = null!;
    private OAuthDouble _google = null!;
    private OAuthDouble _dropboxAuth = null!;
    private string _browser = null!;
    private string _opened = null!;

    public Task InitializeAsync()
    {
        _drive = new DriveDouble("ya29.unused-initial");
        _google = new OAuthDouble(OAuthProviderKind.Google);
        _google.RegisterClient(DriveClientId, DriveClientSecret);
        _google.AccessTokenIssued = (token, scopes) => _drive.AddToken(token, scopes);
        _google.AccessTokenRevoked = _drive.RevokeToken;

        _dropbox = new DropboxDouble("sl.unused-initial");
        _dropboxAuth = new OAuthDouble(OAuthProviderKind.Dropbox);
        _dropboxAuth.RegisterClient(DropboxAppKey, secret: null, $"http://127.0.0.1:{_dropboxPort}/");
        _dropboxAuth.AccessTokenIssued = (token, scopes) => _dropbox.AddToken(token, scopes);
        _dropboxAuth.AccessTokenRevoked = _dropbox.RevokeToken;

        // $BROWSER: records the address it was asked to open, as a browser would receive it.
        _opened = Path.Combine(_sandbox.Root, "opened-url");
        _browser = Path.Combine(_sandbox.Root, "browser.sh");
        File.WriteAllText(_browser, $"#!/bin/sh\nprintf '%s' \"$1\" > '{_opened}.tmp' && mv '{_opened}.tmp' '{_opened}'\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_browser, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _google.DisposeAsync();
        await _dropboxAuth.DisposeAsync();
        await _drive.DisposeAsync();
        await _dropbox.DisposeAsync();
        _sandbox.Dispose();
    }

    private Dictionary<string, string?> Environment(bool browser) => new()
    {
        ["GHOSTIE_HOME"] = Path.Combine(_sandbox.Root, "default-home"),
        ["GHOSTIE_PASSPHRASE"] = Sandbox.Passphrase,
        ["BROWSER"] = browser ? _browser : null,
        ["DISPLAY"] = null,
        ["WAYLAND_DISPLAY"] = null,
        ["GHOSTIE_DRIVE_CLIENT_SECRET"] = DriveClientSecret,
        ["GHOSTIE_DRIVE_ACCESS_TOKEN"] = null,
        ["GHOSTIE_DRIVE_REFRESH_TOKEN"] = null,
        ["GHOSTIE_DROPBOX_ACCESS_TOKEN"] = null,
        ["GHOSTIE_DROPBOX_REFRESH_TOKEN"] = null,
    };

    private string[] DriveSetup(string device, params string[] extra) =>
        ["--home", _sandbox.Home(device), "sync", "setup", "--backend", "drive", "--client-id", DriveClientId, "--endpoint", _drive.BaseUri.ToString(),
            "--auth-url", _google.AuthorizationEndpoint.ToString(), "--token-url", _google.TokenEndpoint.ToString(), "--device", device, "--json", .. extra];

    private string[] DropboxSetup(string device, params string[] extra) =>
        ["--home", _sandbox.Home(device), "sync", "setup", "--backend", "dropbox", "--client-id", DropboxAppKey, "--endpoint", _dropbox.ApiUri.ToString(),
            "--content-endpoint", _dropbox.ContentUri.ToString(), "--redirect-port", _dropboxPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--auth-url", _dropboxAuth.AuthorizationEndpoint.ToString(), "--token-url", _dropboxAuth.TokenEndpoint.ToString(), "--device", device, "--json", .. extra];

    private Task<CliResult> RunAsync(string device, params string[] args) =>
        GhostieCli.RunAsync(["--home", _sandbox.Home(device), .. args], _sandbox.Root, Environment(browser: false));

    /// <summary>Runs the CLI with $BROWSER set and plays the browser once it was opened: the authorize address is fetched,
    /// the double consents, and its redirect is followed to the CLI's loopback listener.</summary>
    private async Task<(CliResult Result, Uri Opened)> RunWithBrowserAsync(params string[] args)
    {
        File.Delete(_opened);
        Task<CliResult> run = GhostieCli.RunAsync(args, _sandbox.Root, Environment(browser: true));
        var waited = Stopwatch.StartNew();
        while (!File.Exists(_opened) && !run.IsCompleted && waited.Elapsed < TimeSpan.FromSeconds(45))
        {
            await Task.Delay(50);
        }

        if (!File.Exists(_opened))
        {
            CliResult early = await run;
            Assert.Fail($"ghostie never opened a browser.\nstdout:\n{early.StdOut}\nstderr:\n{early.StdErr}");
        }

        var opened = new Uri(File.ReadAllText(_opened));
        (System.Net.HttpStatusCode status, Uri? location, _) = await OAuthDouble.PlayBrowserAsync(opened);
        Assert.Equal(System.Net.HttpStatusCode.Found, status);
        Assert.True(location!.IsLoopback);
        return (await run, opened);
    }

    private void AssertNoFileContains(string secret)
    {
        foreach (string file in Directory.GetFiles(_sandbox.Root, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(secret, Encoding.Latin1.GetString(File.ReadAllBytes(file)), StringComparison.Ordinal);
        }
    }

    private string DriveSnapshot() =>
        string.Join(",", _drive.Files().OrderBy(f => f.Id, StringComparer.Ordinal).Select(f => $"{f.Id}:{f.Name}:{f.Version}:{f.Trashed}"));

    private static void AssertNotShown(CliResult result, string secret)
    {
        Assert.DoesNotContain(secret, result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DriveSetup_WithABrowser_AuthorizesWithPkceOnLoopback_StoresTheRefreshTokenEncrypted_AndSyncRefreshesFromIt()
    {
        (CliResult setup, Uri opened) = await RunWithBrowserAsync(DriveSetup("laptop"));
        JsonElement document = setup.Expect(0).Json();
        Assert.True(document.GetProperty("created_repository").GetBoolean());

        string query = Uri.UnescapeDataString(opened.Query);
        Assert.Contains("code_challenge_method=S256", query, StringComparison.Ordinal);
        Assert.Contains("scope=https://www.googleapis.com/auth/drive.appdata&", query, StringComparison.Ordinal);
        Assert.Matches(@"redirect_uri=http://127\.0\.0\.1:\d+/", query);
        string refresh = Assert.Single(_google.RefreshTokens);
        Assert.Equal(refresh, new DeviceSecretStore(_sandbox.Home("laptop")).TryGet("drive.refresh_token"));
        Assert.Equal(DriveClientSecret, new DeviceSecretStore(_sandbox.Home("laptop")).TryGet("drive.client_secret"));
        AssertNotShown(setup, refresh);
        AssertNotShown(setup, DriveClientSecret);
        AssertNoFileContains(refresh);  // only encrypted
        AssertNoFileContains(DriveClientSecret);
        using (JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(_sandbox.Home("laptop"), "sync", "config.json"))))
        {
            Assert.Equal(DriveClientId, config.RootElement.GetProperty("settings").GetProperty("client_id").GetString());
        }

        // A later command finds the refresh token in the store and gets a fresh access token from it.
        int refreshes = _google.TokenRequests.Count(g => g == "refresh_token");
        (await RunAsync("laptop", "memory", "add", "Drive over OAuth", "--category", "setup")).Expect(0);
        CliResult push = (await RunAsync("laptop", "sync", "push", "--json")).Expect(0);
        Assert.Equal(1, push.Json().GetProperty("uploaded").GetInt32());
        Assert.True(_google.TokenRequests.Count(g => g == "refresh_token") > refreshes);
        AssertNotShown(push, refresh);
    }

    [Fact]
    public async Task DriveSetup_NoBrowser_PastesTheRedirectedAddress()
    {
        using Process process = GhostieCli.Start(DriveSetup("laptop", "--no-browser"), _sandbox.Root, Environment(browser: true), keepInputOpen: true);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = new StringBuilder();
        string? address = null;
        while (await process.StandardError.ReadLineAsync() is { } line)
        {
            stderr.AppendLine(line);
            if (line.StartsWith(_google.AuthorizationEndpoint.ToString(), StringComparison.Ordinal))
            {
                address = line;
            }

            if (line.Contains("paste it here", StringComparison.Ordinal))
            {
                break;
            }
        }

        Assert.True(address is not null, "the address to open was not shown:\n" + stderr);
        Assert.False(File.Exists(_opened), "--no-browser opens no browser");
        (_, Uri? location, _) = await OAuthDouble.PlayBrowserAsync(new Uri(address!), followToLoopback: false);  // another device's browser
        await process.StandardInput.WriteLineAsync(location!.ToString());
        process.StandardInput.Close();
        stderr.Append(await process.StandardError.ReadToEndAsync());
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{await stdout}\n{stderr}");
        Assert.Contains("may fail to load", stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal(Assert.Single(_google.RefreshTokens), new DeviceSecretStore(_sandbox.Home("laptop")).TryGet("drive.refresh_token"));
    }

    [Fact]
    public async Task DriveSetup_NoBrowserAndNothingPasted_IsNotConfigured_AndWritesNothing()
    {
        // No $BROWSER, no DISPLAY: the paste flow; stdin is closed, so nothing comes.
        CliResult result = await GhostieCli.RunAsync(DriveSetup("laptop"), _sandbox.Root, Environment(browser: false));
        result.Expect(4);
        Assert.Contains("Open this address in a browser on any device", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("No authorization code was given for Google. Nothing was changed.", result.StdErr, StringComparison.Ordinal);
        Assert.Empty(_google.TokenRequests);
        Assert.False(File.Exists(Path.Combine(_sandbox.Home("laptop"), "sync", "config.json")));
    }

    [Fact]
    public async Task RevokedAuthorization_IsAnAccessDeniedNamingRotate_AndRotateReplacesItWithoutTouchingTheRepository()
    {
        (await RunWithBrowserAsync(DriveSetup("laptop"))).Result.Expect(0);
        (await RunAsync("laptop", "memory", "add", "Kept through the rotation", "--category", "setup")).Expect(0);
        (await RunAsync("laptop", "sync", "push")).Expect(0);
        string revoked = Assert.Single(_google.RefreshTokens);
        string objects = DriveSnapshot();

        _google.RevokeRefreshToken(revoked);
        CliResult refused = (await RunAsync("laptop", "sync", "pull")).Expect(11);
        Assert.Contains("ghostie sync credentials rotate", refused.StdErr, StringComparison.Ordinal);
        Assert.Contains("invalid_grant", refused.StdErr, StringComparison.Ordinal);
        AssertNotShown(refused, revoked);

        // A refused new authorization leaves the stored credential as it was.
        _google.DenyConsent = true;
        (await RunWithBrowserAsync("--home", _sandbox.Home("laptop"), "sync", "credentials", "rotate")).Result.Expect(11);
        Assert.Equal(revoked, new DeviceSecretStore(_sandbox.Home("laptop")).TryGet("drive.refresh_token"));
        _google.DenyConsent = false;

        (CliResult rotated, _) = await RunWithBrowserAsync("--home", _sandbox.Home("laptop"), "sync", "credentials", "rotate", "--json");
        JsonElement document = rotated.Expect(0).Json();
        Assert.Equal("drive", document.GetProperty("backend").GetString());
        string fresh = Assert.Single(_google.RefreshTokens);
        Assert.NotEqual(revoked, fresh);
        Assert.Equal(fresh, new DeviceSecretStore(_sandbox.Home("laptop")).TryGet("drive.refresh_token"));
        AssertNotShown(rotated, fresh);
        Assert.Equal(objects, DriveSnapshot());  // the repository was only read

        string listed = (await RunAsync("laptop", "memory", "list")).Expect(0).StdOut;
        Assert.Contains("Kept through the rotation", listed, StringComparison.Ordinal);
        (await RunAsync("laptop", "sync", "pull")).Expect(0);
    }

    [Fact]
    public async Task DriveSetup_OnATerminalWithoutOptions_AsksTheClientIdAndFolder_ThenAuthorizesInTheBrowser()
    {
        File.Delete(_opened);
        using var played = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        Task browser = Task.Run(async () =>
        {
            while (!File.Exists(_opened))
            {
                await Task.Delay(50, played.Token);
            }

            await OAuthDouble.PlayBrowserAsync(new Uri(File.ReadAllText(_opened)));
        }, played.Token);

        const string Enter = "\r";
        TerminalResult run = (await GhostieCli.RunOnTerminalAsync(
            ["--home", _sandbox.Home("laptop"), "sync", "setup", "--endpoint", _drive.BaseUri.ToString(), "--auth-url", _google.AuthorizationEndpoint.ToString(),
                "--token-url", _google.TokenEndpoint.ToString()],
            _sandbox.Root, Environment(browser: true),
            ("Backend (", "drive" + Enter),
            ("Google OAuth client id", DriveClientId + Enter),
            ("Drive folder id (empty for the hidden app data folder):", Enter),
            ("This device's id", "laptop" + Enter),
            ("The name other devices show for it:", Enter),
            ("Write this setup? [Y/n]", Enter))).Expect(0);
        await browser;

        Assert.Contains("Opening your browser to authorize ghostie with Google", run.Output, StringComparison.Ordinal);
        Assert.Contains("Created repository", run.Output, StringComparison.Ordinal);
        string refresh = Assert.Single(_google.RefreshTokens);
        Assert.DoesNotContain(refresh, run.Output, StringComparison.Ordinal);
        Assert.Equal(refresh, new DeviceSecretStore(_sandbox.Home("laptop")).TryGet("drive.refresh_token"));
    }

    [Fact]
    public async Task DropboxSetup_WithABrowser_OnTheRegisteredPort_AsksOfflineAccess_AndASecondDeviceJoinsWithThePasteFlow()
    {
        (CliResult setup, Uri opened) = await RunWithBrowserAsync(DropboxSetup("laptop"));
        Assert.True(setup.Expect(0).Json().GetProperty("created_repository").GetBoolean());
        string query = Uri.UnescapeDataString(opened.Query);
        Assert.Contains("token_access_type=offline", query, StringComparison.Ordinal);
        Assert.Contains($"redirect_uri=http://127.0.0.1:{_dropboxPort}/&", query, StringComparison.Ordinal);
        Assert.Contains("scope=files.metadata.read files.content.read files.content.write", query, StringComparison.Ordinal);
        string laptopToken = Assert.Single(_dropboxAuth.RefreshTokens);
        Assert.Equal(laptopToken, new DeviceSecretStore(_sandbox.Home("laptop")).TryGet("dropbox.refresh_token"));
        AssertNoFileContains(laptopToken);
        (await RunAsync("laptop", "memory", "add", "Dropbox over OAuth", "--category", "setup")).Expect(0);
        (await RunAsync("laptop", "sync", "push")).Expect(0);

        // The phone has no browser: Dropbox's no-redirect flow shows the code, which is pasted on stdin.
        using Process process = GhostieCli.Start(DropboxSetup("phone", "--no-browser"), _sandbox.Root, Environment(browser: false), keepInputOpen: true);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = new StringBuilder();
        string? address = null;
        while (await process.StandardError.ReadLineAsync() is { } line)
        {
            stderr.AppendLine(line);
            address = line.StartsWith(_dropboxAuth.AuthorizationEndpoint.ToString(), StringComparison.Ordinal) ? line : address;
            if (line.Contains("Paste it here", StringComparison.Ordinal))
            {
                break;
            }
        }

        Assert.True(address is not null, "the address to open was not shown:\n" + stderr);
        Assert.DoesNotContain("redirect_uri", address, StringComparison.Ordinal);
        string page = (await OAuthDouble.PlayBrowserAsync(new Uri(address!), followToLoopback: false)).Body;
        int start = page.IndexOf("id=\"code\">", StringComparison.Ordinal) + "id=\"code\">".Length;
        await process.StandardInput.WriteLineAsync(page[start..page.IndexOf('<', start)]);
        process.StandardInput.Close();
        stderr.Append(await process.StandardError.ReadToEndAsync());
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{await stdout}\n{stderr}");

        Assert.Equal(2, _dropboxAuth.RefreshTokens.Count);
        JsonElement pull = (await RunAsync("phone", "sync", "pull", "--json")).Expect(0).Json();
        Assert.Equal(1, pull.GetProperty("downloaded").GetInt32());
    }
}
