using System.Globalization;
using System.Text.Json;

namespace Ghostie.Sync.Handoff.Importers;

/// <summary>Choosing one conversation of an export that holds many.</summary>
internal static class ExportSelection
{
    public static JsonElement Choose(JsonElement root, string source, string? wanted, string what, Func<JsonElement, (string Id, string Title, DateTimeOffset? Updated)> describe)
    {
        List<JsonElement> all = root.ValueKind == JsonValueKind.Array ? root.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.Object).ToList() : [root];
        if (all.Count == 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{source} is a {what} with no conversation in it.");
        }

        if (wanted is null)
        {
            return all.OrderBy(c => describe(c).Updated ?? DateTimeOffset.MinValue).Last();
        }

        string key = wanted.Trim();
        List<JsonElement> byId = all.Where(c => string.Equals(describe(c).Id, key, StringComparison.OrdinalIgnoreCase)).ToList();
        List<JsonElement> matches = byId.Count > 0 ? byId : all.Where(c => string.Equals(describe(c).Title.Trim(), key, StringComparison.OrdinalIgnoreCase)).ToList();
        if (matches.Count == 1)
        {
            return matches[0];
        }

        IEnumerable<JsonElement> listed = matches.Count > 1 ? matches : all.OrderByDescending(c => describe(c).Updated ?? DateTimeOffset.MinValue);
        string lines = string.Join("\n", listed.Take(12).Select(c =>
        {
            (string id, string title, DateTimeOffset? updated) = describe(c);
            return $"  {id}  \"{ExtractiveCompressor.Truncate(ExtractiveCompressor.OneLine(title), 60)}\"{(updated is { } u ? "  " + u.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "")}";
        }));
        string more = (matches.Count > 1 ? matches.Count : all.Count) > 12 ? $"\n  ... and {(matches.Count > 1 ? matches.Count : all.Count) - 12} more" : "";
        throw matches.Count > 1
            ? new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{source}: {matches.Count} conversations are titled \"{key}\"; name one by its id:\n{lines}{more}")
            : new GhostieSyncException(GhostieErrorCode.NotFound, $"{source} ({what}, {all.Count} conversation(s)) has no conversation with the id or title \"{key}\". The most recent:\n{lines}{more}");
    }
}
