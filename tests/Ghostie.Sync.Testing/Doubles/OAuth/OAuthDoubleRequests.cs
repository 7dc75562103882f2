using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Testing;

/// <summary>Raw requests to an <see cref="OAuthDouble"/>, written independently of the client under test, for the tests of
/// the double's rules.</summary>
public static class OAuthDoubleRequests
{
    /// <summary>A PKCE pair: a 43-character verifier and its S256 challenge.</summary>
    public static (string Verifier, string Challenge) NewPkce()
    {
        string verifier = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        string challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (verifier, challenge);
    }

    /// <summary>The authorize address with these parameters (null values left out).</summary>
    public static Uri Authorize(OAuthDouble server, params (string Name, string? Value)[] parameters) =>
        new UriBuilder(server.AuthorizationEndpoint)
        {
            Query = string.Join('&', parameters.Where(p => p.Value is not null).Select(p => Uri.EscapeDataString(p.Name) + "=" + Uri.EscapeDataString(p.Value!))),
        }.Uri;

    /// <summary>Plays the browser on the authorize address and returns the code from the redirect (or the Dropbox page).</summary>
    public static async Task<string> CodeAsync(OAuthDouble server, params (string Name, string? Value)[] parameters)
    {
        (HttpStatusCode status, Uri? location, string body) = await OAuthDouble.PlayBrowserAsync(Authorize(server, parameters), followToLoopback: false);
        if (location is not null)
        {
            string query = location.Query.TrimStart('?');
            string pair = query.Split('&').Single(p => p.StartsWith("code=", StringComparison.Ordinal));
            return Uri.UnescapeDataString(pair["code=".Length..]);
        }

        Assert.Equal(HttpStatusCode.OK, status);
        int start = body.IndexOf("id=\"code\">", StringComparison.Ordinal) + "id=\"code\">".Length;
        return body[start..body.IndexOf('<', start)];
    }

    /// <summary>POSTs a form to the token endpoint; returns the status and the JSON body.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Json)> TokenAsync(OAuthDouble server, params (string Name, string Value)[] form)
    {
        using var http = new HttpClient();
        using var content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));
        using HttpResponseMessage response = await http.PostAsync(server.TokenEndpoint, content);
        string body = await response.Content.ReadAsStringAsync();
        using JsonDocument document = JsonDocument.Parse(body);
        return (response.StatusCode, document.RootElement.Clone());
    }

    /// <summary>The "error" of an error body.</summary>
    public static string? Error(this JsonElement json) => json.TryGetProperty("error", out JsonElement e) ? e.GetString() : null;
}
