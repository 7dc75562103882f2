using System.Text.Json.Nodes;

namespace Ghostie.Sync.Handoff;

/// <summary>
/// Upgrades a package written with an older schema version by one version, on its JSON. Register one per version
/// step in <see cref="HandoffOptions.Migrations"/>; the package reader chains them (1 to 2, 2 to 3, ...).
/// </summary>
public interface IHandoffMigration
{
    /// <summary>The version this migration reads; it produces <see cref="FromVersion"/> + 1.</summary>
    int FromVersion { get; }

    /// <summary>Rewrites <paramref name="package"/> in place to the next version (the serializer sets <c>schema_version</c>).</summary>
    /// <param name="package">The package's JSON object, snake_case as stored.</param>
    void Migrate(JsonObject package);
}
