using System.Text.Json;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync.Internal;

/// <summary>The opt-in anonymization of pushed memories (<see cref="GhostieSyncOptions.PushScrubber"/>), applied by
/// <see cref="PushCommit"/> to each outbox entry as it goes into a pack.</summary>
internal static class PushScrubbing
{
    /// <summary>
    /// The entry as it is pushed: with <see cref="GhostieSyncOptions.PushScrubber"/> set, its record's content and the
    /// string values of its context are scrubbed, and its hash is that of the scrubbed record (so the devices that
    /// receive it find their memory file showing the version they were sent). The outbox, this device's state and its
    /// memory file keep the original. Returns the same instance when there is no scrubber or nothing was found.
    /// </summary>
    public static PackEntry ScrubForPush(GhostieSyncOptions options, PackEntry entry)
    {
        if (options.PushScrubber is not { } scrubber || entry.Record is not { } record)
        {
            return entry;
        }

        var texts = new List<string> { record.Content };
        if (record.Context is { } context)
        {
            CollectStrings(context, texts);
        }

        IReadOnlyList<string> scrubbed = scrubber.Scrub(texts);
        if (scrubbed.Count != texts.Count)
        {
            throw new InvalidOperationException($"The push scrubber {scrubber.GetType().Name} returned {scrubbed.Count} texts for {texts.Count}; it must return one per text.");
        }

        bool changed = false;
        for (int i = 0; i < texts.Count && !changed; i++)
        {
            changed = !string.Equals(texts[i], scrubbed[i], StringComparison.Ordinal);
        }

        if (!changed)
        {
            return entry;
        }

        int next = 1;
        MemoryRecord clean = record with
        {
            Content = scrubbed[0],
            Context = record.Context is { } original ? Rewrite(original, scrubbed, ref next) : null,
            SyncMetadata = null,
        };
        (string hash, byte[] json) = LocalMemoryStore.Canonical(clean);
        return new PackEntry
        {
            Id = entry.Id, VersionVector = entry.VersionVector, WallMs = entry.WallMs, Counter = entry.Counter, Origin = entry.Origin,
            Deleted = entry.Deleted, Hash = hash, Record = clean, RecordJson = json,
        };
    }

    private static void CollectStrings(JsonElement element, List<string> into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                into.Add(element.GetString()!);
                break;
            case JsonValueKind.Object:
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    CollectStrings(property.Value, into);
                }

                break;
            case JsonValueKind.Array:
                foreach (JsonElement item in element.EnumerateArray())
                {
                    CollectStrings(item, into);
                }

                break;
        }
    }

    /// <summary>The context with its string values replaced, in the order <see cref="CollectStrings"/> found them.</summary>
    private static JsonElement Rewrite(JsonElement element, IReadOnlyList<string> scrubbed, ref int next)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(element, writer, scrubbed, ref next);
        }

        using JsonDocument document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();

        static void Write(JsonElement element, Utf8JsonWriter writer, IReadOnlyList<string> scrubbed, ref int next)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    writer.WriteStringValue(scrubbed[next++]);
                    break;
                case JsonValueKind.Object:
                    writer.WriteStartObject();
                    foreach (JsonProperty property in element.EnumerateObject())
                    {
                        writer.WritePropertyName(property.Name);
                        Write(property.Value, writer, scrubbed, ref next);
                    }

                    writer.WriteEndObject();
                    break;
                case JsonValueKind.Array:
                    writer.WriteStartArray();
                    foreach (JsonElement item in element.EnumerateArray())
                    {
                        Write(item, writer, scrubbed, ref next);
                    }

                    writer.WriteEndArray();
                    break;
                default:
                    element.WriteTo(writer);
                    break;
            }
        }
    }
}
