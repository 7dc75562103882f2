using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Backends.GitHubGist.Internal;

/// <summary>Gist backend log events. Ids are stable; the token, contents and URLs with secrets are never parameters.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "GitHub API rate limit exhausted; waiting {Seconds:0.#} s until it resets at {Reset:u} before {Operation}")]
    public static partial void WaitingForRateLimit(ILogger logger, double seconds, DateTimeOffset reset, string operation);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "GitHub throttled {Operation} ({Reason}); retrying after {Seconds:0.#} s")]
    public static partial void Throttled(ILogger logger, string operation, string reason, double seconds);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Could not remove superseded or leftover gist files after {Operation}; a later cleanup removes them: {Reason}")]
    public static partial void LeftoverCleanupFailed(ILogger logger, string operation, string reason);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Information, Message = "Created gist {GistId} for repository tag {Tag}")]
    public static partial void GistCreated(ILogger logger, string gistId, string tag);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Information, Message = "Cleanup removed {Files} file(s) and {Gists} empty gist(s) of repository tag {Tag}")]
    public static partial void CleanedUp(ILogger logger, int files, int gists, string tag);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Debug, Message = "The gist listing changed while it was paged; listing again (listing {Round})")]
    public static partial void ListingChanged(ILogger logger, int round);

    [LoggerMessage(EventId = 4107, Level = LogLevel.Information, Message = "Cleanup left marker-only gist {GistId}: it changed since it was listed")]
    public static partial void EmptyGistChanged(ILogger logger, string gistId);
}
