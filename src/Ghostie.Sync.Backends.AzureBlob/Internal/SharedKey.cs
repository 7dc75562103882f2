using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Ghostie.Sync.Backends.AzureBlob.Internal;

/// <summary>
/// Shared Key authorization of Blob service requests (version 2009-09-19 and later): an HMAC-SHA256, under the
/// account key, of the verb, twelve standard headers, the canonicalized <c>x-ms-*</c> headers and the canonicalized
/// resource (<c>/account/path</c> then each query parameter as <c>\nname:value</c>, names lowercased and sorted).
/// The string is built from the request exactly as it will be sent, so what is signed is what goes on the wire.
/// </summary>
internal static class SharedKey
{
    /// <summary>Sets the <c>Authorization: SharedKey account:signature</c> header. Call after all headers and the content are set.</summary>
    public static void Authorize(HttpRequestMessage request, string accountName, byte[] key)
    {
        string signature = Sign(StringToSign(request, accountName), key);
        request.Headers.TryAddWithoutValidation("Authorization", $"SharedKey {accountName}:{signature}");
    }

    /// <summary>The base64 HMAC-SHA256 of <paramref name="stringToSign"/> (UTF-8) under <paramref name="key"/>.</summary>
    public static string Sign(string stringToSign, byte[] key) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));

    /// <summary>The string to sign for <paramref name="request"/>.</summary>
    public static string StringToSign(HttpRequestMessage request, string accountName)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.RequestUri);
        long? length = request.Content?.Headers.ContentLength;
        var builder = new StringBuilder(256);
        builder.Append(request.Method.Method).Append('\n');
        builder.Append(Header(request, "Content-Encoding")).Append('\n');
        builder.Append(Header(request, "Content-Language")).Append('\n');
        // Since version 2015-02-21 a zero length is signed as an empty string.
        builder.Append(length is > 0 ? length.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "").Append('\n');
        builder.Append(Header(request, "Content-MD5")).Append('\n');
        builder.Append(Header(request, "Content-Type")).Append('\n');
        builder.Append(Header(request, "Date")).Append('\n');
        builder.Append(Header(request, "If-Modified-Since")).Append('\n');
        builder.Append(Header(request, "If-Match")).Append('\n');
        builder.Append(Header(request, "If-None-Match")).Append('\n');
        builder.Append(Header(request, "If-Unmodified-Since")).Append('\n');
        builder.Append(Header(request, "Range")).Append('\n');
        AppendCanonicalizedHeaders(builder, request);
        AppendCanonicalizedResource(builder, request.RequestUri, accountName);
        return builder.ToString();
    }

    private static string Header(HttpRequestMessage request, string name)
    {
        if (request.Headers.NonValidated.TryGetValues(name, out HeaderStringValues values)
            || (request.Content is not null && request.Content.Headers.NonValidated.TryGetValues(name, out values)))
        {
            return string.Join(",", values);
        }

        return "";
    }

    private static void AppendCanonicalizedHeaders(StringBuilder builder, HttpRequestMessage request)
    {
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Collect(HttpHeadersNonValidated source)
        {
            foreach (KeyValuePair<string, HeaderStringValues> header in source)
            {
                if (header.Key.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
                {
                    headers[header.Key.ToLowerInvariant()] = string.Join(",", header.Value.Select(Unfold));
                }
            }
        }

        Collect(request.Headers.NonValidated);
        if (request.Content is not null)
        {
            Collect(request.Content.Headers.NonValidated);
        }

        foreach ((string name, string value) in headers)
        {
            builder.Append(name).Append(':').Append(value).Append('\n');
        }
    }

    /// <summary>Trims a header value and replaces runs of whitespace outside quotes with one space, as documented.</summary>
    private static string Unfold(string value)
    {
        value = value.Trim();
        if (!value.Any(char.IsWhiteSpace))
        {
            return value;
        }

        var result = new StringBuilder(value.Length);
        bool quoted = false;
        bool lastWasSpace = false;
        foreach (char c in value)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }

            if (!quoted && char.IsWhiteSpace(c))
            {
                if (!lastWasSpace)
                {
                    result.Append(' ');
                }

                lastWasSpace = true;
                continue;
            }

            result.Append(c);
            lastWasSpace = false;
        }

        return result.ToString();
    }

    private static void AppendCanonicalizedResource(StringBuilder builder, Uri uri, string accountName)
    {
        // Path-style endpoints (Azurite) carry the account in the path too, so it appears twice: that is documented.
        builder.Append('/').Append(accountName).Append(uri.AbsolutePath);
        string query = uri.Query.TrimStart('?');
        if (query.Length == 0)
        {
            return;
        }

        var parameters = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            string name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]).ToLowerInvariant();
            string value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            if (!parameters.TryGetValue(name, out List<string>? list))
            {
                parameters[name] = list = [];
            }

            list.Add(value);
        }

        foreach ((string name, List<string> values) in parameters)
        {
            values.Sort(StringComparer.Ordinal);
            builder.Append('\n').Append(name).Append(':').Append(string.Join(",", values));
        }
    }
}
