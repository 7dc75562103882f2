using System.Collections.Concurrent;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Backends.GoogleDrive.Tests;

/// <summary>The installed-app authorization and the refreshing access token, against the Google OAuth double and the Drive
/// double (which accepts exactly the access tokens the OAuth double issued).</summary>
public sealed class DriveOAuthTests : IAsyncLifetime
{
    private const string ClientId = "123-double.apps.googleusercontent.com";
    private const string ClientSecret = "GOCSPX-double-secret";
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly ConcurrentQueue<string> _said = new();
    private OAuthDouble _google = null!;
    private DriveDouble _drive = null!;

    public Task InitializeAsync()
    {
        _drive = new DriveDouble("unused-initial-token");
        _google = new OAuthDouble(OAuthProviderKind.Google, _clock);
        _google.RegisterClient(ClientId, ClientSecret);
        _google.AccessTokenIssued = (token, scopes) => _drive.AddToken(token, scopes);
        _google.AccessTokenRevoked = _drive.RevokeToken;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _google.DisposeAsync();
        await _drive.DisposeAsync();
    }

    private GoogleDriveOAuthOptions OAuth() => new()
    {
        ClientId = ClientId,
        ClientSecret = ClientSecret,
        AuthorizationEndpoint = _google.AuthorizationEndpoint,
        TokenEndpoint = _google.TokenEndpoint,
        TimeProvider = _clock,
    };

    private BackendAuthorizationPrompt Browser(ConcurrentQueue<Uri> opened) => new()
    {
        Say = _said.Enqueue,
        OpenBrowser = uri =>
        {
            opened.Enqueue(uri);
            _ = OAuthDouble.PlayBrowserAsync(uri);  // the person's browser: consent, then the redirect to the loopback listener
            return true;
        },
        Timeout = TimeSpan.FromSeconds(30),
    };

    private async Task<string> AuthorizeAsync(string scope = GoogleDriveBackendOptions.AppDataScope) =>
        await GoogleDriveAuthorization.AuthorizeAsync(OAuth(), scope, Browser(new ConcurrentQueue<Uri>()));

    [Fact]
    public async Task Authorize_Browser_UsesPkceS256AndALoopbackRedirect_AndReturnsTheRefreshToken()
    {
        var opened = new ConcurrentQueue<Uri>();
        string refresh = await GoogleDriveAuthorization.AuthorizeAsync(OAuth(), GoogleDriveBackendOptions.AppDataScope, Browser(opened));

        Uri address = Assert.Single(opened);
        string query = Uri.UnescapeDataString(address.Query);
        Assert.Contains("code_challenge_method=S256", query, StringComparison.Ordinal);
        Assert.Contains("scope=https://www.googleapis.com/auth/drive.appdata", query, StringComparison.Ordinal);
        Assert.Matches(@"redirect_uri=http://127\.0\.0\.1:\d+/", query);
        Assert.Contains(refresh, _google.RefreshTokens);
        Assert.Equal(["authorization_code"], _google.TokenRequests);
        Assert.DoesNotContain(_said, line => line.Contains(refresh, StringComparison.Ordinal));
        Assert.Contains("client_secret=", Assert.Single(_google.TokenRequestBodies), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_AFolder_AsksOnlyForDriveFile()
    {
        var opened = new ConcurrentQueue<Uri>();
        await GoogleDriveAuthorization.AuthorizeAsync(OAuth(), GoogleDriveOAuthOptions.ScopeFor("1Folder"), Browser(opened));
        Assert.Contains("scope=https://www.googleapis.com/auth/drive.file&", Uri.UnescapeDataString(Assert.Single(opened).Query), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Authorize_Paste_TheRedirectedAddressOrJustItsCode_IsExchanged(bool wholeAddress)
    {
        string? shown = null;
        var prompt = new BackendAuthorizationPrompt
        {
            Say = line =>
            {
                _said.Enqueue(line);
                shown = line.StartsWith(_google.AuthorizationEndpoint.ToString(), StringComparison.Ordinal) ? line : shown;
            },
            AskLine = _ =>
            {
                // The browser on another device: consent, then a redirect to a loopback address nobody listens on.
                Uri? location = OAuthDouble.PlayBrowserAsync(new Uri(shown!), followToLoopback: false).GetAwaiter().GetResult().Location;
                string code = Uri.UnescapeDataString(location!.Query.Split('&')[0]["?code=".Length..]);
                return wholeAddress ? location.ToString() : code;
            },
        };

        string refresh = await GoogleDriveAuthorization.AuthorizeAsync(OAuth(), GoogleDriveBackendOptions.AppDataScope, prompt);

        Assert.Contains(refresh, _google.RefreshTokens);
        Assert.Contains(_said, line => line.Contains("may fail to load", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Authorize_PastedAddressOfAnotherRun_IsRefusedByItsState_NothingExchanged()
    {
        var prompt = new BackendAuthorizationPrompt { Say = _said.Enqueue, AskLine = _ => "http://127.0.0.1:5000/?code=stolen&state=not-this-one" };
        GhostieSyncException error = await Assert.ThrowsAsync<GhostieSyncException>(() => GoogleDriveAuthorization.AuthorizeAsync(OAuth(), GoogleDriveBackendOptions.AppDataScope, prompt));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains("state does not match", error.Message, StringComparison.Ordinal);
        Assert.Empty(_google.TokenRequests);
    }

    [Fact]
    public async Task Authorize_ConsentRefused_IsAccessDenied_SayingToAllow()
    {
        _google.DenyConsent = true;
        GhostieSyncException error = await Assert.ThrowsAsync<GhostieSyncException>(() => AuthorizeAsync());
        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.Contains("choose Allow", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_NoBrowserAndNobodyToPaste_IsNotConfigured()
    {
        GhostieSyncException error = await Assert.ThrowsAsync<GhostieSyncException>(() =>
            GoogleDriveAuthorization.AuthorizeAsync(OAuth(), GoogleDriveBackendOptions.AppDataScope, new BackendAuthorizationPrompt { Say = _said.Enqueue }));
        Assert.Equal(GhostieErrorCode.NotConfigured, error.Code);
    }

    [Fact]
    public async Task Authorize_WithoutAClientId_NamesTheVariable()
    {
        GoogleDriveOAuthOptions options = OAuth();
        options.ClientId = null;
        GhostieSyncException error = await Assert.ThrowsAsync<GhostieSyncException>(() => GoogleDriveAuthorization.AuthorizeAsync(options, GoogleDriveBackendOptions.AppDataScope, Browser(new())));
        Assert.Contains("GHOSTIE_DRIVE_CLIENT_ID", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AccessToken_IsRefreshedBeforeItExpires_SoDriveNeverRefusesOne()
    {
        string refresh = await AuthorizeAsync();
        var loggers = new RecordingLoggerFactory();
        GoogleDriveBackendOptions options = TestOptions.For(_drive);
        options.AccessToken = null;
        options.AccessTokenProvider = GoogleDriveAuthorization.CreateAccessTokenProvider(OAuth(), refresh);
        using var backend = new GoogleDriveBackend(options, Microsoft.Extensions.Logging.LoggerFactoryExtensions.CreateLogger<GoogleDriveBackend>(loggers));
        await backend.PutAsync("h/one", new MemoryStream([1]));
        Assert.Equal(["authorization_code", "refresh_token"], _google.TokenRequests);

        // 3599 s tokens, refreshed 5 minutes early: at 56 minutes the token is still valid, yet due.
        _clock.Advance(TimeSpan.FromMinutes(56));
        await backend.PutAsync("h/two", new MemoryStream([2]));
        Assert.Equal(2, _google.TokenRequests.Count(g => g == "refresh_token"));

        // The first tokens (the one setup's code exchange returned, unused, and the first refreshed one) now expire and
        // Drive refuses them; the backend is already on the third.
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(2, _google.ExpireDueAccessTokens(_drive.RevokeToken));
        Assert.Equal(new byte[] { 1 }, await backend.ReadAllAsync("h/one"));
        Assert.DoesNotContain(loggers.Events, e => e.EventId == 4602);  // never a refresh after a 401
    }

    [Fact]
    public async Task AccessToken_AfterTheRefreshTokenWasRevoked_IsATypedErrorNamingRotate_WithoutAnyToken()
    {
        string refresh = await AuthorizeAsync();
        _google.RevokeRefreshToken(refresh);
        GoogleDriveBackendOptions options = TestOptions.For(_drive);
        options.AccessToken = null;
        options.AccessTokenProvider = GoogleDriveAuthorization.CreateAccessTokenProvider(OAuth(), refresh);
        using var backend = new GoogleDriveBackend(options);

        BackendAuthorizationRevokedException error = await Assert.ThrowsAsync<BackendAuthorizationRevokedException>(() => backend.PutAsync("h/one", new MemoryStream([1])));

        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.False(error.IsTransient);
        Assert.Equal("invalid_grant", error.Error);
        Assert.Contains("ghostie sync credentials rotate", error.Message, StringComparison.Ordinal);
        Assert.Contains("ghostie sync setup --backend drive", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(refresh, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(ClientSecret, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Factory_WithARefreshTokenInItsSecret_RefreshesAndReachesDrive_AndAuthorizeAsyncReturnsWhatToKeep()
    {
        var factory = new GoogleDriveBackendFactory();
        var settings = new Dictionary<string, string>
        {
            ["api"] = _drive.BaseUri.ToString(), ["client_id"] = ClientId, ["auth_url"] = _google.AuthorizationEndpoint.ToString(), ["token_url"] = _google.TokenEndpoint.ToString(),
        };
        var variables = new Dictionary<string, string> { ["GHOSTIE_DRIVE_CLIENT_SECRET"] = ClientSecret };
        IReadOnlyDictionary<string, string> keep = await factory.AuthorizeAsync(settings, new EnvironmentSecretSource(variables.GetValueOrDefault), Browser(new()));
        Assert.Equal([GoogleDriveBackendFactory.ClientSecretSecret, GoogleDriveBackendFactory.RefreshTokenSecret], keep.Keys.Order());
        Assert.Equal(ClientSecret, keep[GoogleDriveBackendFactory.ClientSecretSecret]);

        variables["GHOSTIE_DRIVE_REFRESH_TOKEN"] = keep[GoogleDriveBackendFactory.RefreshTokenSecret];
        Assert.True(factory.HasCredentialInEnvironment(settings, variables.GetValueOrDefault));
        IStorageBackend backend = await factory.CreateAsync(settings, new EnvironmentSecretSource(variables.GetValueOrDefault));
        using (backend as IDisposable)
        {
            await backend.PutAsync("h/one", new MemoryStream([9]));
            Assert.Equal(new byte[] { 9 }, await backend.ReadAllAsync("h/one"));
        }

        Assert.Equal(["authorization_code", "refresh_token"], _google.TokenRequests);
        Assert.False(factory.HasCredentialInEnvironment(settings, _ => null));
    }
}
