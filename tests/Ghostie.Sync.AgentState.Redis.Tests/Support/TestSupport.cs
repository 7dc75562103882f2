using Ghostie.Sync.Crypto;
using Ghostie.Sync.Handoff;
using Ghostie.Sync.Testing;
using StackExchange.Redis;

namespace Ghostie.Sync.AgentState.Redis.Tests.Support;

// Inside Ghostie.Sync.*, the namespace Ghostie.Sync.AgentState would hide the type.
using AgentState = Ghostie.Sync.Handoff.AgentState;

internal static class Agents
{
    public const string Passphrase = "correct horse battery staple";

    /// <summary>Marks every text of a sample state, so a dump of Redis can be searched for plaintext.</summary>
    public const string Marker = "PLAINTEXT-MARKER";

    public static Task<RepositoryKeys> NewRepositoryAsync() =>
        RepositoryKeys.InitializeAsync(new InMemoryStorageBackend(), Passphrase, "primary", TestKeys.FastOptions());

    public static AgentState State(string id = "planner", int messages = 3, string variable = "1") => new()
    {
        Id = id, Name = "Planner", Role = "Plans the work", Priority = 1, IsActive = true, Model = "claude-haiku-4-5",
        SystemPrompt = "You plan carefully. " + Marker + " " + string.Concat(Enumerable.Repeat("Keep each step small and say why. ", 120)),
        PromptChanges = [new PromptChange { At = DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture), Prompt = "You plan. " + Marker, Reason = "start" }],
        ContextWindow = new AgentContextWindow
        {
            MaxTokens = 32_000,
            Messages = [.. Enumerable.Range(0, messages).Select(i => new AgentMessage { Role = i % 2 == 0 ? "user" : "assistant", Text = $"message {i} {Marker} " + new string('x', 200) })],
        },
        MemorySnapshot = [new AgentMemory { AgentId = id, Text = "Alice likes small commits " + Marker, Importance = 0.8 }],
        Variables = new Dictionary<string, string> { ["step"] = variable, ["mode"] = "careful" },
        EstimatedMemoryBytes = 4096,
    };

    /// <summary>The state's JSON as the store writes it, to compare two states field by field.</summary>
    public static string Json(AgentState state) => Internal.CheckpointJson.StateNode(state).ToJsonString();

    public static RedisAgentStateOptions Options(RedisServer server, string? localPath = null, string? password = null) => new()
    {
        Configuration = server.Configuration + (password is null ? "" : ",password=" + password),
        OperationTimeout = TimeSpan.FromSeconds(2),
        LocalPath = localPath,
    };

    public static Task<RedisAgentStateStore> StoreAsync(RepositoryKeys keys, RedisAgentStateOptions options) => RedisAgentStateStore.ConnectAsync(keys, options);

    public static string TempDirectory() => Path.Combine(Path.GetTempPath(), "ghostie-as-" + Guid.NewGuid().ToString("N"));

    /// <summary>The Redis keys of the agent's chain (its hash tag).</summary>
    public static async Task<List<string>> KeysOfAsync(RedisServer server, RedisAgentStateStore store, string agentId)
    {
        string head = store.HeadKeyOf(agentId);
        string tag = head[..(head.IndexOf('}', StringComparison.Ordinal) + 1)];
        IServer admin = await server.AdminServerAsync();
        var keys = new List<string>();
        await foreach (RedisKey key in admin.KeysAsync(pattern: tag.Replace("{", "\\{", StringComparison.Ordinal).Replace("}", "\\}", StringComparison.Ordinal) + "*"))
        {
            keys.Add(key.ToString());
        }

        return keys;
    }
}
