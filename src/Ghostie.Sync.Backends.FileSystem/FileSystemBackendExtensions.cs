using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.FileSystem;

/// <summary>Options of the folder backend.</summary>
public sealed class FileSystemBackendOptions
{
    /// <summary>The repository folder (created if missing). Required.</summary>
    public string Path { get; set; } = "";

    /// <summary>
    /// Whether the folder is shared between users of one Unix group: objects are then written 0660 and the folders the
    /// backend creates 0770. False (the default): objects 0600 and folders 0700, readable by their owner only. Ignored
    /// on Windows, where the folder's access control list applies. See docs/backends/folder.md.
    /// </summary>
    public bool SharedWithGroup { get; set; }
}

/// <summary>Registers the folder backend on the Ghostie builder.</summary>
public static class FileSystemBackendExtensions
{
    /// <summary>Uses a folder as the repository (replacing any backend registered before).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets <see cref="FileSystemBackendOptions.Path"/> (and, for a folder shared by a group, <see cref="FileSystemBackendOptions.SharedWithGroup"/>).</param>
    public static IGhostieSyncBuilder AddFileSystemBackend(this IGhostieSyncBuilder builder, Action<FileSystemBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<FileSystemBackendOptions>()
            .Configure(configure)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Path), "FileSystemBackendOptions.Path must name the repository folder.")
            .ValidateOnStart();
        builder.Services.Replace(ServiceDescriptor.Singleton<IStorageBackend>(sp => new FileSystemBackend(sp.GetRequiredService<IOptions<FileSystemBackendOptions>>().Value)));
        return builder;
    }
}
