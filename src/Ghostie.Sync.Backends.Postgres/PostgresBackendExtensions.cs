using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.Postgres;

/// <summary>Registers the PostgreSQL backend on the Ghostie builder.</summary>
public static class PostgresBackendExtensions
{
    /// <summary>Uses a repository in a PostgreSQL database (replacing any backend registered before). The options are
    /// validated when the host starts; the first operation checks the schema (creating or migrating it when allowed) and
    /// claims the repository for the role. <see cref="PostgresBackend"/> is also resolvable by its own type (for
    /// <see cref="PostgresBackend.SweepHandoffsAsync"/> and <see cref="PostgresBackend.ListDetailedAsync"/>).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets the connection string, repository and chunk size (see <see cref="PostgresBackendOptions"/>).</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddPostgresBackend(this IGhostieSyncBuilder builder, Action<PostgresBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<PostgresBackendOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresBackendOptions>, PostgresBackendOptionsValidator>());
        builder.Services.Replace(ServiceDescriptor.Singleton(sp => new PostgresBackend(
            sp.GetRequiredService<IOptions<PostgresBackendOptions>>().Value, sp.GetService<ILogger<PostgresBackend>>())));
        builder.Services.Replace(ServiceDescriptor.Singleton<IStorageBackend>(sp => sp.GetRequiredService<PostgresBackend>()));
        return builder;
    }

    private sealed class PostgresBackendOptionsValidator : IValidateOptions<PostgresBackendOptions>
    {
        public ValidateOptionsResult Validate(string? name, PostgresBackendOptions options)
        {
            IReadOnlyList<string> errors = options.GetValidationErrors();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
