using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync;

/// <summary>
/// The health of one registered backend: its factory's cheap probe (<see cref="IStorageBackendFactory.ProbeAsync"/>: a
/// listing of the <c>keys/</c> prefix stopped at the first name, one request on every network backend; the folder backend
/// also requires the folder to exist). Nothing is written. Healthy when the storage answers; Unhealthy with a message
/// naming the backend (its kind and <see cref="IStorageBackend.DisplayName"/>) and the error's code and text, which never
/// carry a secret; the exception itself is not attached (a client library's inner exception might). Registered per
/// repository by <see cref="GhostieHealthChecksBuilderExtensions.AddGhostieHealthChecks"/>.
/// </summary>
public sealed class GhostieStorageHealthCheck : IHealthCheck
{
    private readonly Func<IStorageBackend> _backend;
    private readonly IStorageBackendFactory _factory;
    private readonly string _kind;

    /// <summary>Creates the check.</summary>
    /// <param name="backend">Returns the backend (resolved on the first check, so a backend that fails to build is reported, not thrown at start).</param>
    /// <param name="factory">The factory of the backend's kind: its <see cref="IStorageBackendFactory.ProbeAsync"/> and name.</param>
    public GhostieStorageHealthCheck(Func<IStorageBackend> backend, IStorageBackendFactory factory)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(factory);
        _backend = backend;
        _factory = factory;
        _kind = factory.Name;
    }

    /// <inheritdoc/>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        string where = $"the {_kind} backend";
        try
        {
            IStorageBackend backend = _backend();
            where = $"the {_kind} backend ({backend.DisplayName})";
            await _factory.ProbeAsync(backend, cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"{Capitalized(where)} answered.",
                data: new Dictionary<string, object> { ["backend"] = _kind });
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (GhostieSyncException e)
        {
            return new HealthCheckResult(context?.Registration?.FailureStatus ?? HealthStatus.Unhealthy,
                $"{Capitalized(where)} did not answer ({e.Code}{(e.IsTransient ? ", transient" : "")}): {e.Message}",
                data: new Dictionary<string, object> { ["backend"] = _kind, ["code"] = e.Code.ToString(), ["transient"] = e.IsTransient });
        }
        catch (Exception e)
        {
            // Not one of our typed errors: a client library's text may quote a connection string, so only its type is shown.
            return new HealthCheckResult(context?.Registration?.FailureStatus ?? HealthStatus.Unhealthy,
                $"{Capitalized(where)} did not answer ({e.GetType().Name}{(e is OptionsValidationException v ? ": " + string.Join("; ", v.Failures) : "")}).",
                data: new Dictionary<string, object> { ["backend"] = _kind });
        }
    }

    private static string Capitalized(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}

/// <summary>Registers the Ghostie backends' health checks.</summary>
public static class GhostieHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a <see cref="GhostieStorageHealthCheck"/> for every repository whose backend is registered with an
    /// <c>Add...Backend</c> extension, whether before or after this call: "ghostie" for the default repository and
    /// "ghostie:NAME" for a named one, tagged "ghostie" and the backend's kind ("s3", ...).
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="failureStatus">The status reported when a backend does not answer. Default <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="timeout">How long one probe may take. Default: no limit of its own.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddGhostieHealthChecks(this IHealthChecksBuilder builder, HealthStatus? failureStatus = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // The backends may be registered after this call, so the checks are added when the options are first read.
        builder.Services.AddSingleton<IConfigureOptions<HealthCheckServiceOptions>>(sp => new ConfigureOptions<HealthCheckServiceOptions>(options =>
        {
            foreach (RepositoryName repository in sp.GetServices<RepositoryName>())
            {
                string name = repository.Name;
                StorageBackendRegistration registration = name.Length == 0
                    ? sp.GetRequiredService<StorageBackendRegistration>()
                    : sp.GetRequiredKeyedService<StorageBackendRegistration>(name);
                IStorageBackendFactory factory = registration.Factory;
                string checkName = name.Length == 0 ? "ghostie" : "ghostie:" + name;
                if (options.Registrations.Any(r => r.Name == checkName))
                {
                    continue;
                }

                options.Registrations.Add(new HealthCheckRegistration(checkName,
                    services => new GhostieStorageHealthCheck(
                        () => name.Length == 0 ? services.GetRequiredService<IStorageBackend>() : services.GetRequiredKeyedService<IStorageBackend>(name), factory),
                    failureStatus, ["ghostie", factory.Name], timeout));
            }
        }));
        return builder;
    }
}
