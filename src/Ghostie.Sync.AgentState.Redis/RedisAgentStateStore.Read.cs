using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ghostie.Sync.AgentState.Redis.Internal;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Handoff;
using StackExchange.Redis;

namespace Ghostie.Sync.AgentState.Redis;

public sealed partial class RedisAgentStateStore
{
    /// <summary>
    /// Recovers an agent's latest state: a state kept on this device (newer than anything in Redis) if there is one, else
    /// the latest consistent checkpoint in Redis: the snapshot and then each delta in order, as long as each is present,
    /// is the object the head names (SHA-256 of its sealed bytes), opens (AES-256-GCM) and applies to exactly the state it
    /// was made from. A missing, torn or replaced delta is never applied: recovery stops before it and says so in
    /// <see cref="AgentStateRecovery.Problems"/>.
    /// </summary>
    /// <param name="agentId">The agent.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The recovered state, or null when neither Redis nor this device holds one (never written, or expired).</returns>
    /// <exception cref="AgentStateStoreException">Redis cannot be read (unreachable, credentials, ...).</exception>
    /// <exception cref="IntegrityException">The head or the snapshot cannot be used (the next checkpoint writes a new snapshot).</exception>
    public async Task<AgentStateRecovery?> LoadLatestAsync(string agentId, CancellationToken cancellationToken = default)
    {
        AgentSlot slot = Slot(agentId);
        if (_outbox.Get(slot.Tag) is { } pending)
        {
            return new AgentStateRecovery { State = CheckpointJson.StateFrom(pending.State), Source = RecoveredFrom.LocalPending };
        }

        Chain? chain = await ReadOrThrowAsync(slot, stopAt: null, cancellationToken).ConfigureAwait(false);
        return chain is null ? null : Recovery(slot, chain);
    }

    /// <summary>
    /// The state a handoff pointer names: checkpoint <see cref="AgentStateCheckpointRef.Sequence"/> of the agent, rebuilt
    /// from the chain and checked against <see cref="AgentStateCheckpointRef.StateSha256"/>.
    /// </summary>
    /// <param name="agentId">The agent (the <see cref="Handoff.AgentState.Id"/> the pointer is on).</param>
    /// <param name="pointer">The pointer.</param>
    /// <param name="allowNewer">When the checkpoint was since re-based into a newer snapshot, return the latest state instead of failing.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The pointer is of another store (<see cref="GhostieErrorCode.InvalidArgument"/>), or the
    /// checkpoint is not in Redis: expired, never written, or re-based away (<see cref="GhostieErrorCode.NotFound"/>).</exception>
    /// <exception cref="IntegrityException">Redis holds a different state under that sequence.</exception>
    /// <exception cref="AgentStateStoreException">Redis cannot be read.</exception>
    public async Task<AgentStateRecovery> ResolveAsync(string agentId, AgentStateCheckpointRef pointer, bool allowNewer = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pointer);
        if (!string.Equals(pointer.Store, StoreName, StringComparison.Ordinal))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"The checkpoint pointer of agent '{agentId}' names store '{pointer.Store}', not '{StoreName}': resolve it with a store of that kind.");
        }

        AgentSlot slot = Slot(agentId);
        Chain? chain = await ReadOrThrowAsync(slot, stopAt: pointer.Sequence, cancellationToken).ConfigureAwait(false);
        if (chain is null)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotFound,
                $"Agent '{agentId}' has no checkpoint in Redis at {Endpoint} (never written to this repository, or expired after RedisAgentStateOptions.TimeToLive). The pointer of the handoff package cannot be resolved; ask the sending device to hand off again.");
        }

        if (chain.Sequence == pointer.Sequence)
        {
            return chain.StateSha256 == pointer.StateSha256
                ? Recovery(slot, chain)
                : throw new IntegrityException(slot.HeadKey, $"checkpoint {pointer.Sequence} of agent '{agentId}' holds a state whose SHA-256 differs from the pointer's (the chain was rewritten since the package was made)");
        }

        if (chain.Sequence > pointer.Sequence && allowNewer)
        {
            return Recovery(slot, await ReadOrThrowAsync(slot, stopAt: null, cancellationToken).ConfigureAwait(false) ?? chain);
        }

        throw new GhostieSyncException(GhostieErrorCode.NotFound, chain.Sequence > pointer.Sequence
            ? $"Checkpoint {pointer.Sequence} of agent '{agentId}' was re-based into snapshot {chain.Sequence} and is no longer in Redis. Resolve with allowNewer: true to take the latest state."
            : $"Checkpoint {pointer.Sequence} of agent '{agentId}' is not in Redis at {Endpoint}: the latest consistent checkpoint is {chain.Sequence}{Problems(chain)}. The sending device may still hold it locally (FlushPendingAsync there).");
    }

    /// <summary>
    /// <paramref name="package"/> with every agent that carries a <see cref="StoreName"/> pointer replaced by its whole state
    /// from Redis (see <see cref="ResolveAsync(string, AgentStateCheckpointRef, bool, CancellationToken)"/>); other agents as they are.
    /// </summary>
    /// <param name="package">The received package.</param>
    /// <param name="allowNewer">Take the latest state where the pointed checkpoint was re-based away.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<HandoffPackage> ResolveAsync(HandoffPackage package, bool allowNewer = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        var agents = new List<Handoff.AgentState>(package.Agents.Count);
        foreach (Handoff.AgentState agent in package.Agents)
        {
            if (agent.Checkpoint is { Store: StoreName } pointer)
            {
                AgentStateRecovery resolved = await ResolveAsync(agent.Id, pointer, allowNewer, cancellationToken).ConfigureAwait(false);
                agents.Add(resolved.State);
            }
            else
            {
                agents.Add(agent);
            }
        }

        return package with { Agents = agents };
    }

    /// <summary>Deletes an agent's checkpoints from Redis and any state kept for it on this device.</summary>
    /// <param name="agentId">The agent.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>How many Redis keys were deleted.</returns>
    /// <exception cref="AgentStateStoreException">Redis cannot be reached.</exception>
    public async Task<long> DeleteAsync(string agentId, CancellationToken cancellationToken = default)
    {
        AgentSlot slot = Slot(agentId);
        await slot.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Chain? chain = await ReadOrThrowAsync(slot, stopAt: null, cancellationToken).ConfigureAwait(false);
            List<RedisKey> keys = [slot.HeadKey];
            if (chain?.Head is { } head)
            {
                keys.Add(slot.ObjectKey(head.Snapshot.Id));
                keys.AddRange(head.Deltas.Select(r => (RedisKey)slot.ObjectKey(r.Id)));
            }

            long deleted = await Database.KeyDeleteAsync([.. keys]).ConfigureAwait(false);
            slot.Cached = null;
            _outbox.Remove(slot.Tag);

            return deleted;
        }
        catch (Exception e) when (Classify(e) is { } failure)
        {
            throw new AgentStateStoreException(failure, agentId, Endpoint, keptLocally: false, localPath: null, e);
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    private async Task<Chain?> ReadOrThrowAsync(AgentSlot slot, long? stopAt, CancellationToken cancellationToken)
    {
        Chain? chain;
        try
        {
            chain = await ReadChainAsync(slot, stopAt, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Classify(e) is { } failure)
        {
            throw new AgentStateStoreException(failure, slot.AgentId, Endpoint, keptLocally: false, localPath: null, e);
        }

        if (chain is { State: null })
        {
            throw new IntegrityException(slot.HeadKey, $"agent '{slot.AgentId}' has no usable checkpoint: {string.Join("; ", chain.Problems)}. The next checkpoint of the agent writes a new snapshot");
        }

        return chain;
    }

    private AgentStateRecovery Recovery(AgentSlot slot, Chain chain)
    {
        if (chain.Problems.Count > 0)
        {
            Log.ChainRecovered(_logger, slot.AgentId, chain.Head!.Sequence, chain.Sequence, string.Join("; ", chain.Problems));
        }

        return new AgentStateRecovery
        {
            State = CheckpointJson.StateFrom(chain.State!),
            Checkpoint = chain.ToCheckpoint(slot.AgentId),
            Source = RecoveredFrom.Redis,
            HeadSequence = chain.Head!.Sequence,
            Problems = chain.Problems,
        };
    }

    private static string Problems(Chain chain) => chain.Problems.Count == 0 ? "" : " (" + string.Join("; ", chain.Problems) + ")";

    /// <summary>Reads the head and the objects it names, applying them in order up to the first that cannot be used (or <paramref name="stopAt"/>).</summary>
    private async Task<Chain?> ReadChainAsync(AgentSlot slot, long? stopAt, CancellationToken cancellationToken)
    {
        IDatabase db = Database;
        RedisValue raw = await db.StringGetAsync(slot.HeadKey).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (raw.IsNull)
        {
            return null;
        }

        byte[] headRaw = (byte[])raw!;
        ChainHead head;
        try
        {
            head = JsonSerializer.Deserialize(_keys.Cipher.Open(headRaw, ObjectKind.Generic, slot.HeadName), CheckpointJson.Stored.ChainHead)
                ?? throw new JsonException("null head");
            if (head.Format != 1 || head.AgentId != slot.AgentId)
            {
                throw new JsonException(head.Format != 1 ? $"head format {head.Format} is unknown" : "the head is of another agent");
            }
        }
        catch (Exception e) when (e is GhostieSyncException or JsonException)
        {
            return new Chain { HeadRaw = headRaw, Problems = [$"the head {slot.HeadKey} cannot be read ({e.Message})"] };
        }

        List<ObjectRef> refs = [head.Snapshot, .. head.Deltas];
        RedisValue[] values = await db.StringGetAsync([.. refs.Select(r => (RedisKey)slot.ObjectKey(r.Id))]).ConfigureAwait(false);
        var problems = new List<string>();
        CheckpointObject? snapshot = OpenObject(slot, head.Snapshot, values[0], "snapshot", problems);
        if (snapshot?.State is null || JsonDelta.Sha256(snapshot.State) != snapshot.StateSha256)
        {
            if (snapshot is not null)
            {
                problems.Add($"snapshot {head.Snapshot.Sequence} does not match its own digest");
            }

            return new Chain { HeadRaw = headRaw, Head = head, Problems = problems };
        }

        JsonNode state = snapshot.State;
        var chain = new Chain
        {
            HeadRaw = headRaw, Head = head, State = state, Sequence = snapshot.Sequence, StateSha256 = snapshot.StateSha256,
            Kind = CheckpointKind.Snapshot, CreatedAt = snapshot.CreatedAt, StoredBytes = head.Snapshot.Bytes, Problems = problems,
        };
        for (int i = 0; i < head.Deltas.Count && !(chain.Sequence >= stopAt); i++)
        {
            ObjectRef reference = head.Deltas[i];
            CheckpointObject? delta = OpenObject(slot, reference, values[i + 1], "delta", problems);
            if (delta is null)
            {
                break;
            }

            if (delta.Sequence != chain.Sequence + 1 || delta.BaseSha256 != chain.StateSha256 || delta.Ops is null)
            {
                problems.Add($"delta {reference.Sequence} does not follow checkpoint {chain.Sequence}");
                break;
            }

            JsonNode next;
            try
            {
                next = JsonDelta.Apply(chain.State, delta.Ops) ?? throw new FormatException("the delta empties the state");
            }
            catch (FormatException e)
            {
                problems.Add($"delta {reference.Sequence} does not apply ({e.Message})");
                break;
            }

            if (JsonDelta.Sha256(next) != delta.StateSha256)
            {
                problems.Add($"delta {reference.Sequence} does not rebuild the state it was made from");
                break;
            }

            chain = chain with
            {
                State = next, Sequence = delta.Sequence, StateSha256 = delta.StateSha256, Kind = CheckpointKind.Delta, CreatedAt = delta.CreatedAt, StoredBytes = reference.Bytes,
            };
        }

        return chain;
    }

    private CheckpointObject? OpenObject(AgentSlot slot, ObjectRef reference, RedisValue value, string kind, List<string> problems)
    {
        string where = $"{kind} {reference.Sequence} ({slot.ObjectKey(reference.Id)})";
        if (value.IsNull)
        {
            problems.Add($"{where} is missing (expired or evicted)");
            return null;
        }

        byte[] bytes = (byte[])value!;
        if (bytes.Length != reference.Bytes || Convert.ToHexStringLower(SHA256.HashData(bytes)) != reference.Sha256)
        {
            problems.Add($"{where} is not the object the head names (torn or replaced: {bytes.Length} bytes)");
            return null;
        }

        try
        {
            CheckpointObject payload = JsonSerializer.Deserialize(_keys.Cipher.Open(bytes, ObjectKind.Generic, slot.ObjectName(reference.Id)), CheckpointJson.Stored.CheckpointObject)
                ?? throw new JsonException("null");
            if (payload.Format != 1 || payload.Kind != kind || payload.AgentId != slot.AgentId || payload.Sequence != reference.Sequence)
            {
                problems.Add($"{where} does not hold {kind} {reference.Sequence} of this agent");
                return null;
            }

            return payload;
        }
        catch (Exception e) when (e is GhostieSyncException or JsonException)
        {
            problems.Add($"{where} cannot be opened ({e.Message})");
            return null;
        }
    }
}
