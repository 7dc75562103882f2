using System.Security.Cryptography;
using System.Text;

namespace Ghostie.Sync.Tests;

/// <summary>Builds an account SAS the documented way (version 2020-12-06 and later: account, permissions, services,
/// resource types, start, expiry, IP, protocol, version, encryption scope, each followed by a newline; HMAC-SHA256
/// under the account key).</summary>
internal static class AccountSas
{
    public static string Create(string account, string base64Key, string permissions, DateTimeOffset expiry,
        string resourceTypes = "sco", string version = "2021-12-02")
    {
        string se = expiry.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        const string services = "b";
        const string protocol = "https,http";
        string stringToSign = string.Join("\n", account, permissions, services, resourceTypes, "", se, "", protocol, version, "", "");
        string sig = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(base64Key), Encoding.UTF8.GetBytes(stringToSign)));
        return $"sv={version}&ss={services}&srt={resourceTypes}&sp={permissions}&se={Uri.EscapeDataString(se)}&spr={Uri.EscapeDataString(protocol)}&sig={Uri.EscapeDataString(sig)}";
    }

    /// <summary>The signature part of a token, as sent (escaped) and decoded.</summary>
    public static string[] SignatureOf(string token)
    {
        string escaped = token.Split('&').Single(p => p.StartsWith("sig=", StringComparison.Ordinal))[4..];
        return [escaped, Uri.UnescapeDataString(escaped)];
    }
}
