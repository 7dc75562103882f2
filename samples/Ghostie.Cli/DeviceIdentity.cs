using System.Text;
using Ghostie.Sync;

namespace Ghostie.Cli;

/// <summary>Device ids as the CLI chooses and accepts them.</summary>
internal static class DeviceIdentity
{
    private const int MaxLength = 64;

    /// <summary>The machine name, lowercased, with every character other than a-z, 0-9, '-', '_' and '.' replaced by '-'.</summary>
    public static string FromMachineName() => Sanitize(Environment.MachineName);

    /// <summary>
    /// The device id a memory written in <paramref name="home"/> carries: the configured one (<c>sync/device_id</c>) when
    /// sync is set up, otherwise <see cref="FromMachineName"/>.
    /// </summary>
    /// <param name="home">The Ghostie home.</param>
    public static string ForHome(GhostieHome home)
    {
        if (File.Exists(home.DeviceIdPath))
        {
            string configured = File.ReadAllText(home.DeviceIdPath).Trim();
            if (configured.Length > 0)
            {
                return configured;
            }
        }

        return FromMachineName();
    }

    /// <summary>Throws a usage error unless <paramref name="id"/> is 1 to 64 characters of letters, digits, '-', '_' and '.'.</summary>
    /// <param name="id">A device id given on the command line.</param>
    public static void Validate(string id)
    {
        if (id.Length is 0 or > MaxLength || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"'{id}' is not a valid device id: use 1 to {MaxLength} letters, digits, '-', '_' and '.'.");
        }
    }

    internal static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (char c in name.ToLowerInvariant())
        {
            bool ok = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '.';
            char mapped = ok ? c : '-';
            if (mapped == '-' && (builder.Length == 0 || builder[^1] == '-'))
            {
                continue; // no leading or doubled separators
            }

            builder.Append(mapped);
        }

        string id = builder.ToString().TrimEnd('-');
        if (id.Length > MaxLength)
        {
            id = id[..MaxLength].TrimEnd('-');
        }

        return id.Length > 0 ? id : "device";
    }
}
