using System.Globalization;
using System.Text;
using System.Text.Json;
using Ghostie.Sync;

namespace Ghostie.Cli.Mcp;

/// <summary>
/// The arguments of one tool call, checked against what the tool takes. Every refusal is a
/// <see cref="GhostieSyncException"/> with <see cref="GhostieErrorCode.InvalidArgument"/> whose message names the
/// argument and says what is accepted; the value itself is never repeated (it may be a secret pasted by mistake).
/// </summary>
internal sealed class ToolArguments
{
    private readonly string _tool;
    private readonly IReadOnlyDictionary<string, JsonElement> _values;

    /// <param name="tool">The tool's name, for messages.</param>
    /// <param name="values">The call's arguments (none: empty).</param>
    /// <param name="accepted">The argument names the tool takes; any other is refused.</param>
    public ToolArguments(string tool, IDictionary<string, JsonElement>? values, IReadOnlyCollection<string> accepted)
    {
        _tool = tool;
        _values = values is null ? new Dictionary<string, JsonElement>() : new Dictionary<string, JsonElement>(values, StringComparer.Ordinal);
        foreach (string name in _values.Keys.Order(StringComparer.Ordinal))
        {
            if (!accepted.Contains(name))
            {
                string takes = accepted.Count == 0 ? "takes no arguments" : "takes " + string.Join(", ", accepted.Select(a => $"'{a}'"));
                throw Invalid($"unknown argument '{Shown(name)}'; {_tool} {takes}.");
            }
        }
    }

    /// <summary>A required string of at most <paramref name="maxChars"/> characters that is not only whitespace.</summary>
    public string RequiredString(string name, int maxChars, string what) =>
        OptionalString(name, maxChars) ?? throw Invalid($"'{name}' is required: {what}.");

    /// <summary>An optional string of at most <paramref name="maxChars"/> characters that is not only whitespace; absent or null: null.</summary>
    public string? OptionalString(string name, int maxChars)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw Invalid($"'{name}' must be a string, not {Kind(value)}.");
        }

        string text = value.GetString()!;
        if (text.Length > maxChars)
        {
            throw Invalid($"'{name}' is {text.Length} characters; at most {maxChars} are accepted.");
        }

        return string.IsNullOrWhiteSpace(text) ? throw Invalid($"'{name}' is empty; give some text or leave it out.") : text;
    }

    /// <summary>A required string of at most <paramref name="maxBytes"/> bytes of UTF-8, not only whitespace, kept exactly as given.</summary>
    public string RequiredText(string name, int maxBytes, string what)
    {
        if (Get(name) is not { } value)
        {
            throw Invalid($"'{name}' is required: {what}.");
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw Invalid($"'{name}' must be a string, not {Kind(value)}.");
        }

        string text = value.GetString()!;
        int bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > maxBytes)
        {
            throw Invalid($"'{name}' is {bytes} bytes of UTF-8; at most {Size(maxBytes)} are accepted. Split it into several memories.");
        }

        return string.IsNullOrWhiteSpace(text) ? throw Invalid($"'{name}' is empty; a memory needs some text.") : text;
    }

    /// <summary>An optional integer from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public int? OptionalInteger(string name, int min, int max)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number) || number < min || number > max)
        {
            throw Invalid($"'{name}' must be an integer from {min} to {max}.");
        }

        return number;
    }

    /// <summary>An optional number from <paramref name="min"/> to <paramref name="max"/>; <paramref name="minExclusive"/>: more than min.</summary>
    public double? OptionalNumber(string name, double min, double max, bool minExclusive = false)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || double.IsNaN(number)
            || (minExclusive ? number <= min : number < min) || number > max)
        {
            string low = minExclusive ? $"more than {Number(min)}" : $"from {Number(min)}";
            throw Invalid($"'{name}' must be a number {low} {(minExclusive ? "and at most" : "to")} {Number(max)}.");
        }

        return number;
    }

    /// <summary>An optional boolean.</summary>
    public bool? OptionalBoolean(string name) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        { } value => throw Invalid($"'{name}' must be true or false, not {Kind(value)}."),
    };

    /// <summary>An optional string that is one of <paramref name="choices"/>.</summary>
    public string? OptionalChoice(string name, IReadOnlyList<string> choices)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String || !choices.Contains(value.GetString()!, StringComparer.Ordinal))
        {
            throw Invalid($"'{name}' must be one of {string.Join(", ", choices)}.");
        }

        return value.GetString();
    }

    /// <summary>An optional JSON object (a copy that outlives the request).</summary>
    public JsonElement? OptionalObject(string name, int maxBytes)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"'{name}' must be a JSON object, not {Kind(value)}.");
        }

        int bytes = Encoding.UTF8.GetByteCount(value.GetRawText());
        return bytes > maxBytes ? throw Invalid($"'{name}' is {bytes} bytes as JSON; at most {Size(maxBytes)} are accepted.") : value.Clone();
    }

    /// <summary>An optional JSON array of at most <paramref name="maxItems"/> items and <paramref name="maxBytes"/> bytes as JSON.</summary>
    public JsonElement? OptionalArray(string name, int maxItems, int maxBytes)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Invalid($"'{name}' must be a JSON array, not {Kind(value)}.");
        }

        int count = value.GetArrayLength();
        if (count == 0 || count > maxItems)
        {
            throw Invalid($"'{name}' has {count} items; give 1 to {maxItems}.");
        }

        int bytes = Encoding.UTF8.GetByteCount(value.GetRawText());
        return bytes > maxBytes ? throw Invalid($"'{name}' is {bytes} bytes as JSON; at most {Size(maxBytes)} are accepted.") : value.Clone();
    }

    /// <summary>Whether the argument was given (and not null).</summary>
    public bool Has(string name) => Get(name) is not null;

    /// <summary>A refusal naming this tool's arguments.</summary>
    public static GhostieSyncException Invalid(string message) => new(GhostieErrorCode.InvalidArgument, message);

    private JsonElement? Get(string name) =>
        _values.TryGetValue(name, out JsonElement value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) ? value : null;

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    // An argument name chosen by the client, cut short and without control characters, for the message.
    private static string Shown(string name)
    {
        string cleaned = new(name.Select(c => char.IsControl(c) ? '?' : c).Take(64).ToArray());
        return name.Length > 64 ? cleaned + "..." : cleaned;
    }

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Size(int bytes) => bytes % (1024 * 1024) == 0
        ? $"{bytes / (1024 * 1024)} MiB ({bytes} bytes)"
        : bytes % 1024 == 0 ? $"{bytes / 1024} KiB ({bytes} bytes)" : $"{bytes} bytes";
}
