using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Ghostie.Sync.Handoff;

namespace Ghostie.Sync.AgentState.Redis.Internal;

/// <summary>The JSON of heads, checkpoint objects and locally kept states (docs/agent-state.md), source-generated, snake_case, no type names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ChainHead))]
[JsonSerializable(typeof(CheckpointObject))]
[JsonSerializable(typeof(PendingState))]
[JsonSerializable(typeof(Ghostie.Sync.Handoff.AgentState))]
internal sealed partial class CheckpointJson : JsonSerializerContext
{
    public static CheckpointJson Stored { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.Strict,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>The state as a JSON tree, without its own checkpoint pointer (a checkpoint holds the whole state).</summary>
    public static JsonNode StateNode(Ghostie.Sync.Handoff.AgentState state) =>
        System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.SerializeToUtf8Bytes(state with { Checkpoint = null }, Stored.AgentState))!;

    public static Ghostie.Sync.Handoff.AgentState StateFrom(JsonNode node) =>
        node.Deserialize(Stored.AgentState) ?? throw new JsonException("null state");
}

/// <summary>The head of an agent's chain (<c>…:h</c>): what the latest checkpoint is made of. Moved last, atomically.</summary>
internal sealed record ChainHead
{
    public int Format { get; init; } = 1;

    public required string AgentId { get; init; }

    /// <summary>The sequence of the latest checkpoint (the last delta's, or the snapshot's).</summary>
    public long Sequence { get; init; }

    /// <summary>The canonical SHA-256 of the state at <see cref="Sequence"/>.</summary>
    public required string StateSha256 { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public required ObjectRef Snapshot { get; init; }

    public List<ObjectRef> Deltas { get; init; } = [];
}

/// <summary>A checkpoint object the head names, with the SHA-256 of its sealed bytes (so a replaced object is detected).</summary>
internal sealed record ObjectRef
{
    public required string Id { get; init; }

    public long Sequence { get; init; }

    public required string Sha256 { get; init; }

    public long Bytes { get; init; }
}

/// <summary>The plaintext of a snapshot or delta object.</summary>
internal sealed record CheckpointObject
{
    public int Format { get; init; } = 1;

    /// <summary>"snapshot" or "delta".</summary>
    public required string Kind { get; init; }

    public required string AgentId { get; init; }

    public long Sequence { get; init; }

    /// <summary>Delta: the canonical SHA-256 of the state it applies to.</summary>
    public string? BaseSha256 { get; init; }

    /// <summary>The canonical SHA-256 of the state after this checkpoint.</summary>
    public required string StateSha256 { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Snapshot: the whole state.</summary>
    public JsonNode? State { get; init; }

    /// <summary>Delta: the operations from the base state.</summary>
    public List<PatchOperation>? Ops { get; init; }
}

/// <summary>A state kept on the device while Redis could not take it.</summary>
internal sealed record PendingState
{
    public int Format { get; init; } = 1;

    public required string AgentId { get; init; }

    public required string StateSha256 { get; init; }

    public DateTimeOffset KeptAt { get; init; }

    /// <summary>Why it was kept (the error's reason), for the log and for LoadLatestAsync.</summary>
    public string Reason { get; init; } = "";

    public required JsonNode State { get; init; }
}
