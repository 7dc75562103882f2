using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync;

/// <summary>
/// What every backend extension calls to register its backend for a repository. The default repository
/// (name "" in the methods below, <see cref="Options.DefaultName"/>) is registered as plain services:
/// <see cref="IStorageBackend"/>, <see cref="GhostieSyncClient"/>. A named repository (several in one host, for example a
/// "work" and a "personal" one) is registered as keyed services under its name: resolve
/// <c>GetRequiredKeyedService&lt;GhostieSyncClient&gt;("work")</c>; its options are the named options "work"
/// (<c>AddGhostieSync("work", o =&gt; o.Home = ...)</c> gives it its own home, which it needs: one home syncs with one
/// repository). Registering a backend for a name again replaces the one registered before for that name only.
/// </summary>
public static class GhostieSyncBuilderExtensions
{
    /// <summary>Registers <paramref name="factory"/> (so <see cref="StorageBackendFactories"/> finds it) without registering a backend.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="factory">The factory.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddStorageBackendFactory(this IGhostieSyncBuilder builder, IStorageBackendFactory factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        if (!builder.Services.Any(d => d.ServiceType == typeof(IStorageBackendFactory) && d.ImplementationInstance is IStorageBackendFactory f && f.Name == factory.Name))
        {
            builder.Services.AddSingleton(factory);
        }

        builder.Services.TryAddSingleton<StorageBackendFactories>();
        return builder;
    }

    /// <summary>
    /// Registers a backend for the repository <paramref name="name"/>: the backend (also by its own type
    /// <typeparamref name="TBackend"/>), its factory, and the <see cref="StorageBackendRegistration"/> that tells setup which
    /// settings to save. Backend packages call this from their <c>Add...Backend</c> overloads after registering their options.
    /// </summary>
    /// <typeparam name="TBackend">The backend type.</typeparam>
    /// <typeparam name="TOptions">Its options type (registered under <paramref name="name"/>).</typeparam>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="name">The repository name; "" for the default repository.</param>
    /// <param name="factory">The factory of the backend's kind.</param>
    /// <param name="create">Builds the backend from the services and the named options (called once, on first use).</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddStorageBackend<TBackend, TOptions>(this IGhostieSyncBuilder builder, string name,
        IStorageBackendFactory<TOptions> factory, Func<IServiceProvider, TOptions, TBackend> create)
        where TBackend : class, IStorageBackend
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(create);
        builder.AddStorageBackendFactory(factory);
        IServiceCollection services = builder.Services;
        TOptions NamedOptions(IServiceProvider sp) => sp.GetRequiredService<IOptionsMonitor<TOptions>>().Get(name);
        var registration = new StorageBackendRegistration(name, factory, sp => factory.GetSettings(NamedOptions(sp)));
        if (name.Length == 0)
        {
            services.Replace(ServiceDescriptor.Singleton(sp => create(sp, NamedOptions(sp))));
            services.Replace(ServiceDescriptor.Singleton<IStorageBackend>(sp => sp.GetRequiredService<TBackend>()));
            services.Replace(ServiceDescriptor.Singleton(registration));
        }
        else
        {
            services.Replace(ServiceDescriptor.KeyedSingleton(name, (sp, _) => create(sp, NamedOptions(sp))));
            services.Replace(ServiceDescriptor.KeyedSingleton<IStorageBackend>(name, (sp, key) => sp.GetRequiredKeyedService<TBackend>(key)));
            services.Replace(ServiceDescriptor.KeyedSingleton(name, registration));
            services.TryAddKeyedSingleton(name, (sp, _) => new GhostieSyncClient(name, sp));
        }

        if (!services.Any(d => d.ServiceType == typeof(RepositoryName) && d.ImplementationInstance is RepositoryName known && known.Name == name))
        {
            services.AddSingleton(new RepositoryName(name));
        }
        return builder;
    }
}

/// <summary>The name of a repository a backend was registered for (one service per name; the health checks enumerate them).</summary>
internal sealed record RepositoryName(string Name);
