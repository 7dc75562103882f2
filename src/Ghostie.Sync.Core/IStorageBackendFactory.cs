using Microsoft.Extensions.Logging;

namespace Ghostie.Sync;

/// <summary>
/// Builds one kind of storage backend from the non-secret settings saved in <c>sync/config.json</c>
/// (<see cref="SyncConfiguration.Settings"/>) and the secrets a <see cref="IBackendSecretSource"/> finds. Each backend
/// package has one, named as <see cref="SyncConfiguration.Backend"/> names it ("folder", "s3", "azure", "gist",
/// "postgres"); its <c>Add...Backend</c> extensions register it, and <see cref="StorageBackendFactories"/> finds it by
/// name. This is the one mapping from saved settings to a backend: the CLI and every host reopen a home through it.
/// </summary>
public interface IStorageBackendFactory
{
    /// <summary>The backend's name, as saved in <see cref="SyncConfiguration.Backend"/>, for example "s3".</summary>
    string Name { get; }

    /// <summary>The storage the settings describe, for messages before a backend exists (for example
    /// "S3 bucket 'notes' at https://..."). Never a secret.</summary>
    /// <param name="settings">The saved settings.</param>
    string Describe(IReadOnlyDictionary<string, string> settings);

    /// <summary>
    /// Builds the backend the settings describe. Backends that can check cheaply that the storage is reachable do so here
    /// (S3 probes conditional writes, PostgreSQL connects once), so a wrong credential is reported now.
    /// </summary>
    /// <param name="settings">The saved settings.</param>
    /// <param name="secrets">Where credentials come from (the variables the settings name, a device store, a prompt).</param>
    /// <param name="createStore">Create the bucket or container when missing (S3, Azure); ignored by the others.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The backend; the caller disposes it when it is <see cref="IDisposable"/>.</returns>
    /// <exception cref="GhostieSyncException">A required setting is missing (<see cref="GhostieErrorCode.NotConfigured"/>),
    /// a credential is missing (<see cref="MissingBackendCredentialException"/>), or the storage refused or is unreachable.</exception>
    Task<IStorageBackend> CreateAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets, bool createStore = false,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="CreateAsync(IReadOnlyDictionary{string, string}, IBackendSecretSource, bool, CancellationToken)"/>, with the
    /// backend's log events (retries, throttling, resumed transfers, cleanup) going to <paramref name="loggerFactory"/>, as they
    /// do under DI: the <c>ghostie --verbose</c> flag and hosts that build backends from saved settings use this one. The
    /// default ignores the logger (a backend that logs nothing, such as the folder backend); backends that log implement it.
    /// </summary>
    /// <param name="settings">The saved settings.</param>
    /// <param name="secrets">Where credentials come from.</param>
    /// <param name="loggerFactory">Where the backend's log events go.</param>
    /// <param name="createStore">Create the bucket or container when missing (S3, Azure); ignored by the others.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The backend; the caller disposes it when it is <see cref="IDisposable"/>.</returns>
    /// <exception cref="GhostieSyncException">As the overload without a logger.</exception>
    Task<IStorageBackend> CreateAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets, ILoggerFactory loggerFactory,
        bool createStore = false, CancellationToken cancellationToken = default) =>
        CreateAsync(settings, secrets, createStore, cancellationToken);

    /// <summary>
    /// A cheap health probe of a backend of this kind that writes nothing (<see cref="GhostieStorageHealthCheck"/> runs it).
    /// The default lists the <c>keys/</c> prefix and stops at the first name: one request on a network backend.
    /// </summary>
    /// <param name="backend">A backend this factory (or its package's extension) built.</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <exception cref="GhostieSyncException">The storage did not answer, refused, or is missing.</exception>
    async Task ProbeAsync(IStorageBackend backend, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        await foreach (string _ in backend.ListAsync("keys/", cancellationToken).ConfigureAwait(false))
        {
            break;
        }
    }
}

/// <summary>A <see cref="IStorageBackendFactory"/> that also turns the backend's options (as registered under DI) into the
/// settings saved for it, so that setup saves exactly what the registered backend uses.</summary>
/// <typeparam name="TOptions">The backend's options type.</typeparam>
public interface IStorageBackendFactory<in TOptions> : IStorageBackendFactory
    where TOptions : class
{
    /// <summary>The non-secret settings that describe a backend built from <paramref name="options"/>: what
    /// <see cref="IStorageBackendFactory.CreateAsync(IReadOnlyDictionary{string, string}, IBackendSecretSource, bool, CancellationToken)"/> needs to build the same backend again. Secrets are never included;
    /// a setting may name the environment variable a secret is read from.</summary>
    /// <param name="options">The options.</param>
    Dictionary<string, string> GetSettings(TOptions options);
}
