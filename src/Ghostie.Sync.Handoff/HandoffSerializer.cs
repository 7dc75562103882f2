using System.Text.Json;
using System.Text.Json.Nodes;
using Ghostie.Sync.Handoff.Internal;

namespace Ghostie.Sync.Handoff;

/// <summary>
/// Reads and writes <see cref="HandoffPackage"/> JSON (UTF-8, snake_case, source-generated). Reading checks the
/// schema version first: a newer one gives an "upgrade" error, an older one runs the registered migrations.
/// </summary>
internal sealed class HandoffSerializer
{
    /// <summary>The schema version this build writes and reads natively.</summary>
    public const int CurrentSchemaVersion = 3;

    // Version 2 only adds agents[].checkpoint, version 3 only adds fields (the agents' kind, status, permission mode,
    // working directory, todos and project instructions; the resumption point's last_user_turn): a version-1 or 2 package
    // is a version-3 package without them, read as is (its SchemaVersion stays). Only versions older than this one go
    // through registered migrations.
    private const int OldestNativeSchemaVersion = 1;

    private readonly Dictionary<int, IHandoffMigration> _migrations;

    /// <summary>Creates a serializer with the given migrations (none by default: version 1 is the first, and version 2 reads it as is).</summary>
    /// <param name="migrations">One migration per version step.</param>
    /// <exception cref="ArgumentException">Two migrations start from the same version.</exception>
    public HandoffSerializer(IEnumerable<IHandoffMigration>? migrations = null)
    {
        _migrations = new Dictionary<int, IHandoffMigration>();
        foreach (IHandoffMigration migration in migrations ?? [])
        {
            if (!_migrations.TryAdd(migration.FromVersion, migration))
            {
                throw new ArgumentException($"Two handoff migrations start from schema version {migration.FromVersion}.", nameof(migrations));
            }
        }
    }

    /// <summary>
    /// The schema version <paramref name="package"/> is written with: the lowest that expresses it, so devices not yet
    /// upgraded keep reading what they can: 3 when an agent carries restorable state a reader of version 2 would drop
    /// without knowing (<see cref="AgentState.PermissionMode"/>, <see cref="AgentState.Todos"/> or
    /// <see cref="AgentState.ProjectInstructions"/>), else 2 when an agent carries a <see cref="AgentState.Checkpoint"/>
    /// pointer, else 1. The other fields added with version 3 (<see cref="AgentState.Kind"/>, <see cref="AgentState.Status"/>,
    /// <see cref="AgentState.WorkingDirectory"/>, <see cref="ResumptionPoint.LastUserTurn"/>) are hints an older reader may
    /// ignore, written at any version.
    /// </summary>
    /// <param name="package">The package.</param>
    public static int SchemaVersionFor(HandoffPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        bool version3 = package.Agents.Any(a => a.PermissionMode is not null || a.Todos is { Count: > 0 } || a.ProjectInstructions is { Count: > 0 });
        return version3 ? 3 : package.Agents.Any(a => a.Checkpoint is not null) ? 2 : OldestNativeSchemaVersion;
    }

    /// <summary>A serializer without migrations.</summary>
    public static HandoffSerializer Default { get; } = new();

    /// <summary>Writes <paramref name="package"/> as UTF-8 JSON, with <c>schema_version</c> set by <see cref="SchemaVersionFor"/>.</summary>
    /// <param name="package">The package.</param>
    public byte[] Serialize(HandoffPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        return JsonSerializer.SerializeToUtf8Bytes(package with { SchemaVersion = SchemaVersionFor(package) }, HandoffJson.Stored.HandoffPackage);
    }

    /// <summary>Reads a package, migrating it from an older schema version when needed.</summary>
    /// <param name="utf8Json">The package JSON.</param>
    /// <param name="source">What is being read, for error messages (an object name or a file path).</param>
    /// <exception cref="UnsupportedFormatException">The package has a newer schema version (upgrade Ghostie.Sync), or an older one with no migration registered.</exception>
    /// <exception cref="GhostieSyncException">The JSON is not a handoff package (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public HandoffPackage Deserialize(ReadOnlySpan<byte> utf8Json, string source)
    {
        int version = ReadSchemaVersion(utf8Json, source);
        if (version > CurrentSchemaVersion)
        {
            throw new UnsupportedFormatException($"Handoff package {source}", version, CurrentSchemaVersion);
        }

        try
        {
            HandoffPackage? package;
            if (version >= OldestNativeSchemaVersion)
            {
                package = JsonSerializer.Deserialize(utf8Json, HandoffJson.Stored.HandoffPackage);
            }
            else
            {
                JsonObject node = JsonNode.Parse(utf8Json) as JsonObject ?? throw new JsonException("not an object");
                for (int v = version; v < OldestNativeSchemaVersion; v++)
                {
                    if (!_migrations.TryGetValue(v, out IHandoffMigration? step))
                    {
                        throw new UnsupportedFormatException($"Handoff package {source}",
                            $"schema version {version} is older than {OldestNativeSchemaVersion} and no migration from version {v} is registered (HandoffOptions.Migrations)");
                    }

                    step.Migrate(node);
                    node["schema_version"] = v + 1;
                }

                package = node.Deserialize(HandoffJson.Stored.HandoffPackage);
            }

            return Validate(Normalize(package ?? throw new JsonException("null")), source);
        }
        catch (JsonException ex)
        {
            throw Malformed(source, ex.Message, ex);
        }
    }

    /// <summary>Fields a package of an older version lacks, at their defaults (the generated reader leaves them null).</summary>
    private static HandoffPackage Normalize(HandoffPackage package) => package.Agents.Any(a => a.Kind is null || a.Status is null || a.Todos is null || a.ProjectInstructions is null)
        ? package with
        {
            Agents = package.Agents.Select(a => a with { Kind = a.Kind ?? "", Status = a.Status ?? "", Todos = a.Todos ?? [], ProjectInstructions = a.ProjectInstructions ?? [] }).ToArray(),
        }
        : package;

    private static HandoffPackage Validate(HandoffPackage package, string source)
    {
        // Required members are enforced by the generated code; these are the invariants it cannot express.
        foreach (AgentState agent in package.Agents)
        {
            if (agent.Checkpoint is { } pointer)
            {
                string? problem = pointer.Store.Length == 0 ? "its checkpoint store is empty"
                    : pointer.Sequence < 1 ? $"its checkpoint sequence is {pointer.Sequence} (must be 1 or more)"
                    : !IsSha256Hex(pointer.StateSha256) ? "its checkpoint state_sha256 is not 64 lowercase hex digits"
                    : null;
                if (problem is not null)
                {
                    throw Malformed(source, $"agent '{agent.Id}': {problem}");
                }
            }
        }

        if (package.Embeddings is { } set)
        {
            foreach (EmbeddingEntry entry in set.Entries)
            {
                if (entry.Vector.Length != set.Dimensions)
                {
                    throw Malformed(source, $"embedding '{entry.Id}' has {entry.Vector.Length} dimensions, the set declares {set.Dimensions}");
                }
            }
        }

        return package;
    }

    private static bool IsSha256Hex(string value) =>
        value.Length == 64 && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    private static int ReadSchemaVersion(ReadOnlySpan<byte> utf8Json, string source)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw Malformed(source, "the JSON is not an object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isVersion = reader.ValueTextEquals("schema_version"u8);
                reader.Read();
                if (isVersion)
                {
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int version) && version >= 0
                        ? version
                        : throw Malformed(source, "schema_version is not a non-negative integer");
                }

                reader.Skip();
            }
        }
        catch (JsonException ex)
        {
            throw Malformed(source, ex.Message, ex);
        }

        throw Malformed(source, "it has no schema_version");
    }

    private static GhostieSyncException Malformed(string source, string reason, Exception? inner = null) =>
        new(GhostieErrorCode.InvalidArgument, $"{source} is not a valid handoff package: {reason}.", innerException: inner);
}
