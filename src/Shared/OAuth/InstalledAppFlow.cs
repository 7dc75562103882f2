using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ghostie.Sync.Shared;

/// <summary>
/// The installed-app authorization (RFC 8252): authorization code with PKCE S256 and a state, either through the
/// browser with a loopback redirect (<c>http://127.0.0.1:PORT/</c>, this process listening there), or, with no browser
/// at hand, by paste: Google still redirects to the loopback address (its out-of-band flow was retired), and the
/// person pastes the address the browser ended on (or just its code); Dropbox's no-redirect flow shows the code on its
/// page and the person pastes it.
/// </summary>
internal static class InstalledAppFlow
{
    /// <summary>Runs the flow and returns the tokens. The code is exchanged once, with the verifier and the same redirect_uri.</summary>
    /// <param name="client">The provider's endpoints and the client id.</param>
    /// <param name="scope">The scopes, space-separated.</param>
    /// <param name="prompt">The person.</param>
    /// <param name="redirectPort">The loopback port (0: any free port; Dropbox needs the registered one).</param>
    /// <param name="cancellationToken">Cancels the flow.</param>
    public static async Task<OAuthTokens> AuthorizeAsync(OAuthTokenClient client, string scope, BackendAuthorizationPrompt prompt, int redirectPort,
        CancellationToken cancellationToken)
    {
        string verifier = Pkce.NewVerifier();
        string state = Pkce.NewState();
        string challenge = Pkce.Challenge(verifier);
        string provider = client.Provider.Name;
        string code;
        Uri? redirect;
        if (prompt.OpenBrowser is { } open)
        {
            using var listener = LoopbackListener.Start(redirectPort);
            redirect = listener.RedirectUri;
            Uri address = client.AuthorizationUri(scope, challenge, state, redirect);
            prompt.Say($"Opening your browser to authorize ghostie with {provider}. If it does not open, visit this address:");
            prompt.Say(address.AbsoluteUri);
            if (!open(address))
            {
                prompt.Say("(No browser could be started; open the address above yourself, on this device.)");
            }

            prompt.Say($"Waiting for {provider} to send the browser back to {redirect} ...");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(prompt.Timeout);
            try
            {
                code = await listener.WaitForCodeAsync(state, provider, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                    $"{provider} did not send the browser back to {redirect} within {prompt.Timeout.TotalMinutes:0.#} minutes. Nothing was changed. Run the command again, or add --no-browser to paste the code instead.");
            }
        }
        else
        {
            Func<string, string?> ask = prompt.AskLine ?? throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"Authorizing with {provider} needs a browser on this device or a terminal to paste a code into, and there is neither. Nothing was changed. Run the command on a terminal.");
            redirect = client.Provider.PasteNeedsRedirect ? new Uri($"http://127.0.0.1:{(redirectPort > 0 ? redirectPort : LoopbackListener.FreePort())}/") : null;
            Uri address = client.AuthorizationUri(scope, challenge, state, redirect);
            prompt.Say($"Open this address in a browser on any device and allow access for ghostie:");
            prompt.Say(address.AbsoluteUri);
            string question;
            if (redirect is null)
            {
                question = $"{provider} then shows an authorization code. Paste it here:";
            }
            else
            {
                prompt.Say($"{provider} then sends the browser to an address starting with {redirect}, which may fail to load on another device: that is expected.");
                question = "Copy that whole address from the browser's address bar (or just its code= value) and paste it here:";
            }

            code = ParsePasted(ask(question), state, provider);
        }

        try
        {
            return await client.ExchangeCodeAsync(code, verifier, redirect, cancellationToken).ConfigureAwait(false);
        }
        catch (OAuthErrorException e)
        {
            throw new GhostieSyncException(GhostieErrorCode.AccessDenied,
                $"{provider} refused the authorization code ({e.Error}): it was mistyped, already used or expired, or the client id is not the one the address was made for. Nothing was changed. Run the command again.",
                isTransient: false);
        }
    }

    /// <summary>The code from what the person pasted: the redirected address (its state must match) or the bare code.</summary>
    internal static string ParsePasted(string? pasted, string state, string provider)
    {
        string text = (pasted ?? "").Trim();
        if (text.Length == 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured, $"No authorization code was given for {provider}. Nothing was changed. Run the command again.");
        }

        if (!text.Contains("code=", StringComparison.Ordinal) && !text.Contains("error=", StringComparison.Ordinal))
        {
            return text.Any(c => c <= ' ' || c > '~')
                ? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"What was pasted is not an authorization code from {provider} (it has spaces or unusual characters). Nothing was changed. Run the command again and paste the code or the whole address.")
                : text;
        }

        int query = text.IndexOf('?', StringComparison.Ordinal);
        Dictionary<string, string> parameters = ParseQuery(query >= 0 ? text[(query + 1)..] : text);
        return CodeFrom(parameters, state, provider);
    }

    internal static string CodeFrom(Dictionary<string, string> parameters, string state, string provider)
    {
        if (parameters.TryGetValue("error", out string? error))
        {
            throw new GhostieSyncException(GhostieErrorCode.AccessDenied,
                error == "access_denied"
                    ? $"Access was not allowed at {provider}'s consent page. Nothing was changed. Run the command again and choose Allow."
                    : $"{provider} ended the authorization with the error {OAuthTokenClient.Printable(error, 64)}. Nothing was changed. Run the command again.");
        }

        if (!parameters.TryGetValue("state", out string? returned) || returned != state)
        {
            // A redirect without our state is not an answer to this request (an old tab, or a forged request).
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"The address does not belong to this authorization (its state does not match). Nothing was changed. Run the command again and paste the address of this run.");
        }

        return parameters.TryGetValue("code", out string? code) && code.Length > 0
            ? code
            : throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"The address carries no code from {provider}. Nothing was changed. Run the command again.");
    }

    internal static Dictionary<string, string> ParseQuery(string query)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            string key = Uri.UnescapeDataString((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
            string value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            parameters.TryAdd(key, value);
        }

        return parameters;
    }
}

/// <summary>
/// The loopback redirect target: a TCP listener on 127.0.0.1 that reads the browser's one GET request, takes the code
/// from its query, and answers with a short page. Requests for other paths (a favicon) get 404; a request whose state does
/// not match is answered 400 and waited past.
/// </summary>
internal sealed class LoopbackListener : IDisposable
{
    private const int MaxRequestBytes = 16 * 1024;
    private readonly TcpListener _listener;

    private LoopbackListener(TcpListener listener)
    {
        _listener = listener;
        RedirectUri = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
    }

    public Uri RedirectUri { get; }

    public static LoopbackListener Start(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"Could not listen on http://127.0.0.1:{port}/ for the authorization redirect ({e.SocketErrorCode}): another program uses the port. Close it, choose another redirect port, or add --no-browser.");
        }

        return new LoopbackListener(listener);
    }

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async Task<string> WaitForCodeAsync(string state, string provider, CancellationToken cancellationToken)
    {
        while (true)
        {
            using TcpClient connection = await _listener.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
            NetworkStream stream = connection.GetStream();
            string? target = await ReadRequestTargetAsync(stream, cancellationToken).ConfigureAwait(false);
            if (target is null || !target.StartsWith('/'))
            {
                await RespondAsync(stream, 400, "Bad request", "This address only takes the authorization redirect.", cancellationToken).ConfigureAwait(false);
                continue;
            }

            int query = target.IndexOf('?', StringComparison.Ordinal);
            string path = query < 0 ? target : target[..query];
            if (path != RedirectUri.AbsolutePath)
            {
                await RespondAsync(stream, 404, "Not found", "Not the authorization redirect.", cancellationToken).ConfigureAwait(false);
                continue;
            }

            Dictionary<string, string> parameters = InstalledAppFlow.ParseQuery(query < 0 ? "" : target[(query + 1)..]);
            try
            {
                string code = InstalledAppFlow.CodeFrom(parameters, state, provider);
                await RespondAsync(stream, 200, "Authorized", $"ghostie received the authorization from {provider}. You can close this tab and return to the terminal.", cancellationToken).ConfigureAwait(false);
                return code;
            }
            catch (GhostieSyncException e) when (e.Code == GhostieErrorCode.InvalidArgument)
            {
                await RespondAsync(stream, 400, "Not this authorization", "This redirect does not belong to the authorization ghostie is waiting for.", cancellationToken).ConfigureAwait(false);
            }
            catch (GhostieSyncException)
            {
                await RespondAsync(stream, 200, "Not authorized", $"{provider} did not authorize ghostie. Return to the terminal.", cancellationToken).ConfigureAwait(false);
                throw;
            }
        }
    }

    private static async Task<string?> ReadRequestTargetAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[MaxRequestBytes];
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            filled += read;
            if (buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        string head = Encoding.ASCII.GetString(buffer, 0, filled);
        int end = head.IndexOf("\r\n", StringComparison.Ordinal);
        string[] parts = (end < 0 ? head : head[..end]).Split(' ');
        return parts.Length == 3 && parts[0] == "GET" && parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal) ? parts[1] : null;
    }

    private static async Task RespondAsync(NetworkStream stream, int status, string title, string text, CancellationToken cancellationToken)
    {
        string html = $"<!doctype html><html><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(title)}</title></head><body><p>{WebUtility.HtmlEncode(text)}</p></body></html>";
        byte[] body = Encoding.UTF8.GetBytes(html);
        string reason = status switch { 200 => "OK", 404 => "Not Found", _ => "Bad Request" };
        byte[] head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body.Length}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
        try
        {
            await stream.WriteAsync(head, cancellationToken).ConfigureAwait(false);
            await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // the browser went away; the code (if any) is still good
        }
    }

    public void Dispose() => _listener.Dispose();
}
