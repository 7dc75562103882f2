using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Testing;

/// <summary>Which provider's published rules an <see cref="OAuthDouble"/> follows.</summary>
public enum OAuthProviderKind
{
    /// <summary>Google's OAuth 2.0 for desktop apps (https://developers.google.com/identity/protocols/oauth2/native-app).</summary>
    Google,

    /// <summary>Dropbox's OAuth guide and /oauth2/authorize, /oauth2/token reference
    /// (https://www.dropbox.com/developers/reference/oauth-guide, https://www.dropbox.com/developers/documentation/http/documentation#oauth2-authorize).</summary>
    Dropbox,
}

/// <summary>
/// A loopback protocol double of an OAuth 2.0 authorization server, as Google and Dropbox document it for installed apps
/// (RFC 6749 and RFC 7636 where the providers defer to them), rule by rule:
/// <list type="bullet">
/// <item>Authorize (GET): client_id must be a registered client (else an error page, no redirect); response_type=code;
/// PKCE code_challenge with code_challenge_method S256 or plain (Dropbox: challenge 43-128 characters); state is echoed.
/// redirect_uri: Google accepts any port on the loopback IP for a desktop client (http://127.0.0.1:PORT/); Dropbox accepts
/// only a URI registered for the app, matched exactly, and none at all (its no-redirect flow shows the code on the page).
/// An unacceptable redirect_uri is an error page (redirect_uri_mismatch), never a redirect. With consent: a 302 to
/// redirect_uri?code=...&amp;state=...; refused: ?error=access_denied&amp;state=... Dropbox gives a refresh token only with
/// token_access_type=offline.</item>
/// <item>Token (POST, application/x-www-form-urlencoded, each parameter at most once, else invalid_request):
/// authorization_code grant with client_id, code, code_verifier, and redirect_uri identical to the authorize request's
/// (Dropbox: only when one was sent); the verifier must hash to the challenge; a code is single use (a second use is
/// invalid_grant and revokes what the first issued, RFC 6749 10.5) and expires (10 minutes here); a Google client with a
/// secret needs client_secret (invalid_client, 401). Success: JSON access_token, expires_in (Google 3599, Dropbox 14400),
/// token_type, scope, refresh_token (Dropbox: account_id, uid). refresh_token grant: a new access_token and expires_in,
/// no new refresh token; a revoked or unknown refresh token is 400 invalid_grant. Errors are JSON {error,
/// error_description}: invalid_request, invalid_client, invalid_grant, unsupported_grant_type.</item>
/// </list>
/// Issued access tokens are handed to <see cref="AccessTokenIssued"/> (the Drive or Dropbox double accepts them);
/// revoking a refresh token hands its access tokens to <see cref="AccessTokenRevoked"/>. Consent is given by the double
/// itself (the test plays the browser by fetching the authorize URL and following the 302), unless
/// <see cref="DenyConsent"/> is set.
/// </summary>
public sealed class OAuthDouble : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly object _gate = new();
    private readonly Dictionary<string, Client> _clients = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Grant> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Grant> _refreshTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Grant Grant, DateTimeOffset Expires)> _accessTokens = new(StringComparer.Ordinal);
    private long _counter;

    /// <summary>Starts the double on a free loopback port.</summary>
    /// <param name="kind">Whose rules.</param>
    /// <param name="clock">The clock for expiry (default the system clock).</param>
    public OAuthDouble(OAuthProviderKind kind, TimeProvider? clock = null)
    {
        Kind = kind;
        Clock = clock ?? TimeProvider.System;
        for (int tries = 0; ; tries++)
        {
            int port = ServerProcess.FreePort();
            try
            {
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                _listener.Start();
                BaseUri = new Uri($"http://127.0.0.1:{port}/");
                break;
            }
            catch (HttpListenerException) when (tries < 20)
            {
            }
        }

        _loop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Whose rules.</summary>
    public OAuthProviderKind Kind { get; }

    /// <summary>The clock.</summary>
    public TimeProvider Clock { get; }

    /// <summary>The double's root.</summary>
    public Uri BaseUri { get; } = null!;

    /// <summary>Stands for https://accounts.google.com/o/oauth2/v2/auth or https://www.dropbox.com/oauth2/authorize.</summary>
    public Uri AuthorizationEndpoint => new(BaseUri, Kind == OAuthProviderKind.Google ? "o/oauth2/v2/auth" : "oauth2/authorize");

    /// <summary>Stands for https://oauth2.googleapis.com/token or https://api.dropboxapi.com/oauth2/token.</summary>
    public Uri TokenEndpoint => new(BaseUri, Kind == OAuthProviderKind.Google ? "token" : "oauth2/token");

    /// <summary>Lifetime of an access token (Google: 3599 s; Dropbox: 14400 s).</summary>
    public TimeSpan AccessTokenLifetime { get; set; }

    /// <summary>Lifetime of an authorization code (10 minutes here; RFC 6749 4.1.2 recommends at most 10 minutes).</summary>
    public TimeSpan CodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The person refuses at the consent page: the redirect carries error=access_denied.</summary>
    public bool DenyConsent { get; set; }

    /// <summary>Called with each access token issued and its scopes.</summary>
    public Action<string, string[]>? AccessTokenIssued { get; set; }

    /// <summary>Called with each access token a revocation invalidated.</summary>
    public Action<string>? AccessTokenRevoked { get; set; }

    /// <summary>Every token request's grant_type, in order ("authorization_code", "refresh_token").</summary>
    public ConcurrentQueue<string> TokenRequests { get; } = new();

    /// <summary>Every access token issued, in order.</summary>
    public ConcurrentQueue<string> IssuedAccessTokens { get; } = new();

    /// <summary>Every token endpoint request body, raw (to check what a client sent; holds secrets of the double only).</summary>
    public ConcurrentQueue<string> TokenRequestBodies { get; } = new();

    /// <summary>Registers a client. Google: a desktop client, optionally with a secret; Dropbox: an app with its exact
    /// redirect URIs.</summary>
    /// <param name="clientId">The client id (app key).</param>
    /// <param name="secret">Google: the client secret the token endpoint then requires.</param>
    /// <param name="redirectUris">Dropbox: the registered redirect URIs.</param>
    public void RegisterClient(string clientId, string? secret = null, params string[] redirectUris)
    {
        lock (_gate)
        {
            _clients[clientId] = new Client(secret, [.. redirectUris]);
        }
    }

    /// <summary>Revokes a refresh token (the person removed the app's access): it and its access tokens stop working.</summary>
    public void RevokeRefreshToken(string refreshToken)
    {
        lock (_gate)
        {
            if (_refreshTokens.Remove(refreshToken, out Grant? grant))
            {
                RevokeGrantLocked(grant);
            }
        }
    }

    /// <summary>Every refresh token currently valid.</summary>
    public IReadOnlyList<string> RefreshTokens
    {
        get
        {
            lock (_gate)
            {
                return [.. _refreshTokens.Keys];
            }
        }
    }

    /// <summary>Whether an access token was issued by this double and has not expired or been revoked.</summary>
    public bool IsAccessTokenValid(string token)
    {
        lock (_gate)
        {
            return _accessTokens.TryGetValue(token, out var entry) && entry.Expires > Clock.GetUtcNow() && !entry.Grant.Revoked;
        }
    }

    /// <summary>Hands every access token past its expiry to <paramref name="expired"/> (so the API double refuses it, as
    /// Google and Dropbox refuse an expired one) and returns how many.</summary>
    public int ExpireDueAccessTokens(Action<string> expired)
    {
        List<string> due;
        lock (_gate)
        {
            DateTimeOffset now = Clock.GetUtcNow();
            due = [.. _accessTokens.Where(t => t.Value.Expires <= now).Select(t => t.Key)];
            foreach (string token in due)
            {
                _accessTokens.Remove(token);
            }
        }

        due.ForEach(expired);
        return due.Count;
    }

    /// <summary>Plays the person's browser: GET the authorize address (no automatic redirect), and when the answer is a
    /// redirect to a loopback address, GET that (the client's listener). Returns the authorize response's status, its
    /// Location (or null) and body.</summary>
    public static async Task<(HttpStatusCode Status, Uri? Location, string Body)> PlayBrowserAsync(Uri authorize, bool followToLoopback = true)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using HttpResponseMessage response = await http.GetAsync(authorize);
        string body = await response.Content.ReadAsStringAsync();
        Uri? location = response.Headers.Location;
        if (followToLoopback && location is not null && location.IsLoopback)
        {
            using HttpResponseMessage landed = await http.GetAsync(location);
            _ = await landed.Content.ReadAsStringAsync();
        }

        return (response.StatusCode, location, body);
    }

    private TimeSpan Lifetime => AccessTokenLifetime > TimeSpan.Zero ? AccessTokenLifetime
        : Kind == OAuthProviderKind.Google ? TimeSpan.FromSeconds(3599) : TimeSpan.FromSeconds(14400);

    private async Task AcceptLoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            string path = context.Request.Url!.AbsolutePath;
            if (path == AuthorizationEndpoint.AbsolutePath && context.Request.HttpMethod == "GET")
            {
                await AuthorizeAsync(context).ConfigureAwait(false);
            }
            else if (path == TokenEndpoint.AbsolutePath && context.Request.HttpMethod == "POST")
            {
                await TokenAsync(context).ConfigureAwait(false);
            }
            else
            {
                await WriteAsync(context, 404, "text/plain", "Not Found").ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or IOException)
        {
        }
    }

    private async Task AuthorizeAsync(HttpListenerContext context)
    {
        Dictionary<string, string> query = ParseForm(context.Request.Url!.Query.TrimStart('?'), out _);
        string? clientId = query.GetValueOrDefault("client_id");
        Client? client;
        lock (_gate)
        {
            client = clientId is null ? null : _clients.GetValueOrDefault(clientId);
        }

        // An unknown client or an unacceptable redirect_uri is shown on the provider's page: never redirected (RFC 6749 4.1.2.1).
        if (client is null)
        {
            await WriteAsync(context, Kind == OAuthProviderKind.Google ? 401 : 400, "text/html", "<p>Error 401: invalid_client. The OAuth client was not found.</p>").ConfigureAwait(false);
            return;
        }

        string? redirect = query.GetValueOrDefault("redirect_uri");
        if (!RedirectAllowed(client, redirect))
        {
            await WriteAsync(context, 400, "text/html", "<p>Error 400: redirect_uri_mismatch.</p>").ConfigureAwait(false);
            return;
        }

        string state = query.GetValueOrDefault("state") ?? "";
        string? problem = query.GetValueOrDefault("response_type") != "code" ? "unsupported_response_type"
            : !query.TryGetValue("code_challenge", out string? challenge) || challenge.Length is < 43 or > 128 ? "invalid_request"
            : query.GetValueOrDefault("code_challenge_method", "plain") is not ("S256" or "plain") ? "invalid_request"
            : string.IsNullOrWhiteSpace(query.GetValueOrDefault("scope")) && Kind == OAuthProviderKind.Google ? "invalid_scope"
            : DenyConsent ? "access_denied"
            : null;
        if (problem is not null)
        {
            if (redirect is null)
            {
                await WriteAsync(context, 400, "text/html", $"<p>Error: {problem}</p>").ConfigureAwait(false);
            }
            else
            {
                Redirect(context, $"{redirect}?error={problem}&state={Uri.EscapeDataString(state)}");
            }

            return;
        }

        string code = "code-" + Interlocked.Increment(ref _counter) + "-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var grant = new Grant(clientId!, redirect, query["code_challenge"], query.GetValueOrDefault("code_challenge_method", "plain"),
            (query.GetValueOrDefault("scope") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
            Offline: Kind == OAuthProviderKind.Google || query.GetValueOrDefault("token_access_type") == "offline",
            CodeExpires: Clock.GetUtcNow() + CodeLifetime);
        lock (_gate)
        {
            _codes[code] = grant;
        }

        if (redirect is null)
        {
            // Dropbox's no-redirect flow: the code is shown to the person, who copies it into the app.
            await WriteAsync(context, 200, "text/html", $"<p>Enter this code into your app:</p><p id=\"code\">{code}</p>").ConfigureAwait(false);
            return;
        }

        Redirect(context, $"{redirect}?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(state)}" + (Kind == OAuthProviderKind.Google ? "&scope=" + Uri.EscapeDataString(string.Join(' ', grant.Scopes)) : ""));
    }

    private bool RedirectAllowed(Client client, string? redirect)
    {
        if (Kind == OAuthProviderKind.Dropbox)
        {
            return redirect is null || client.RedirectUris.Contains(redirect);
        }

        // Google desktop clients: the loopback IP literal with any port (localhost also works but 127.0.0.1 is recommended).
        return redirect is not null && Uri.TryCreate(redirect, UriKind.Absolute, out Uri? uri) && uri.Scheme == Uri.UriSchemeHttp
            && (uri.Host is "127.0.0.1" or "[::1]" or "localhost") && !uri.IsDefaultPort;
    }

    private async Task TokenAsync(HttpListenerContext context)
    {
        string body;
        using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync().ConfigureAwait(false);
        }

        TokenRequestBodies.Enqueue(body);
        if (context.Request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) != true)
        {
            await ErrorAsync(context, 400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded").ConfigureAwait(false);
            return;
        }

        Dictionary<string, string> form = ParseForm(body, out bool repeated);
        string grantType = form.GetValueOrDefault("grant_type") ?? "";
        TokenRequests.Enqueue(grantType);
        if (repeated)
        {
            await ErrorAsync(context, 400, "invalid_request", "a parameter was repeated").ConfigureAwait(false);
            return;
        }

        string? clientId = form.GetValueOrDefault("client_id");
        Client? client;
        lock (_gate)
        {
            client = clientId is null ? null : _clients.GetValueOrDefault(clientId);
        }

        if (client is null || (client.Secret is not null && form.GetValueOrDefault("client_secret") != client.Secret))
        {
            await ErrorAsync(context, 401, "invalid_client", "Unauthorized").ConfigureAwait(false);
            return;
        }

        switch (grantType)
        {
            case "authorization_code":
                await CodeGrantAsync(context, form).ConfigureAwait(false);
                break;
            case "refresh_token":
                await RefreshGrantAsync(context, form).ConfigureAwait(false);
                break;
            default:
                await ErrorAsync(context, 400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token").ConfigureAwait(false);
                break;
        }
    }

    private async Task CodeGrantAsync(HttpListenerContext context, Dictionary<string, string> form)
    {
        if (!form.TryGetValue("code", out string? code) || !form.TryGetValue("code_verifier", out string? verifier))
        {
            await ErrorAsync(context, 400, "invalid_request", "code and code_verifier are required").ConfigureAwait(false);
            return;
        }

        Grant? grant;
        lock (_gate)
        {
            grant = _codes.GetValueOrDefault(code);
            if (grant is { CodeUsed: true })
            {
                // RFC 6749 4.1.2: a code used twice is refused, and what it issued SHOULD be revoked.
                RevokeGrantLocked(grant);
                grant = null;
            }
            else if (grant is not null)
            {
                grant.CodeUsed = true;
            }
        }

        string? redirect = form.GetValueOrDefault("redirect_uri");
        string? why = grant is null ? "code was already used or is unknown"
            : grant.CodeExpires <= Clock.GetUtcNow() ? "code expired"
            : grant.ClientId != form["client_id"] ? "code was issued to another client"
            : grant.RedirectUri != redirect ? "redirect_uri does not match the authorization request"
            : !VerifierValid(verifier) ? "code_verifier is not 43-128 characters of the unreserved set"
            : !ChallengeMatches(grant, verifier) ? "code_verifier does not match the code_challenge"
            : null;
        if (why is not null)
        {
            await ErrorAsync(context, 400, "invalid_grant", why).ConfigureAwait(false);
            return;
        }

        string? refresh = null;
        if (grant!.Offline)
        {
            refresh = "refresh-" + Interlocked.Increment(ref _counter) + "-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
            lock (_gate)
            {
                _refreshTokens[refresh] = grant;
            }
        }

        await TokensAsync(context, grant, refresh).ConfigureAwait(false);
    }

    private async Task RefreshGrantAsync(HttpListenerContext context, Dictionary<string, string> form)
    {
        if (!form.TryGetValue("refresh_token", out string? refresh))
        {
            await ErrorAsync(context, 400, "invalid_request", "refresh_token is required").ConfigureAwait(false);
            return;
        }

        Grant? grant;
        lock (_gate)
        {
            grant = _refreshTokens.GetValueOrDefault(refresh);
        }

        if (grant is null || grant.Revoked || grant.ClientId != form["client_id"])
        {
            await ErrorAsync(context, 400, "invalid_grant", Kind == OAuthProviderKind.Google ? "Token has been expired or revoked." : "refresh token is invalid or revoked").ConfigureAwait(false);
            return;
        }

        await TokensAsync(context, grant, refreshToken: null).ConfigureAwait(false);
    }

    private async Task TokensAsync(HttpListenerContext context, Grant grant, string? refreshToken)
    {
        string access = (Kind == OAuthProviderKind.Google ? "ya29.double-" : "sl.double-") + Interlocked.Increment(ref _counter) + "-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        lock (_gate)
        {
            _accessTokens[access] = (grant, Clock.GetUtcNow() + Lifetime);
            grant.AccessTokens.Add(access);
        }

        IssuedAccessTokens.Enqueue(access);
        AccessTokenIssued?.Invoke(access, grant.Scopes);
        var response = new Dictionary<string, object>
        {
            ["access_token"] = access,
            ["expires_in"] = (long)Lifetime.TotalSeconds,
            ["token_type"] = Kind == OAuthProviderKind.Google ? "Bearer" : "bearer",
            ["scope"] = string.Join(' ', grant.Scopes),
        };
        if (refreshToken is not null)
        {
            response["refresh_token"] = refreshToken;
        }

        if (Kind == OAuthProviderKind.Dropbox)
        {
            response["account_id"] = "dbid:double-account";
            response["uid"] = "12345";
        }

        await WriteAsync(context, 200, "application/json", JsonSerializer.Serialize(response)).ConfigureAwait(false);
    }

    private void RevokeGrantLocked(Grant grant)
    {
        grant.Revoked = true;
        foreach (string token in grant.AccessTokens)
        {
            _accessTokens.Remove(token);
            AccessTokenRevoked?.Invoke(token);
        }

        foreach (string refresh in _refreshTokens.Where(r => ReferenceEquals(r.Value, grant)).Select(r => r.Key).ToList())
        {
            _refreshTokens.Remove(refresh);
        }
    }

    private static bool VerifierValid(string verifier) =>
        verifier.Length is >= 43 and <= 128 && verifier.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~');

    private static bool ChallengeMatches(Grant grant, string verifier)
    {
        string expected = grant.ChallengeMethod == "S256"
            ? Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_')
            : verifier;
        return expected == grant.Challenge;
    }

    private static Dictionary<string, string> ParseForm(string text, out bool repeated)
    {
        repeated = false;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            string key = Uri.UnescapeDataString((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
            string value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            repeated |= !values.TryAdd(key, value);
        }

        return values;
    }

    private static void Redirect(HttpListenerContext context, string location)
    {
        context.Response.StatusCode = 302;
        context.Response.RedirectLocation = location;
        context.Response.ContentLength64 = 0;
        context.Response.Close();
    }

    private static Task ErrorAsync(HttpListenerContext context, int status, string error, string description) =>
        WriteAsync(context, status, "application/json", JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }));

    private static async Task WriteAsync(HttpListenerContext context, int status, string contentType, string body)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        context.Response.Close();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private sealed record Client(string? Secret, HashSet<string> RedirectUris);

    private sealed record Grant(string ClientId, string? RedirectUri, string Challenge, string ChallengeMethod, string[] Scopes, bool Offline, DateTimeOffset CodeExpires)
    {
        public bool CodeUsed { get; set; }

        public bool Revoked { get; set; }

        public List<string> AccessTokens { get; } = [];
    }
}
