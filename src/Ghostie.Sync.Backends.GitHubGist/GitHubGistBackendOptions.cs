namespace Ghostie.Sync.Backends.GitHubGist;

/// <summary>Options of the GitHub gist backend. See docs/backends/github-gist.md for the storage layout.</summary>
public sealed class GitHubGistBackendOptions
{
    /// <summary>The environment variable read first when <see cref="Token"/> is not set.</summary>
    public const string TokenVariable = "GHOSTIE_GITHUB_TOKEN";

    /// <summary>The environment variable read second when <see cref="Token"/> is not set.</summary>
    public const string FallbackTokenVariable = "GITHUB_TOKEN";

    /// <summary>The largest gist ever planned, in bytes of stored text (default 25 MiB).</summary>
    public const long DefaultMaxGistBytes = 25L * 1024 * 1024;

    /// <summary>A GitHub token with the <c>gist</c> scope (classic), or a fine-grained token with the account
    /// permission "Gists: read and write". When null, <see cref="TokenVariable"/> then <see cref="FallbackTokenVariable"/>
    /// are read. Never logged, never part of an exception message.</summary>
    public string? Token { get; set; }

    /// <summary>The REST API root (default https://api.github.com; GitHub Enterprise Server: https://HOST/api/v3;
    /// tests: the loopback protocol double).</summary>
    public Uri ApiBaseUri { get; set; } = new("https://api.github.com");

    /// <summary>Names this repository's gists (their description is <c>ghostie-sync:TAG</c>), so several repositories
    /// can share one account. 1 to 40 characters of a-z, 0-9 and '-' (default "default").</summary>
    public string RepositoryTag { get; set; } = "default";

    /// <summary>The id of the repository's home gist (<see cref="GitHubGistBackend.HomeGistId"/> after the first write;
    /// setup can store it). Optional. When set, every operation checks that this gist still exists and carries
    /// <see cref="RepositoryTag"/>, and fails with <see cref="GhostieErrorCode.StorageNotFound"/> otherwise, instead of
    /// taking a deleted repository for an empty one.</summary>
    public string? HomeGistId { get; set; }

    /// <summary>Retries, backoff, throttling ceiling and the clock (rate-limit waits go through its TimeProvider).</summary>
    public BackendRetryOptions Retry { get; set; } = new();

    /// <summary>Objects up to this size are stored in one gist file (default 1 MiB); larger objects are split into chunk
    /// files plus a small commit record. At least 1 KiB and at most <see cref="ChunkSize"/>.</summary>
    public int InlineMaxBytes { get; set; } = 1024 * 1024;

    /// <summary>The size of one chunk of a large object, before encoding (default 4 MiB, about 5.4 MB of text: below the
    /// 10 MB that raw_url serves). 64 KiB to 7 MiB.</summary>
    public int ChunkSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>The most files the backend puts in one gist, marker included (default 250). The API lists only the first
    /// 300 files of a gist; the headroom absorbs two devices filling the same gist at once. 2 to 300.</summary>
    public int MaxFilesPerGist { get; set; } = 250;

    /// <summary>The most bytes of stored text the backend puts in one gist (default <see cref="DefaultMaxGistBytes"/>);
    /// large objects spill over several gists. Must hold at least one encoded chunk.</summary>
    public long MaxGistBytes { get; set; } = DefaultMaxGistBytes;

    /// <summary>The shortest time between two content-creating requests (default 1 s, as GitHub's best practices ask to
    /// avoid secondary rate limits). <see cref="TimeSpan.Zero"/> disables pacing.</summary>
    public TimeSpan MinimumWriteInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How old an unreferenced chunk, or a gist holding nothing but its marker (by its updated_at), must be
    /// before <see cref="GitHubGistBackend.CleanupAsync"/> deletes it (default 1 day): younger ones may belong to an
    /// upload still in progress on another device. Writes never add to a marker-only gist older than half of it.</summary>
    public TimeSpan OrphanGracePeriod { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The handler HTTP requests go through (tests insert fault injection here). Not disposed by the backend.
    /// Null uses a private <see cref="SocketsHttpHandler"/>.</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>The token to use: <see cref="Token"/>, else the environment variables; null when none is set.</summary>
    public string? ResolveToken()
    {
        foreach (string? candidate in new[] { Token, Environment.GetEnvironmentVariable(TokenVariable), Environment.GetEnvironmentVariable(FallbackTokenVariable) })
        {
            if (!string.IsNullOrWhiteSpace(candidate))
            {
                return candidate.Trim();
            }
        }

        return null;
    }

    /// <summary>Every problem with these options, as messages naming the option and what to do (empty when valid).
    /// Messages never contain the token.</summary>
    public IReadOnlyList<string> GetValidationErrors()
    {
        var errors = new List<string>();
        string? token = ResolveToken();
        if (token is null)
        {
            errors.Add($"No GitHub token: set GitHubGistBackendOptions.Token or the {TokenVariable} environment variable to a token with the gist scope.");
        }
        else if (token.Any(c => c <= ' ' || c > '~'))
        {
            errors.Add("The GitHub token contains spaces or characters a token never has; copy it again.");
        }

        if (ApiBaseUri is null || !ApiBaseUri.IsAbsoluteUri || (ApiBaseUri.Scheme != Uri.UriSchemeHttps && ApiBaseUri.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add("GitHubGistBackendOptions.ApiBaseUri must be an absolute http(s) URI, for example https://api.github.com.");
        }
        else if (ApiBaseUri.Scheme == Uri.UriSchemeHttp && !ApiBaseUri.IsLoopback)
        {
            errors.Add($"GitHubGistBackendOptions.ApiBaseUri '{ApiBaseUri}' is plain http: the token would travel in the clear. Use https.");
        }

        if (!IsValidTag(RepositoryTag))
        {
            errors.Add($"GitHubGistBackendOptions.RepositoryTag '{RepositoryTag}' is invalid: use 1 to 40 characters of a-z, 0-9 and '-'.");
        }

        if (HomeGistId is not null && (HomeGistId.Length is 0 or > 64 || !HomeGistId.All(char.IsAsciiLetterOrDigit)))
        {
            errors.Add($"GitHubGistBackendOptions.HomeGistId '{HomeGistId}' is not a gist id (letters and digits, as in https://gist.github.com/USER/ID).");
        }

        if (ChunkSize is < 64 * 1024 or > 7 * 1024 * 1024)
        {
            errors.Add($"GitHubGistBackendOptions.ChunkSize is {ChunkSize}; use 65,536 to 7,340,032 bytes.");
        }

        if (InlineMaxBytes < 1024 || InlineMaxBytes > ChunkSize)
        {
            errors.Add($"GitHubGistBackendOptions.InlineMaxBytes is {InlineMaxBytes}; use 1,024 up to ChunkSize ({ChunkSize}).");
        }

        if (MaxFilesPerGist is < 2 or > 300)
        {
            errors.Add($"GitHubGistBackendOptions.MaxFilesPerGist is {MaxFilesPerGist}; use 2 to 300 (the API lists at most 300 files of a gist).");
        }

        long encodedChunk = Internal.GistFormat.EncodedLength(Math.Max(ChunkSize, InlineMaxBytes)) + Internal.GistFormat.HeaderAllowance;
        if (MaxGistBytes < encodedChunk)
        {
            errors.Add($"GitHubGistBackendOptions.MaxGistBytes is {MaxGistBytes}; it must hold at least one encoded chunk ({encodedChunk} bytes).");
        }

        if (MinimumWriteInterval < TimeSpan.Zero || OrphanGracePeriod < TimeSpan.Zero)
        {
            errors.Add("GitHubGistBackendOptions.MinimumWriteInterval and OrphanGracePeriod must not be negative.");
        }

        if (Retry is null)
        {
            errors.Add("GitHubGistBackendOptions.Retry must be set.");
        }
        else
        {
            try
            {
                Retry.Validate();
            }
            catch (GhostieSyncException ex)
            {
                errors.Add(ex.Message);
            }
        }

        return errors;
    }

    internal static bool IsValidTag(string? tag) =>
        !string.IsNullOrEmpty(tag) && tag.Length <= 40 && tag.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
}
