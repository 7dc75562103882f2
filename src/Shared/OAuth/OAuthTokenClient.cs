using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Shared;

// Internal source shared by the OAuth backends (Google Drive, Dropbox). See docs/backends/oauth.md.

/// <summary>An OAuth 2.0 provider as an installed app sees it (RFC 6749, RFC 7636, RFC 8252).</summary>
/// <param name="Name">"Google" or "Dropbox", for messages.</param>
/// <param name="Backend">The backend's name, for messages ("drive").</param>
/// <param name="AuthorizationEndpoint">Where the browser goes.</param>
/// <param name="TokenEndpoint">Where codes and refresh tokens are exchanged.</param>
/// <param name="ExtraAuthorizationParameters">Provider-specific authorize parameters (Dropbox: token_access_type=offline).</param>
/// <param name="PasteNeedsRedirect">Whether the paste flow still sends a loopback redirect_uri (Google, whose
/// out-of-band redirect was retired) or none (Dropbox's no-redirect flow shows the code on its page).</param>
internal sealed record OAuthProvider(string Name, string Backend, Uri AuthorizationEndpoint, Uri TokenEndpoint,
    IReadOnlyList<KeyValuePair<string, string>> ExtraAuthorizationParameters, bool PasteNeedsRedirect);

/// <summary>What a token endpoint returned. <see cref="RefreshToken"/> is null on a refresh that does not rotate it.</summary>
internal sealed record OAuthTokens(string AccessToken, string? RefreshToken, TimeSpan ExpiresIn, string? Scope);

/// <summary>The token endpoint answered with an OAuth error (RFC 6749 section 5.2: HTTP 400 or 401 with a JSON
/// <c>error</c>). <see cref="Error"/> is the provider's code; the message never contains a token or a code.</summary>
internal sealed class OAuthErrorException(string error, string? description, HttpStatusCode status)
    : Exception($"The token endpoint answered HTTP {(int)status} {error}{(description is { Length: > 0 } ? ": " + description : "")}")
{
    public string Error { get; } = error;

    public HttpStatusCode Status { get; } = status;
}

/// <summary>PKCE (RFC 7636): a verifier of 43 characters of the unreserved set, its S256 challenge, and a state.</summary>
internal static class Pkce
{
    public static string NewVerifier() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Challenge(string verifier) => Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    public static string NewState() => Base64Url(RandomNumberGenerator.GetBytes(16));

    public static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// A thin client of an OAuth 2.0 token endpoint: the authorization_code grant with a PKCE verifier, and the
/// refresh_token grant, as form posts with the client id in the body (a public client: no HTTP Basic, the optional
/// client secret in the body as Google's desktop clients take it). Errors are <see cref="OAuthErrorException"/>; a
/// network failure or a 5xx is a transient <see cref="GhostieSyncException"/>.
/// </summary>
internal sealed class OAuthTokenClient : IDisposable
{
    private const int MaxBodyBytes = 64 * 1024;
    private readonly HttpClient _http;

    public OAuthTokenClient(OAuthProvider provider, string clientId, string? clientSecret, HttpMessageHandler? handler)
    {
        Provider = provider;
        ClientId = clientId;
        ClientSecret = clientSecret;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = TimeSpan.FromSeconds(60);
    }

    public OAuthProvider Provider { get; }

    public string ClientId { get; }

    public string? ClientSecret { get; }

    /// <summary>The address the browser opens.</summary>
    public Uri AuthorizationUri(string scope, string challenge, string state, Uri? redirectUri)
    {
        var query = new List<KeyValuePair<string, string>>
        {
            new("client_id", ClientId),
            new("response_type", "code"),
            new("scope", scope),
            new("code_challenge", challenge),
            new("code_challenge_method", "S256"),
            new("state", state),
        };
        if (redirectUri is not null)
        {
            query.Insert(1, new("redirect_uri", redirectUri.ToString()));
        }

        query.AddRange(Provider.ExtraAuthorizationParameters);
        var builder = new UriBuilder(Provider.AuthorizationEndpoint)
        {
            Query = string.Join('&', query.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value))),
        };
        return builder.Uri;
    }

    /// <summary>Exchanges an authorization code (grant_type=authorization_code) with its PKCE verifier.</summary>
    public Task<OAuthTokens> ExchangeCodeAsync(string code, string verifier, Uri? redirectUri, CancellationToken cancellationToken)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "authorization_code"),
            new("code", code),
            new("code_verifier", verifier),
        };
        if (redirectUri is not null)
        {
            form.Add(new("redirect_uri", redirectUri.ToString()));
        }

        return PostAsync(form, cancellationToken);
    }

    /// <summary>Exchanges a refresh token for a new access token (grant_type=refresh_token).</summary>
    public Task<OAuthTokens> RefreshAsync(string refreshToken, CancellationToken cancellationToken) =>
        PostAsync([new("grant_type", "refresh_token"), new("refresh_token", refreshToken)], cancellationToken);

    private async Task<OAuthTokens> PostAsync(List<KeyValuePair<string, string>> form, CancellationToken cancellationToken)
    {
        form.Add(new("client_id", ClientId));
        if (ClientSecret is { Length: > 0 } secret)
        {
            form.Add(new("client_secret", secret));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, Provider.TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.ParseAdd("application/json");
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw Unreachable(e.GetType().Name, e);
        }

        using (response)
        {
            byte[] body = await ReadBoundedAsync(response, cancellationToken).ConfigureAwait(false);
            if ((int)response.StatusCode >= 500)
            {
                throw Unreachable($"HTTP {(int)response.StatusCode}", null);
            }

            JsonElement root;
            try
            {
                using JsonDocument document = JsonDocument.Parse(body);
                root = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"{Provider.Name}'s token endpoint {Provider.TokenEndpoint.GetLeftPart(UriPartial.Path)} answered HTTP {(int)response.StatusCode} with a body that is not JSON. Check the token endpoint setting (token_url).",
                    isTransient: false);
            }

            if (!response.IsSuccessStatusCode || root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("access_token", out JsonElement access) || access.ValueKind != JsonValueKind.String)
            {
                string error = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out JsonElement e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : "invalid_response";
                string? description = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error_description", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                throw new OAuthErrorException(Printable(error, 64), description is null ? null : Printable(description, 200), response.StatusCode);
            }

            string? refresh = root.TryGetProperty("refresh_token", out JsonElement r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            // RFC 6749 5.1: expires_in is RECOMMENDED; without it the token is treated as short-lived (one hour).
            TimeSpan expiresIn = root.TryGetProperty("expires_in", out JsonElement x) && x.ValueKind == JsonValueKind.Number && x.TryGetInt64(out long seconds) && seconds > 0
                ? TimeSpan.FromSeconds(seconds)
                : TimeSpan.FromHours(1);
            string? scope = root.TryGetProperty("scope", out JsonElement s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            return new OAuthTokens(access.GetString()!, refresh, expiresIn, scope);
        }
    }

    private GhostieSyncException Unreachable(string what, Exception? inner) =>
        new(GhostieErrorCode.BackendUnavailable,
            $"{Provider.Name}'s token endpoint {Provider.TokenEndpoint.GetLeftPart(UriPartial.Path)} could not be reached ({what}). Check the network and try again.",
            isTransient: true, inner);

    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            byte[] chunk = new byte[8192];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes)
                {
                    break;
                }

                buffer.Write(chunk, 0, read);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>Provider text for a message: printable ASCII only, bounded (a hostile endpoint cannot write escapes to a terminal).</summary>
    internal static string Printable(string text, int max)
    {
        string clean = new([.. text.Where(c => c is >= ' ' and <= '~')]);
        return clean.Length <= max ? clean : clean[..max];
    }

    public void Dispose() => _http.Dispose();
}
