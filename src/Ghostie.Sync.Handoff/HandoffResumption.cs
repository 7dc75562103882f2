namespace Ghostie.Sync.Handoff;

/// <summary>
/// A resume in progress: the package has been fetched, verified and rebuilt, and (on a backend with conditional
/// writes) this device holds a claim on it, so no other device can resume it meanwhile. <see cref="CompleteAsync"/>
/// consumes it (deletes it from the repository); disposing without completing releases the claim and leaves the
/// package pending, to be resumed again.
/// </summary>
public sealed class HandoffResumption : IAsyncDisposable
{
    private readonly HandoffService _service;
    private readonly string _objectName;
    private readonly string? _claimVersion;
    private readonly bool _consume;
    private int _state; // 0 open, 1 completed, 2 released

    internal HandoffResumption(HandoffService service, string objectName, HandoffPackage package, RebuiltConversation rebuilt, bool consume, string? claimVersion)
    {
        _service = service;
        _objectName = objectName;
        Package = package;
        Conversation = rebuilt;
        _consume = consume;
        _claimVersion = claimVersion;
    }

    /// <summary>The verified package.</summary>
    public HandoffPackage Package { get; }

    /// <summary>The conversation rebuilt within the profile.</summary>
    public RebuiltConversation Conversation { get; }

    /// <summary>Whether completing deletes the package (false when kept: <see cref="HandoffResumeOptions.KeepPackage"/> or <see cref="HandoffOptions.DeleteOnResume"/> off).</summary>
    public bool Consumes => _consume;

    /// <summary>Whether this device holds a claim on the package (only on backends with conditional writes).</summary>
    public bool Claimed => _claimVersion is not null;

    /// <summary>Consumes the package: checks the claim is still this device's, deletes the package, then releases the claim.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">Another device took the claim over after <see cref="HandoffOptions.ClaimTimeout"/> (<see cref="GhostieErrorCode.Busy"/>).</exception>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("This resumption has already been completed or released.");
        }

        if (_consume)
        {
            await _service.ConsumeAsync(_objectName, Package.PackageId, _claimVersion, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Releases the claim unless completed; the package stays pending.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.CompareExchange(ref _state, 2, 0) == 0 && _claimVersion is not null)
        {
            await _service.ReleaseClaimAsync(Package.PackageId, _claimVersion).ConfigureAwait(false);
        }
    }
}
