using System.Collections.Concurrent;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Backends.Dropbox.Tests;

/// <summary>The installed-app authorization (PKCE, offline access) and the refreshing access token, against the Dropbox
/// OAuth double and the Dropbox API double (which accepts exactly the access tokens the OAuth double issued).</summary>
public sealed class DropboxOAuthTests : IAsyncLifetime
{
    private const string AppKey = "doubleappkey123";
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly ConcurrentQueue<string> _said = new();
    private readonly int _port = ServerProcess.FreePort();
    private OAuthDouble _oauth = null!;
    private DropboxDouble _dropbox = null!;

    public Task InitializeAsync()
    {
        _dropbox = new DropboxDouble("sl.unused-initial");
        _oauth = new OAuthDouble(OAuthProviderKind.Dropbox, _clock);
        _oauth.RegisterClient(AppKey, secret: null, $"http://127.0.0.1:{_port}/");
        _oauth.AccessTokenIssued = (token, scopes) => _dropbox.AddToken(token, scopes);
        _oauth.AccessTokenRevoked = _dropbox.RevokeToken;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _oauth.DisposeAsync();
        await _dropbox.DisposeAsync();
    }

    private DropboxOAuthOptions OAuth() => new()
    {
        AppKey = AppKey,
        RedirectPort = _port,
        AuthorizationEndpoint = _oauth.AuthorizationEndpoint,
        TokenEndpoint = _oauth.TokenEndpoint,
        TimeProvider = _clock,
    };

    private BackendAuthorizationPrompt Browser(ConcurrentQueue<Uri> opened) => new()
    {
        Say = _said.Enqueue,
        OpenBrowser = uri =>
        {
            opened.Enqueue(uri);
            _ = OAuthDouble.PlayBrowserAsync(uri);
            return true;
        },
        Timeout = TimeSpan.FromSeconds(30),
    };

    private DropboxBackendOptions Backend(string refresh)
    {
        DropboxBackendOptions options = TestOptions.For(_dropbox);
        options.AccessToken = null;
        options.AccessTokenProvider = DropboxAuthorization.CreateAccessTokenProvider(OAuth(), refresh);
        return options;
    }

    [Fact]
    public async Task Authorize_Browser_AsksOfflineAccessWithTheNeededScopes_OnTheRegisteredRedirect()
    {
        var opened = new ConcurrentQueue<Uri>();
        string refresh = await DropboxAuthorization.AuthorizeAsync(OAuth(), Browser(opened));

        string query = Uri.UnescapeDataString(Assert.Single(opened).Query);
        Assert.Contains("token_access_type=offline", query, StringComparison.Ordinal);
        Assert.Contains("code_challenge_method=S256", query, StringComparison.Ordinal);
        Assert.Contains("scope=files.metadata.read files.content.read files.content.write&", query, StringComparison.Ordinal);
        Assert.Contains($"redirect_uri=http://127.0.0.1:{_port}/&", query, StringComparison.Ordinal);
        Assert.Contains(refresh, _oauth.RefreshTokens);
        Assert.DoesNotContain("client_secret", Assert.Single(_oauth.TokenRequestBodies), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_NoBrowser_IsTheNoRedirectFlow_TheCodeFromThePageIsPasted()
    {
        string? shown = null;
        var prompt = new BackendAuthorizationPrompt
        {
            Say = line =>
            {
                _said.Enqueue(line);
                shown = line.StartsWith(_oauth.AuthorizationEndpoint.ToString(), StringComparison.Ordinal) ? line : shown;
            },
            AskLine = _ =>
            {
                string page = OAuthDouble.PlayBrowserAsync(new Uri(shown!), followToLoopback: false).GetAwaiter().GetResult().Body;
                int start = page.IndexOf("id=\"code\">", StringComparison.Ordinal) + "id=\"code\">".Length;
                return "  " + page[start..page.IndexOf('<', start)] + "  ";
            },
        };

        string refresh = await DropboxAuthorization.AuthorizeAsync(OAuth(), prompt);

        Assert.DoesNotContain("redirect_uri", shown!, StringComparison.Ordinal);
        Assert.Contains(refresh, _oauth.RefreshTokens);
    }

    [Fact]
    public async Task Authorize_MistypedPastedCode_IsAccessDenied_NothingKept()
    {
        var prompt = new BackendAuthorizationPrompt { Say = _said.Enqueue, AskLine = _ => "not-the-code" };
        GhostieSyncException error = await Assert.ThrowsAsync<GhostieSyncException>(() => DropboxAuthorization.AuthorizeAsync(OAuth(), prompt));
        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.Contains("invalid_grant", error.Message, StringComparison.Ordinal);
        Assert.Empty(_oauth.RefreshTokens);
    }

    [Fact]
    public async Task Authorize_RedirectPortBusy_SaysSo()
    {
        using var busy = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, _port);
        busy.Start();
        GhostieSyncException error = await Assert.ThrowsAsync<GhostieSyncException>(() => DropboxAuthorization.AuthorizeAsync(OAuth(), Browser(new())));
        Assert.Contains($"http://127.0.0.1:{_port}/", error.Message, StringComparison.Ordinal);
        Assert.Contains("--no-browser", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AccessToken_IsRefreshedBeforeItExpires_SoDropboxNeverAnswersExpired()
    {
        string refresh = await DropboxAuthorization.AuthorizeAsync(OAuth(), Browser(new()));
        var loggers = new RecordingLoggerFactory();
        using var backend = new DropboxBackend(Backend(refresh), Microsoft.Extensions.Logging.LoggerFactoryExtensions.CreateLogger<DropboxBackend>(loggers));
        await backend.PutAsync("h/one", new MemoryStream([1]));

        // 4-hour tokens, refreshed 5 minutes early.
        _clock.Advance(TimeSpan.FromHours(4) - TimeSpan.FromMinutes(4));
        await backend.PutAsync("h/two", new MemoryStream([2]));
        Assert.Equal(2, _oauth.TokenRequests.Count(g => g == "refresh_token"));

        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(2, _oauth.ExpireDueAccessTokens(_dropbox.ExpireToken));
        Assert.Equal(new byte[] { 1 }, await StorageReads.ReadAllAsync(backend, "h/one"));
        Assert.DoesNotContain(loggers.Events, e => e.EventId == 2);  // never a refresh after a 401
    }

    [Fact]
    public async Task AccessToken_AfterTheRefreshTokenWasRevoked_IsATypedErrorNamingRotate_WithoutAnyToken()
    {
        string refresh = await DropboxAuthorization.AuthorizeAsync(OAuth(), Browser(new()));
        _oauth.RevokeRefreshToken(refresh);
        using var backend = new DropboxBackend(Backend(refresh));

        BackendAuthorizationRevokedException error = await Assert.ThrowsAsync<BackendAuthorizationRevokedException>(() => backend.PutAsync("h/one", new MemoryStream([1])));

        Assert.Equal("Dropbox", error.Provider);
        Assert.Contains("ghostie sync credentials rotate", error.Message, StringComparison.Ordinal);
        Assert.Contains("ghostie sync setup --backend dropbox", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(refresh, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Factory_WithARefreshToken_ReachesDropbox_AndAuthorizeAsyncReturnsTheRefreshTokenToKeep()
    {
        var factory = new DropboxBackendFactory();
        var settings = new Dictionary<string, string>
        {
            ["folder"] = "f-" + Guid.NewGuid().ToString("N")[..8], ["api"] = _dropbox.ApiUri.ToString(), ["content"] = _dropbox.ContentUri.ToString(),
            ["app_key"] = AppKey, ["redirect_port"] = _port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["auth_url"] = _oauth.AuthorizationEndpoint.ToString(), ["token_url"] = _oauth.TokenEndpoint.ToString(),
        };
        IReadOnlyDictionary<string, string> keep = await factory.AuthorizeAsync(settings, new EnvironmentSecretSource(_ => null), Browser(new()));
        string refresh = Assert.Single(keep, k => k.Key == DropboxBackendFactory.RefreshTokenSecret).Value;

        var variables = new Dictionary<string, string> { ["GHOSTIE_DROPBOX_REFRESH_TOKEN"] = refresh };
        IStorageBackend backend = await factory.CreateAsync(settings, new EnvironmentSecretSource(variables.GetValueOrDefault), createStore: true);
        using (backend as IDisposable)
        {
            await backend.PutAsync("h/one", new MemoryStream([9]));
            Assert.Equal(new byte[] { 9 }, await StorageReads.ReadAllAsync(backend, "h/one"));
        }

        Assert.True(factory.HasCredentialInEnvironment(settings, variables.GetValueOrDefault));
        Assert.Equal(["authorization_code", "refresh_token"], _oauth.TokenRequests);
    }
}
