using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.FileSystem;

/// <summary>Options of the folder backend.</summary>
public sealed class FileSystemBackendOptions
{
    /// <summary>The repository folder (created if missing). Required.</summary>
    public string Path { get; set; } = "";
}

/// <summary>Registers the folder backend on the Ghostie builder.</summary>
public static class FileSystemBackendExtensions
{
    /// <summary>Uses a folder as the repository (replacing any backend registered before).</summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets <see cref="FileSystemBackendOptions.Path"/>.</param>
    public static IGhostieSyncBuilder AddFileSystemBackend(this IGhostieSyncBuilder builder, Action<FileSystemBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<FileSystemBackendOptions>()
            .Configure(configure)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Path), "FileSystemBackendOptions.Path must name the repository folder.")
            .ValidateOnStart();
        builder.Services.Replace(ServiceDescriptor.Singleton<IStorageBackend>(sp => new FileSystemBackend(sp.GetRequiredService<IOptions<FileSystemBackendOptions>>().Value.Path)));
        return builder;
    }
}
