using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ghostie.Sync;

namespace Ghostie.Cli.Output;

// The --json documents, one per command, in snake_case. docs/cli.md describes each; keep the two in step.
// These are the CLI's own shapes (not the library's types) so the CLI contract does not change when the library does.

internal sealed record ErrorDocument(ErrorDetail Error);

internal sealed record ErrorDetail(string Code, int ExitCode, string Message);

internal sealed record SetupDocument(string Home, string Backend, string Path, string DeviceId, string DeviceName, string RepositoryId, bool CreatedRepository);

internal sealed record TransferDocument(string Operation, int Uploaded, int Downloaded, int NewConflicts, int Conflicts,
    int ObjectsWritten, int ObjectsRead, bool Success, IReadOnlyList<ProblemDocument> Problems);

internal sealed record ProblemDocument(string Code, string Subject, string Message)
{
    public static ProblemDocument From(SyncProblem problem) => new(problem.Code.ToString(), problem.Subject, problem.Message);
}

internal sealed record RenameDeviceDocument(string PreviousDeviceId, string DeviceId, string DeviceName, int PendingPush);

internal sealed record ForgetDocument(bool Forgotten, string Path, bool CredentialsForgotten);

internal sealed record CredentialsRotatedDocument(string Backend, string Storage, IReadOnlyList<string> Replaced);

internal sealed record StatusDocument(string Backend, string DeviceId, string RepositoryId, DateTimeOffset? LastSync, int LocalMemories,
    int CloudMemories, int PendingPush, int Conflicts, string CurrentEpoch, IReadOnlyList<DeviceDocument> KnownDevices);

internal sealed record DeviceDocument(string DeviceId, string DeviceName, bool IsThisDevice, DateTimeOffset? LastSeen);

internal sealed record DeviceEntryDocument(string DeviceId, string DeviceName, string Prefix, bool IsThisDevice, DateTimeOffset? LastSeen, long Sequence,
    bool HasHead, string Status, string? RemovedBy, DateTimeOffset? RemovedAt)
{
    public static DeviceEntryDocument From(DeviceInfo device) => new(device.DeviceId, device.DeviceName, device.Prefix, device.IsThisDevice, device.LastSeen,
        device.Sequence, device.HasHead, device.Status.ToString().ToLowerInvariant(), device.RemovedBy, device.RemovedAt);
}

internal sealed record DeviceListDocument(IReadOnlyList<DeviceEntryDocument> Devices);

internal sealed record DeviceRemovedDocument(DeviceEntryDocument Device);

internal sealed record ConflictListDocument(IReadOnlyList<ConflictDocument> Conflicts);

internal sealed record ConflictDocument(string Id, DateTimeOffset DetectedAt, ConflictVersionDocument Current, IReadOnlyList<ConflictVersionDocument> Others)
{
    public static ConflictDocument From(ConflictInfo info) =>
        new(info.Id, info.DetectedAt, ConflictVersionDocument.From(info.Current), info.Others.Select(ConflictVersionDocument.From).ToArray());
}

internal sealed record ConflictVersionDocument(string DeviceId, DateTimeOffset LastModified, bool Deleted, MemoryRecord? Record)
{
    public static ConflictVersionDocument From(ConflictVersionInfo version) =>
        new(version.DeviceId, version.LastModified, version.Deleted, version.Record);
}

internal sealed record ResolveDocument(string Id, string Choice, bool Deleted, IReadOnlyList<string> Kept);

internal sealed record MemoryListDocument(IReadOnlyList<MemoryRecord> Memories, IReadOnlyList<MalformedFileDocument> Problems);

internal sealed record MalformedFileDocument(string Path, string Problem);

internal sealed record MemoryRemovedDocument(string Id, bool Deleted);

/// <summary>One key file. <c>kdf</c> is "argon2id" or "pbkdf2"; <c>iterations</c> is PBKDF2's count or Argon2id's passes;
/// <c>memory_kib</c> and <c>parallelism</c> are Argon2id's (null for PBKDF2).</summary>
internal sealed record KeyFileDocument(string Id, string Label, DateTimeOffset CreatedAt, int Iterations, bool UnlockedThisSession, string Kdf,
    [property: System.Text.Json.Serialization.JsonPropertyName("memory_kib")] int? MemoryKiB, int? Parallelism)
{
    public static KeyFileDocument From(Ghostie.Sync.Crypto.KeyFileInfo info)
    {
        bool argon2 = info.Kdf == Ghostie.Sync.Crypto.KeyDerivationFunction.Argon2id;
        return new(info.Id, info.Label, info.CreatedAt, info.Iterations, info.IsCurrent, argon2 ? "argon2id" : "pbkdf2",
            argon2 ? info.MemoryKiB : null, argon2 ? info.Parallelism : null);
    }
}

internal sealed record KeyListDocument(IReadOnlyList<KeyFileDocument> KeyFiles, string CurrentEpoch, int Epochs);

internal sealed record KeyAddedDocument(KeyFileDocument KeyFile, string? RecoveryKey);

internal sealed record KeyChangedDocument(string Replaced, KeyFileDocument KeyFile);

internal sealed record KeyRemovedDocument(string Id, string Label);

internal sealed record KeyRotatedDocument(string CurrentEpoch, int Epochs);

internal sealed record MemorySearchDocument(string Query, string Model, int Indexed, int Reembedded, IReadOnlyList<MemorySearchHit> Results,
    IReadOnlyList<MalformedFileDocument> Problems);

internal sealed record MemorySearchHit(string Id, float Score, string Category, string Content);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(KeyListDocument))]
[JsonSerializable(typeof(KeyAddedDocument))]
[JsonSerializable(typeof(KeyChangedDocument))]
[JsonSerializable(typeof(KeyRemovedDocument))]
[JsonSerializable(typeof(KeyRotatedDocument))]
[JsonSerializable(typeof(ErrorDocument))]
[JsonSerializable(typeof(RenameDeviceDocument))]
[JsonSerializable(typeof(DeviceListDocument))]
[JsonSerializable(typeof(DeviceRemovedDocument))]
[JsonSerializable(typeof(SetupDocument))]
[JsonSerializable(typeof(TransferDocument))]
[JsonSerializable(typeof(StatusDocument))]
[JsonSerializable(typeof(ForgetDocument))]
[JsonSerializable(typeof(CredentialsRotatedDocument))]
[JsonSerializable(typeof(ConflictListDocument))]
[JsonSerializable(typeof(ConflictDocument))]
[JsonSerializable(typeof(ResolveDocument))]
[JsonSerializable(typeof(MemoryRecord))]
[JsonSerializable(typeof(MemoryListDocument))]
[JsonSerializable(typeof(MemoryRemovedDocument))]
[JsonSerializable(typeof(MemorySearchDocument))]
internal sealed partial class CliJson : JsonSerializerContext
{
    /// <summary>
    /// The context used for output: as generated, but with relaxed escaping, since the documents go to a terminal or a
    /// pipe, never into HTML, and memory content should read as written ("it's", "a &lt; b", non-Latin scripts).
    /// </summary>
    public static CliJson Output { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary>
/// One event of <c>sync watch --json</c>: a long-running command writes one compact document per line (JSON Lines),
/// not one document at its end. Fields that do not apply to the event are left out.
/// </summary>
internal sealed record WatchEventDocument(string Event, DateTimeOffset At)
{
    public string? Home { get; init; }
    public string? DeviceId { get; init; }
    public double? IntervalSeconds { get; init; }
    public double? DebounceSeconds { get; init; }
    public int? Uploaded { get; init; }
    public int? Downloaded { get; init; }
    public int? NewConflicts { get; init; }
    public bool? Success { get; init; }
    public IReadOnlyList<ProblemDocument>? Problems { get; init; }
    public string? Code { get; init; }
    public string? Message { get; init; }
    public int? Failures { get; init; }
    public DateTimeOffset? NextRun { get; init; }
    public string? Reason { get; init; }
    public long? DownloadBytes { get; init; }
    public long? UploadBytes { get; init; }
}

/// <summary>The context of <c>sync watch --json</c>: one line per document, null fields left out.</summary>
[JsonSerializable(typeof(WatchEventDocument))]
internal sealed partial class CliJsonLines : JsonSerializerContext
{
    public static CliJsonLines Output { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    });
}
