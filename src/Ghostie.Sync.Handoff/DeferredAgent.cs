using System.IO.Compression;
using System.Text.Json;
using Ghostie.Sync.Handoff.Internal;

namespace Ghostie.Sync.Handoff;

/// <summary>An agent kept out of memory until it is needed: its state is held compressed and loads on demand.</summary>
public sealed class DeferredAgent
{
    private readonly byte[] _compressed;
    private readonly int _length;

    internal DeferredAgent(AgentState agent, byte[] compressed, int length)
    {
        Id = agent.Id;
        Name = agent.Name;
        Priority = agent.Priority;
        _compressed = compressed;
        _length = length;
    }

    /// <summary>The agent's id.</summary>
    public string Id { get; }

    /// <summary>Its name.</summary>
    public string Name { get; }

    /// <summary>Its priority.</summary>
    public int Priority { get; }

    /// <summary>The bytes it holds while deferred.</summary>
    public long HeldBytes => _compressed.Length;

    /// <summary>Loads the agent's complete state.</summary>
    public AgentState Load()
    {
        byte[] json = new byte[_length];
        if (!BrotliDecoder.TryDecompress(_compressed, json, out int written) || written != _length)
        {
            throw new InvalidOperationException("A deferred agent's state could not be decompressed.");
        }

        return JsonSerializer.Deserialize(json, HandoffJson.Stored.AgentState)!;
    }
}
