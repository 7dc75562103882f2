using System.Net;
using System.Text.Json;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.Time.Testing;
using static Ghostie.Sync.Testing.OAuthDoubleRequests;

namespace Ghostie.Sync.Backends.Dropbox.Tests;

/// <summary>
/// Each rule of Dropbox's OAuth guide and its /oauth2/authorize and /oauth2/token reference that the client relies on,
/// checked against the double with raw requests: a test of the double, not of the client.
/// </summary>
public sealed class DropboxOAuthDoubleRuleTests : IAsyncLifetime
{
    private const string AppKey = "doubleappkey123";
    private const string Registered = "http://127.0.0.1:53682/";
    private const string Scopes = "files.metadata.read files.content.read files.content.write";
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private OAuthDouble _dropbox = null!;

    public Task InitializeAsync()
    {
        _dropbox = new OAuthDouble(OAuthProviderKind.Dropbox, _clock);
        _dropbox.RegisterClient(AppKey, secret: null, Registered);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _dropbox.DisposeAsync();

    private Uri AuthorizeUri(string challenge, string? redirect = Registered, string? accessType = "offline", string state = "s1") =>
        Authorize(_dropbox, ("client_id", AppKey), ("response_type", "code"), ("redirect_uri", redirect), ("token_access_type", accessType), ("scope", Scopes),
            ("code_challenge", challenge), ("code_challenge_method", "S256"), ("state", state));

    private async Task<string> CodeAsync(string challenge, string? redirect = Registered, string? accessType = "offline") =>
        await OAuthDoubleRequests.CodeAsync(_dropbox, ("client_id", AppKey), ("response_type", "code"), ("redirect_uri", redirect), ("token_access_type", accessType),
            ("scope", Scopes), ("code_challenge", challenge), ("code_challenge_method", "S256"), ("state", "s1"));

    private Task<(HttpStatusCode, JsonElement)> ExchangeAsync(string code, string verifier, string? redirect = Registered)
    {
        var form = new List<(string, string)> { ("code", code), ("grant_type", "authorization_code"), ("code_verifier", verifier), ("client_id", AppKey) };
        if (redirect is not null)
        {
            form.Add(("redirect_uri", redirect));
        }

        return TokenAsync(_dropbox, [.. form]);
    }

    [Fact]
    public async Task Authorize_RegisteredRedirect_RedirectsWithCodeAndState()
    {
        (HttpStatusCode status, Uri? location, _) = await OAuthDouble.PlayBrowserAsync(AuthorizeUri(NewPkce().Challenge), followToLoopback: false);
        Assert.Equal(HttpStatusCode.Found, status);
        Assert.StartsWith(Registered + "?code=", location!.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("&state=s1", location.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_RedirectNotRegisteredExactly_EvenAnotherLoopbackPort_IsAnErrorPage()
    {
        (HttpStatusCode status, Uri? location, string body) = await OAuthDouble.PlayBrowserAsync(AuthorizeUri(NewPkce().Challenge, "http://127.0.0.1:53683/"), followToLoopback: false);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Null(location);
        Assert.Contains("redirect_uri_mismatch", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_NoRedirect_ShowsTheCodeOnThePage()
    {
        (HttpStatusCode status, Uri? location, string body) = await OAuthDouble.PlayBrowserAsync(AuthorizeUri(NewPkce().Challenge, redirect: null), followToLoopback: false);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(location);
        Assert.Contains("id=\"code\">code-", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_ChallengeShorterThan43_IsInvalidRequest()
    {
        (_, Uri? location, _) = await OAuthDouble.PlayBrowserAsync(AuthorizeUri("tooshort"), followToLoopback: false);
        Assert.Contains("error=invalid_request", location!.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_Offline_GivesARefreshToken_WithExpiresIn14400_AndOnline_None()
    {
        (string verifier, string challenge) = NewPkce();
        (HttpStatusCode status, JsonElement offline) = await ExchangeAsync(await CodeAsync(challenge), verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(14400, offline.GetProperty("expires_in").GetInt32());
        Assert.Equal("bearer", offline.GetProperty("token_type").GetString());
        Assert.False(string.IsNullOrEmpty(offline.GetProperty("refresh_token").GetString()));
        Assert.True(offline.TryGetProperty("account_id", out _));

        (verifier, challenge) = NewPkce();
        (_, JsonElement online) = await ExchangeAsync(await CodeAsync(challenge, accessType: "online"), verifier);
        Assert.False(online.TryGetProperty("refresh_token", out _));
    }

    [Fact]
    public async Task Token_NoRedirectFlow_IsExchangedWithoutRedirectUri_AndWithOne_IsInvalidGrant()
    {
        (string verifier, string challenge) = NewPkce();
        (_, JsonElement mismatched) = await ExchangeAsync(await CodeAsync(challenge, redirect: null), verifier, Registered);
        Assert.Equal("invalid_grant", mismatched.Error());

        (verifier, challenge) = NewPkce();
        (HttpStatusCode status, _) = await ExchangeAsync(await CodeAsync(challenge, redirect: null), verifier, redirect: null);
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Token_WrongVerifier_OrCodeUsedTwice_IsInvalidGrant()
    {
        (string verifier, string challenge) = NewPkce();
        string code = await CodeAsync(challenge);
        (HttpStatusCode wrongStatus, JsonElement wrong) = await ExchangeAsync(code, NewPkce().Verifier);
        Assert.Equal(HttpStatusCode.BadRequest, wrongStatus);
        Assert.Equal("invalid_grant", wrong.Error());

        (verifier, challenge) = NewPkce();
        code = await CodeAsync(challenge);
        (HttpStatusCode first, _) = await ExchangeAsync(code, verifier);
        (_, JsonElement second) = await ExchangeAsync(code, verifier);
        Assert.Equal(HttpStatusCode.OK, first);
        Assert.Equal("invalid_grant", second.Error());
    }

    [Fact]
    public async Task Refresh_WithTheAppKeyOnly_GivesANewAccessToken_AndRevokedIsInvalidGrant()
    {
        (string verifier, string challenge) = NewPkce();
        (_, JsonElement first) = await ExchangeAsync(await CodeAsync(challenge), verifier);
        string refresh = first.GetProperty("refresh_token").GetString()!;

        (HttpStatusCode status, JsonElement json) = await TokenAsync(_dropbox, ("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", AppKey));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(14400, json.GetProperty("expires_in").GetInt32());
        Assert.False(json.TryGetProperty("refresh_token", out _));

        _dropbox.RevokeRefreshToken(refresh);
        (HttpStatusCode revokedStatus, JsonElement revoked) = await TokenAsync(_dropbox, ("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", AppKey));
        Assert.Equal(HttpStatusCode.BadRequest, revokedStatus);
        Assert.Equal("invalid_grant", revoked.Error());
        Assert.True(revoked.TryGetProperty("error_description", out _));
    }

    [Fact]
    public async Task Token_UnknownAppKey_IsInvalidClient()
    {
        (HttpStatusCode status, JsonElement json) = await TokenAsync(_dropbox, ("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", "other"));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", json.Error());
    }
}
