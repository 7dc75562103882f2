using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ghostie.Sync.AgentState.Redis.Internal;
using Ghostie.Sync.Crypto;
using StackExchange.Redis;

namespace Ghostie.Sync.AgentState.Redis;

public sealed partial class RedisAgentStateStore
{
    // Moves the head from what the writer read (ARGV[1], '' for none) to the new head (ARGV[2]), but only if the
    // checkpoint object it names (KEYS[2]) holds exactly ARGV[4] bytes; renews the TTL (ARGV[3] ms) of the new object
    // and of the ARGV[5] objects the new head keeps (KEYS[3..]), and deletes the rest (a superseded chain). Every key
    // shares the agent's hash tag, so this runs on one Redis Cluster node. 1: moved; 0: the head changed; -1: no object.
    private const string MoveHeadScript = """
        local cur = redis.call('GET', KEYS[1])
        if ARGV[1] == '' then
          if cur then return 0 end
        elseif cur ~= ARGV[1] then
          return 0
        end
        if redis.call('STRLEN', KEYS[2]) ~= tonumber(ARGV[4]) then return -1 end
        local keep = tonumber(ARGV[5])
        redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        redis.call('PEXPIRE', KEYS[2], ARGV[3])
        for i = 3, 2 + keep do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
        for i = 3 + keep, #KEYS do redis.call('DEL', KEYS[i]) end
        return 1
        """;

    /// <summary>
    /// Writes a checkpoint of <paramref name="state"/> (keyed by its <see cref="Handoff.AgentState.Id"/>): a delta
    /// from the previous checkpoint, or a new snapshot when the chain has <see cref="RedisAgentStateOptions.MaxDeltas"/>
    /// deltas, when its deltas outgrow <see cref="RedisAgentStateOptions.RebaseAtDeltaFraction"/> of the snapshot, or when
    /// the chain could not be read whole. A state equal to the latest checkpoint writes nothing and returns that checkpoint.
    /// </summary>
    /// <param name="state">The agent's whole state (its own <see cref="Handoff.AgentState.Checkpoint"/> is not stored).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The checkpoint: its sequence, kind, digest and the pointer a handoff package can carry.</returns>
    /// <exception cref="AgentStateStoreException">Redis is unreachable or went away mid-write, refused the credentials, is
    /// full, or the chain kept changing under this writer. The state is then kept on this device
    /// (<see cref="AgentStateStoreException.KeptLocally"/>) and written by <see cref="FlushPendingAsync"/>.</exception>
    /// <exception cref="GhostieSyncException">The state has no id (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public async Task<AgentCheckpoint> CheckpointAsync(Handoff.AgentState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        AgentSlot slot = Slot(state.Id);
        JsonNode node = CheckpointJson.StateNode(state);
        string sha = JsonDelta.Sha256(node);
        await slot.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await WriteOrKeepAsync(slot, node, sha, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    /// <summary>Writes the states kept on this device (Redis could not take them) to Redis, each as a checkpoint.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>How many were written.</returns>
    /// <exception cref="AgentStateStoreException">Redis still cannot take them; they stay kept.</exception>
    public async Task<int> FlushPendingAsync(CancellationToken cancellationToken = default)
    {
        int written = 0;
        foreach (string tag in _outbox.Tags())
        {
            PendingState? pending = _outbox.Get(tag);
            if (pending is null)
            {
                continue;
            }

            AgentSlot slot = Slot(pending.AgentId);
            await slot.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // Read again under the gate: a checkpoint written meanwhile may have superseded (and removed) it.
                pending = _outbox.Get(tag);
                if (pending is null)
                {
                    continue;
                }

                await WriteOrKeepAsync(slot, pending.State, pending.StateSha256, cancellationToken).ConfigureAwait(false);
                written++;
            }
            finally
            {
                slot.Gate.Release();
            }
        }

        if (written > 0)
        {
            Log.Flushed(_logger, written, Endpoint);
        }

        return written;
    }

    private async Task<AgentCheckpoint> WriteOrKeepAsync(AgentSlot slot, JsonNode node, string sha, CancellationToken cancellationToken)
    {
        AgentStateFailure failure;
        Exception cause;
        try
        {
            AgentCheckpoint checkpoint = await WriteAsync(slot, node, sha, cancellationToken).ConfigureAwait(false);
            // Whatever was kept for this agent is this state or older (states are kept and written under the agent's
            // gate): once Redis has this one, the kept one must never be written over it.
            _outbox.Remove(slot.Tag);
            return checkpoint;
        }
        catch (AgentStateStoreException e) when (e.Failure == AgentStateFailure.Conflict)
        {
            (failure, cause) = (e.Failure, e);
        }
        catch (Exception e) when (Classify(e) is { } classified)
        {
            (failure, cause) = (classified, e);
        }

        // Whatever Redis did with this write, the next one starts from what Redis holds, not from what we hoped it holds.
        slot.Cached = null;
        string? path;
        try
        {
            path = await _outbox.KeepAsync(slot.Tag, new PendingState
            {
                AgentId = slot.AgentId, StateSha256 = sha, KeptAt = _options.TimeProvider.GetUtcNow(), Reason = failure.ToString(), State = node,
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AgentStateStoreException(failure, slot.AgentId, Endpoint, keptLocally: false, _outbox.PathFor(slot.Tag), new AggregateException(cause, e));
        }

        Log.KeptLocally(_logger, slot.AgentId, Endpoint, failure);
        throw new AgentStateStoreException(failure, slot.AgentId, Endpoint, keptLocally: true, path, cause);
    }

    private async Task<AgentCheckpoint> WriteAsync(AgentSlot slot, JsonNode node, string sha, CancellationToken cancellationToken)
    {
        IDatabase db = Database;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Chain? chain = slot.Cached ?? await ReadChainAsync(slot, stopAt: null, cancellationToken).ConfigureAwait(false);
            if (chain is { Whole: true } && chain.StateSha256 == sha)
            {
                slot.Cached = chain;
                return chain.ToCheckpoint(slot.AgentId)! with { Unchanged = true };
            }

            DateTimeOffset now = _options.TimeProvider.GetUtcNow();
            long sequence = (chain?.Head?.Sequence ?? 0) + 1;
            CheckpointObject payload = ChooseDelta(chain, node, sha, sequence, now) ?? new CheckpointObject
            {
                Kind = "snapshot", AgentId = slot.AgentId, Sequence = sequence, StateSha256 = sha, CreatedAt = now, State = node,
            };
            bool snapshot = payload.Kind == "snapshot";
            string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            byte[] sealedObject = _keys.Cipher.Seal(JsonSerializer.SerializeToUtf8Bytes(payload, CheckpointJson.Stored.CheckpointObject), ObjectKind.Generic, slot.ObjectName(id));
            var reference = new ObjectRef { Id = id, Sequence = sequence, Sha256 = Convert.ToHexStringLower(SHA256.HashData(sealedObject)), Bytes = sealedObject.Length };
            ChainHead head = snapshot
                ? new ChainHead { AgentId = slot.AgentId, Sequence = sequence, StateSha256 = sha, UpdatedAt = now, Snapshot = reference }
                : chain!.Head! with { Sequence = sequence, StateSha256 = sha, UpdatedAt = now, Deltas = [.. chain.Head!.Deltas, reference] };
            byte[] sealedHead = _keys.Cipher.Seal(JsonSerializer.SerializeToUtf8Bytes(head, CheckpointJson.Stored.ChainHead), ObjectKind.Generic, slot.HeadName);

            // Step 1: the checkpoint object, create-only (its id is fresh), with the TTL, so a write torn before step 2
            // leaves only an unreferenced object that expires.
            TimeSpan ttl = _options.TimeToLive;
            await db.StringSetAsync(slot.ObjectKey(id), sealedObject, ttl, When.NotExists).ConfigureAwait(false);
            if (BetweenSteps is { } hook)
            {
                await hook(slot.ObjectKey(id), cancellationToken).ConfigureAwait(false);
            }

            // Step 2: the head, atomically, only if nobody moved it and the object is there.
            List<ObjectRef> previous = chain?.Head is { } old ? [old.Snapshot, .. old.Deltas] : [];
            List<RedisKey> keys = [slot.HeadKey, slot.ObjectKey(id), .. previous.Select(r => (RedisKey)slot.ObjectKey(r.Id))];
            RedisResult moved = await db.ScriptEvaluateAsync(MoveHeadScript, [.. keys],
                [chain?.HeadRaw ?? [], sealedHead, (long)ttl.TotalMilliseconds, sealedObject.Length, snapshot ? 0 : previous.Count]).ConfigureAwait(false);
            if ((long)moved == 1)
            {
                slot.Cached = new Chain
                {
                    HeadRaw = sealedHead, Head = head, State = node, Sequence = sequence, StateSha256 = sha,
                    Kind = snapshot ? CheckpointKind.Snapshot : CheckpointKind.Delta, CreatedAt = now, StoredBytes = sealedObject.Length,
                };
                Log.CheckpointWritten(_logger, slot.AgentId, sequence, slot.Cached.Kind, sealedObject.Length);
                return slot.Cached.ToCheckpoint(slot.AgentId)!;
            }

            // Someone else moved the head (or the object vanished): drop our object, read the chain again, retry.
            slot.Cached = null;
            await db.KeyDeleteAsync(slot.ObjectKey(id)).ConfigureAwait(false);
        }

        throw new AgentStateStoreException(AgentStateFailure.Conflict, slot.AgentId, Endpoint, keptLocally: false, localPath: null);
    }

    /// <summary>A delta from the chain's latest state, or null when the checkpoint should be a new snapshot (a re-base).</summary>
    private CheckpointObject? ChooseDelta(Chain? chain, JsonNode node, string sha, long sequence, DateTimeOffset now)
    {
        if (chain is not { Whole: true } || chain.Head!.Deltas.Count >= _options.MaxDeltas)
        {
            return null;
        }

        var delta = new CheckpointObject
        {
            Kind = "delta", AgentId = chain.Head.AgentId, Sequence = sequence, BaseSha256 = chain.StateSha256, StateSha256 = sha, CreatedAt = now,
            Ops = JsonDelta.Diff(chain.State, node),
        };
        long deltaBytes = chain.Head.Deltas.Sum(d => d.Bytes) + JsonSerializer.SerializeToUtf8Bytes(delta, CheckpointJson.Stored.CheckpointObject).Length;
        return deltaBytes > chain.Head.Snapshot.Bytes * _options.RebaseAtDeltaFraction ? null : delta;
    }
}
