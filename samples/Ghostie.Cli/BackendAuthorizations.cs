using System.Diagnostics;
using Ghostie.Cli.Output;
using Ghostie.Sync;

namespace Ghostie.Cli;

/// <summary>
/// The OAuth installed-app authorization of the backends that need one (drive, dropbox; <see cref="IAuthorizingBackendFactory"/>),
/// as the CLI runs it: instructions on stderr, the browser when one is at hand, else the paste flow (docs/backends/oauth.md).
/// </summary>
internal static class BackendAuthorizations
{
    /// <summary>The variable naming the browser command (the convention xdg-open and others follow); "none" means no browser.</summary>
    public const string BrowserVariable = "BROWSER";

    /// <summary>
    /// Runs the authorization when <paramref name="backend"/> needs one and the environment supplies no token for it, and
    /// adds what it returns (the refresh token, a client secret) to <paramref name="prompted"/>, which setup stores only once
    /// it succeeded. Returns whether it ran.
    /// </summary>
    public static async Task<bool> AuthorizeIfNeededAsync(string backend, IReadOnlyDictionary<string, string> settings, GhostieHome home,
        Dictionary<string, string> prompted, bool noBrowser, CliContext context, CancellationToken cancellationToken)
    {
        if (Backends.FindFactory(backend) is not IAuthorizingBackendFactory factory || factory.HasCredentialInEnvironment(settings, Environment.GetEnvironmentVariable))
        {
            return false;
        }

        IReadOnlyDictionary<string, string> obtained = await factory.AuthorizeAsync(settings, new CliSecretSource(new Ghostie.Sync.Crypto.DeviceSecretStore(home.Root), prompted),
            CreatePrompt(noBrowser, context), cancellationToken).ConfigureAwait(false);
        foreach ((string name, string value) in obtained)
        {
            prompted[name] = value;
        }

        context.Hint($"Authorized this device for {factory.Describe(settings)}; the refresh token is kept encrypted on this device once this command succeeds.");
        return true;
    }

    /// <summary>The person, as the CLI reaches them: lines on stderr, the browser unless <paramref name="noBrowser"/> or none is
    /// at hand, and a paste read from the terminal (hidden) or, in a script, one line of stdin.</summary>
    public static BackendAuthorizationPrompt CreatePrompt(bool noBrowser, CliContext context) => new()
    {
        Say = line => context.Error.WriteLine(TerminalText.Escape(line)),
        OpenBrowser = noBrowser || BrowserCommand() is not { } browser ? null : uri => Open(browser, uri),
        AskLine = question =>
        {
            if (TerminalPrompter.TryCreate() is { } terminal)
            {
                return terminal.AskSecret(question);
            }

            context.Error.WriteLine(TerminalText.Escape(question));
            return Console.In.ReadLine();
        },
    };

    /// <summary>The browser to start: $BROWSER (unless "none"), else the desktop's opener when there is a desktop (Linux:
    /// DISPLAY or WAYLAND_DISPLAY set), else null (no browser at hand: the paste flow).</summary>
    private static string? BrowserCommand()
    {
        if (Environment.GetEnvironmentVariable(BrowserVariable) is { Length: > 0 } browser)
        {
            return browser == "none" ? null : browser;
        }

        if (OperatingSystem.IsWindows())
        {
            return "explorer";
        }

        if (OperatingSystem.IsMacOS())
        {
            return "open";
        }

        return Environment.GetEnvironmentVariable("DISPLAY") is { Length: > 0 } || Environment.GetEnvironmentVariable("WAYLAND_DISPLAY") is { Length: > 0 }
            ? "xdg-open"
            : null;
    }

    private static bool Open(string browser, Uri uri)
    {
        try
        {
            var start = new ProcessStartInfo(browser) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(uri.AbsoluteUri);
            // The browser's own output is read and dropped, so it neither blocks on a full pipe nor mixes into --json.
            Process? process = Process.Start(start);
            if (process is null)
            {
                return false;
            }

            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return true;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return false;
        }
    }
}
