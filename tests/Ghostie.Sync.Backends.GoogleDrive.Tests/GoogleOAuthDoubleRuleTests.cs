using System.Net;
using System.Text.Json;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.Time.Testing;
using static Ghostie.Sync.Testing.OAuthDoubleRequests;

namespace Ghostie.Sync.Backends.GoogleDrive.Tests;

/// <summary>
/// Each rule of Google's OAuth 2.0 for desktop apps (developers.google.com/identity/protocols/oauth2/native-app) that the
/// client relies on, checked against the double with raw requests: a test of the double, not of the client.
/// </summary>
public sealed class GoogleOAuthDoubleRuleTests : IAsyncLifetime
{
    private const string ClientId = "123-double.apps.googleusercontent.com";
    private const string ClientSecret = "GOCSPX-double-secret";
    private const string Scope = "https://www.googleapis.com/auth/drive.appdata";
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private OAuthDouble _google = null!;

    public Task InitializeAsync()
    {
        _google = new OAuthDouble(OAuthProviderKind.Google, _clock);
        _google.RegisterClient(ClientId, ClientSecret);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _google.DisposeAsync();

    private Task<string> CodeAsync(string challenge, string redirect = "http://127.0.0.1:49152/", string state = "s1") =>
        OAuthDoubleRequests.CodeAsync(_google, ("client_id", ClientId), ("redirect_uri", redirect), ("response_type", "code"), ("scope", Scope),
            ("code_challenge", challenge), ("code_challenge_method", "S256"), ("state", state));

    private Task<(HttpStatusCode, JsonElement)> ExchangeAsync(string code, string verifier, string redirect = "http://127.0.0.1:49152/") =>
        TokenAsync(_google, ("client_id", ClientId), ("client_secret", ClientSecret), ("code", code), ("code_verifier", verifier),
            ("grant_type", "authorization_code"), ("redirect_uri", redirect));

    [Fact]
    public async Task Authorize_LoopbackAnyPort_RedirectsWithCodeStateAndScope()
    {
        (_, string challenge) = NewPkce();
        (HttpStatusCode status, Uri? location, _) = await OAuthDouble.PlayBrowserAsync(Authorize(_google, ("client_id", ClientId), ("redirect_uri", "http://127.0.0.1:61023/"),
            ("response_type", "code"), ("scope", Scope), ("code_challenge", challenge), ("code_challenge_method", "S256"), ("state", "xyz")), followToLoopback: false);

        Assert.Equal(HttpStatusCode.Found, status);
        Assert.StartsWith("http://127.0.0.1:61023/?code=", location!.ToString(), StringComparison.Ordinal);
        Assert.Contains("state=xyz", location.Query, StringComparison.Ordinal);
        Assert.Contains("scope=", location.Query, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://example.com/callback")]
    [InlineData("urn:ietf:wg:oauth:2.0:oob")]
    public async Task Authorize_NonLoopbackOrRetiredOutOfBandRedirect_IsAnErrorPage_NeverARedirect(string redirect)
    {
        (_, string challenge) = NewPkce();
        (HttpStatusCode status, Uri? location, string body) = await OAuthDouble.PlayBrowserAsync(Authorize(_google, ("client_id", ClientId), ("redirect_uri", redirect),
            ("response_type", "code"), ("scope", Scope), ("code_challenge", challenge), ("code_challenge_method", "S256"), ("state", "s")), followToLoopback: false);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Null(location);
        Assert.Contains("redirect_uri_mismatch", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_UnknownClient_IsAnErrorPage()
    {
        (HttpStatusCode status, Uri? location, string body) = await OAuthDouble.PlayBrowserAsync(Authorize(_google, ("client_id", "nobody"), ("redirect_uri", "http://127.0.0.1:5000/"),
            ("response_type", "code"), ("scope", Scope), ("code_challenge", NewPkce().Challenge), ("code_challenge_method", "S256")), followToLoopback: false);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Null(location);
        Assert.Contains("invalid_client", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_ConsentRefused_RedirectsWithAccessDeniedAndState()
    {
        _google.DenyConsent = true;
        (_, Uri? location, _) = await OAuthDouble.PlayBrowserAsync(Authorize(_google, ("client_id", ClientId), ("redirect_uri", "http://127.0.0.1:5000/"),
            ("response_type", "code"), ("scope", Scope), ("code_challenge", NewPkce().Challenge), ("code_challenge_method", "S256"), ("state", "st")), followToLoopback: false);
        Assert.Equal("?error=access_denied&state=st", location!.Query);
    }

    [Fact]
    public async Task Token_CodeWithItsVerifier_GivesAccessAndRefreshTokens_WithExpiresIn()
    {
        (string verifier, string challenge) = NewPkce();
        (HttpStatusCode status, JsonElement json) = await ExchangeAsync(await CodeAsync(challenge), verifier);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("ya29.", json.GetProperty("access_token").GetString(), StringComparison.Ordinal);
        Assert.Equal(3599, json.GetProperty("expires_in").GetInt32());
        Assert.Equal("Bearer", json.GetProperty("token_type").GetString());
        Assert.Equal(Scope, json.GetProperty("scope").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("refresh_token").GetString()));
    }

    [Fact]
    public async Task Token_WrongVerifier_IsInvalidGrant()
    {
        (_, string challenge) = NewPkce();
        (HttpStatusCode status, JsonElement json) = await ExchangeAsync(await CodeAsync(challenge), NewPkce().Verifier);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", json.Error());
        Assert.True(json.TryGetProperty("error_description", out _));
    }

    [Fact]
    public async Task Token_CodeUsedTwice_IsInvalidGrant_AndRevokesWhatTheFirstUseIssued()
    {
        (string verifier, string challenge) = NewPkce();
        string code = await CodeAsync(challenge);
        (_, JsonElement first) = await ExchangeAsync(code, verifier);
        (HttpStatusCode status, JsonElement second) = await ExchangeAsync(code, verifier);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", second.Error());
        Assert.False(_google.IsAccessTokenValid(first.GetProperty("access_token").GetString()!));
        (_, JsonElement refreshed) = await TokenAsync(_google, ("client_id", ClientId), ("client_secret", ClientSecret), ("grant_type", "refresh_token"),
            ("refresh_token", first.GetProperty("refresh_token").GetString()!));
        Assert.Equal("invalid_grant", refreshed.Error());
    }

    [Fact]
    public async Task Token_RedirectUriNotTheAuthorizeOne_IsInvalidGrant()
    {
        (string verifier, string challenge) = NewPkce();
        (_, JsonElement json) = await ExchangeAsync(await CodeAsync(challenge, "http://127.0.0.1:49152/"), verifier, "http://127.0.0.1:49153/");
        Assert.Equal("invalid_grant", json.Error());
    }

    [Fact]
    public async Task Token_ExpiredCode_IsInvalidGrant()
    {
        (string verifier, string challenge) = NewPkce();
        string code = await CodeAsync(challenge);
        _clock.Advance(TimeSpan.FromMinutes(11));
        (_, JsonElement json) = await ExchangeAsync(code, verifier);
        Assert.Equal("invalid_grant", json.Error());
    }

    [Fact]
    public async Task Token_ClientWithASecret_WithoutIt_IsInvalidClient401()
    {
        (string verifier, string challenge) = NewPkce();
        string code = await CodeAsync(challenge);
        (HttpStatusCode status, JsonElement json) = await TokenAsync(_google, ("client_id", ClientId), ("code", code), ("code_verifier", verifier),
            ("grant_type", "authorization_code"), ("redirect_uri", "http://127.0.0.1:49152/"));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", json.Error());
    }

    [Fact]
    public async Task Token_RepeatedParameterOrUnknownGrant_AreInvalidRequestAndUnsupportedGrantType()
    {
        (_, JsonElement repeated) = await TokenAsync(_google, ("client_id", ClientId), ("client_secret", ClientSecret), ("grant_type", "refresh_token"), ("grant_type", "refresh_token"));
        Assert.Equal("invalid_request", repeated.Error());
        (_, JsonElement unknown) = await TokenAsync(_google, ("client_id", ClientId), ("client_secret", ClientSecret), ("grant_type", "password"));
        Assert.Equal("unsupported_grant_type", unknown.Error());
    }

    [Fact]
    public async Task Refresh_GivesANewAccessTokenWithExpiresIn_NoNewRefreshToken_AndRevokedIsInvalidGrant()
    {
        (string verifier, string challenge) = NewPkce();
        (_, JsonElement first) = await ExchangeAsync(await CodeAsync(challenge), verifier);
        string refresh = first.GetProperty("refresh_token").GetString()!;

        (HttpStatusCode status, JsonElement json) = await TokenAsync(_google, ("client_id", ClientId), ("client_secret", ClientSecret), ("grant_type", "refresh_token"), ("refresh_token", refresh));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotEqual(first.GetProperty("access_token").GetString(), json.GetProperty("access_token").GetString());
        Assert.Equal(3599, json.GetProperty("expires_in").GetInt32());
        Assert.False(json.TryGetProperty("refresh_token", out _));

        _google.RevokeRefreshToken(refresh);
        (HttpStatusCode revokedStatus, JsonElement revoked) = await TokenAsync(_google, ("client_id", ClientId), ("client_secret", ClientSecret), ("grant_type", "refresh_token"), ("refresh_token", refresh));
        Assert.Equal(HttpStatusCode.BadRequest, revokedStatus);
        Assert.Equal("invalid_grant", revoked.Error());
        Assert.False(_google.IsAccessTokenValid(json.GetProperty("access_token").GetString()!));
    }

    [Fact]
    public async Task AccessTokens_ExpireAfterExpiresIn()
    {
        (string verifier, string challenge) = NewPkce();
        (_, JsonElement json) = await ExchangeAsync(await CodeAsync(challenge), verifier);
        string access = json.GetProperty("access_token").GetString()!;
        Assert.True(_google.IsAccessTokenValid(access));
        _clock.Advance(TimeSpan.FromSeconds(3599));
        Assert.False(_google.IsAccessTokenValid(access));
    }
}
