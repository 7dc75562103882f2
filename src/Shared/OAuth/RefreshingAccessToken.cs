namespace Ghostie.Sync.Shared;

/// <summary>
/// The access token a backend sends, from a refresh token: refreshed before it expires (when less than
/// <see cref="Margin"/> of its <c>expires_in</c> is left, by the <see cref="TimeProvider"/>), and on demand after the API
/// refused it. Concurrent callers share one refresh. A refused refresh token (<c>invalid_grant</c>) is a
/// <see cref="BackendAuthorizationRevokedException"/>. The access token lives in memory only.
/// </summary>
internal sealed class RefreshingAccessToken : IDisposable
{
    private readonly OAuthTokenClient _client;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string _refreshToken;
    private string? _accessToken;
    private DateTimeOffset _refreshAt;

    /// <param name="client">The provider's token endpoint.</param>
    /// <param name="refreshToken">The refresh token from the device's credential store.</param>
    /// <param name="time">The clock (tests: a fake one).</param>
    /// <param name="margin">How long before expiry to refresh.</param>
    public RefreshingAccessToken(OAuthTokenClient client, string refreshToken, TimeProvider time, TimeSpan margin)
    {
        _client = client;
        _refreshToken = refreshToken;
        _time = time;
        Margin = margin;
    }

    /// <summary>How long before expiry the token is refreshed.</summary>
    public TimeSpan Margin { get; }

    /// <summary>How many refresh grants were sent (for tests and --verbose counts).</summary>
    public int Refreshes { get; private set; }

    /// <summary>Called when the provider rotated the refresh token (a refresh response carried a new one), with the new one.</summary>
    public Action<string>? RefreshTokenRotated { get; init; }

    /// <summary>The provider delegate the backends' options take: <c>false</c> for the current token (refreshed first if
    /// it is due), <c>true</c> after the API refused it (refreshed now).</summary>
    public async ValueTask<string> GetAsync(bool refused, CancellationToken cancellationToken)
    {
        if (!refused && Volatile.Read(ref _accessToken) is string current && _time.GetUtcNow() < _refreshAt)
        {
            return current;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!refused && _accessToken is string fresh && _time.GetUtcNow() < _refreshAt)
            {
                return fresh;  // another caller refreshed it meanwhile
            }

            OAuthTokens tokens;
            try
            {
                Refreshes++;
                tokens = await _client.RefreshAsync(_refreshToken, cancellationToken).ConfigureAwait(false);
            }
            catch (OAuthErrorException e) when (e.Error is "invalid_grant")
            {
                throw new BackendAuthorizationRevokedException(_client.Provider.Name, _client.Provider.Backend, e.Error);
            }
            catch (OAuthErrorException e)
            {
                // invalid_client, unauthorized_client: the client id (or secret) is wrong for this refresh token.
                throw new GhostieSyncException(GhostieErrorCode.AccessDenied,
                    $"{_client.Provider.Name} refused to refresh the access token ({e.Error}): the client id '{_client.ClientId}' does not match the one this device was authorized with, or its client secret is wrong. "
                    + $"Fix the client id setting, or run '{BackendAuthorizationRevokedException.RotateCommand}' to authorize again.", isTransient: false);
            }

            if (tokens.RefreshToken is { Length: > 0 } rotated && rotated != _refreshToken)
            {
                _refreshToken = rotated;
                RefreshTokenRotated?.Invoke(rotated);
            }

            TimeSpan lead = tokens.ExpiresIn > Margin * 2 ? Margin : tokens.ExpiresIn / 2;
            _refreshAt = _time.GetUtcNow() + tokens.ExpiresIn - lead;
            Volatile.Write(ref _accessToken, tokens.AccessToken);
            return tokens.AccessToken;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _gate.Dispose();
        _client.Dispose();
    }
}
