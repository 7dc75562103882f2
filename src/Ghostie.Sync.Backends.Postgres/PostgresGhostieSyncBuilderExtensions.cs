using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.Postgres;

/// <summary>Registers the PostgreSQL backend on the Ghostie builder. Every overload replaces the backend registered before for
/// the same repository, validates the options when the host starts, and registers <see cref="PostgresBackendFactory"/>, which
/// reopens a home whose <c>sync/config.json</c> says "postgres". The first operation checks the schema (creating or migrating it when allowed) and claims the repository for the role. <see cref="PostgresBackend"/> is also resolvable by its own type (for <see cref="PostgresBackend.SweepHandoffsAsync"/> and <see cref="PostgresBackend.ListDetailedAsync"/>).</summary>
public static class PostgresGhostieSyncBuilderExtensions
{
    /// <summary>Uses a repository in a PostgreSQL database as the repository, with options configured elsewhere (for example
    /// <c>services.Configure&lt;PostgresBackendOptions&gt;(...)</c>).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddPostgresBackend(this IGhostieSyncBuilder builder) => Register(builder, Options.DefaultName, _ => { });

    /// <summary>Uses a repository in a PostgreSQL database as the repository.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets the connection string, repository and chunk size (see <see cref="PostgresBackendOptions"/>).</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddPostgresBackend(this IGhostieSyncBuilder builder, Action<PostgresBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, Options.DefaultName, o => o.Configure(configure));
    }

    /// <summary>Uses a repository in a PostgreSQL database as the repository named <paramref name="name"/>, one of several in this host (see
    /// <see cref="GhostieSyncBuilderExtensions"/>): its backend is the keyed service of that name, its options the named options.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="name">The repository name.</param>
    /// <param name="configure">Sets the connection string, repository and chunk size (see <see cref="PostgresBackendOptions"/>).</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddPostgresBackend(this IGhostieSyncBuilder builder, string name, Action<PostgresBackendOptions> configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, name, o => o.Configure(configure));
    }

    /// <summary>Uses a repository in a PostgreSQL database as the repository, its options bound from a configuration section (<c>Repository</c>, <c>Schema</c>, ...; a connection string with a password belongs in a secret store, not in appsettings.json).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configuration">The section, for example <c>configuration.GetSection("Ghostie:Postgres")</c>.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddPostgresBackend(this IGhostieSyncBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(builder, Options.DefaultName, o => o.Bind(configuration));
    }

    private static IGhostieSyncBuilder Register(IGhostieSyncBuilder builder, string name, Action<OptionsBuilder<PostgresBackendOptions>> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        configure(builder.Services.AddOptions<PostgresBackendOptions>(name).ValidateOnStart());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresBackendOptions>, OptionsValidator>());
        return builder.AddStorageBackend(name, new PostgresBackendFactory(), (sp, o) => new PostgresBackend(o, sp.GetService<ILogger<PostgresBackend>>()));
    }

    /// <summary>Reports every invalid option with the message the backend would throw.</summary>
    private sealed class OptionsValidator : IValidateOptions<PostgresBackendOptions>
    {
        public ValidateOptionsResult Validate(string? name, PostgresBackendOptions options)
        {
            IReadOnlyList<string> errors = options.GetValidationErrors();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
