using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.FileSystem;

/// <summary>Registers the folder backend on the Ghostie builder. Every overload also registers
/// <see cref="FileSystemBackendFactory"/>, which reopens a home whose <c>sync/config.json</c> says "folder".</summary>
public static class FileSystemGhostieSyncBuilderExtensions
{
    /// <summary>Uses a folder as the repository, with options configured elsewhere (for example
    /// <c>services.Configure&lt;FileSystemBackendOptions&gt;(...)</c>); replaces any backend registered before.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddFileSystemBackend(this IGhostieSyncBuilder builder) => Register(builder, Options.DefaultName, _ => { });

    /// <summary>Uses a folder as the repository (replacing any backend registered before).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets <see cref="FileSystemBackendOptions.Path"/> (and, for a folder shared by a group, <see cref="FileSystemBackendOptions.SharedWithGroup"/>).</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddFileSystemBackend(this IGhostieSyncBuilder builder, Action<FileSystemBackendOptions> configure) =>
        builder.AddFileSystemBackend(Options.DefaultName, configure);

    /// <summary>Uses a folder as the repository named <paramref name="name"/> (one of several in this host; see
    /// <see cref="GhostieSyncBuilderExtensions"/>), replacing the backend registered before for that name.</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="name">The repository name.</param>
    /// <param name="configure">Sets the folder.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddFileSystemBackend(this IGhostieSyncBuilder builder, string name, Action<FileSystemBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return Register(builder, name, o => o.Configure(configure));
    }

    /// <summary>Uses a folder as the repository, its options bound from a configuration section (<c>Path</c>, <c>SharedWithGroup</c>).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configuration">The section, for example <c>configuration.GetSection("Ghostie:Folder")</c>.</param>
    /// <returns>The builder.</returns>
    public static IGhostieSyncBuilder AddFileSystemBackend(this IGhostieSyncBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(builder, Options.DefaultName, o => o.Bind(configuration));
    }

    private static IGhostieSyncBuilder Register(IGhostieSyncBuilder builder, string name, Action<OptionsBuilder<FileSystemBackendOptions>> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(name);
        OptionsBuilder<FileSystemBackendOptions> options = builder.Services.AddOptions<FileSystemBackendOptions>(name);
        configure(options);
        options.Validate(o => !string.IsNullOrWhiteSpace(o.Path), "FileSystemBackendOptions.Path must name the repository folder.").ValidateOnStart();
        return builder.AddStorageBackend(name, new FileSystemBackendFactory(), (_, o) => new FileSystemBackend(o));
    }
}
