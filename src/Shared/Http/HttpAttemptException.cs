using System.Net;

namespace Ghostie.Sync.Shared;

// Internal source shared by the HTTP backends (Azure Blob, GitHub Gist). See docs/architecture.md.

/// <summary>Thrown inside an attempt to report a failed HTTP response to <see cref="BackendRetry"/>; carries the
/// verdict so classification reads the status and headers once. Backends turn it into their own error when it is
/// permanent.</summary>
internal sealed class HttpAttemptException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="status">The HTTP status.</param>
    /// <param name="verdict">What to do about it.</param>
    /// <param name="serviceCode">The service's error code (for example "ContainerNotFound"), if the body named one.</param>
    public HttpAttemptException(HttpStatusCode status, RetryVerdict verdict, string? serviceCode)
        : base(verdict.Reason + (serviceCode is null ? "" : $" ({serviceCode})"))
    {
        Status = status;
        Verdict = verdict;
        ServiceCode = serviceCode;
    }

    /// <summary>The HTTP status.</summary>
    public HttpStatusCode Status { get; }

    /// <summary>The classification.</summary>
    public RetryVerdict Verdict { get; }

    /// <summary>The service's error code, if any.</summary>
    public string? ServiceCode { get; }
}
