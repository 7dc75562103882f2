using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ghostie.Cli.Mcp;

/// <summary>
/// Builds a tool's JSON Schema (<c>inputSchema</c>) from its arguments. The same list drives <see cref="ToolArguments"/>:
/// what the schema says is what the server checks (unknown arguments refused: <c>additionalProperties: false</c>).
/// </summary>
internal static class InputSchema
{
    /// <summary>An object schema of <paramref name="properties"/>, the <paramref name="required"/> ones required.</summary>
    public static JsonElement Object(IReadOnlyList<(string Name, JsonObject Schema)> properties, params string[] required)
    {
        var props = new JsonObject();
        foreach ((string name, JsonObject schema) in properties)
        {
            props[name] = schema;
        }

        var root = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = props,
            ["additionalProperties"] = false,
        };
        if (required.Length > 0)
        {
            root["required"] = new JsonArray(required.Select(r => (JsonNode)JsonValue.Create(r)).ToArray());
        }

        return JsonSerializer.SerializeToElement(root, McpJson.Default.JsonObject);
    }

    public static JsonObject String(string description, int? maxLength = null, int minLength = 1)
    {
        var schema = new JsonObject { ["type"] = "string", ["description"] = description, ["minLength"] = minLength };
        if (maxLength is { } max)
        {
            schema["maxLength"] = max;
        }

        return schema;
    }

    public static JsonObject Choice(string description, IReadOnlyList<string> choices, string? defaultValue = null)
    {
        var schema = new JsonObject
        {
            ["type"] = "string",
            ["description"] = description,
            ["enum"] = new JsonArray(choices.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()),
        };
        if (defaultValue is not null)
        {
            schema["default"] = defaultValue;
        }

        return schema;
    }

    public static JsonObject Integer(string description, int minimum, int maximum, int? defaultValue = null)
    {
        var schema = new JsonObject { ["type"] = "integer", ["description"] = description, ["minimum"] = minimum, ["maximum"] = maximum };
        if (defaultValue is { } value)
        {
            schema["default"] = value;
        }

        return schema;
    }

    public static JsonObject Number(string description, double minimum, double maximum, bool minimumExclusive = false)
    {
        var schema = new JsonObject { ["type"] = "number", ["description"] = description, ["maximum"] = maximum };
        schema[minimumExclusive ? "exclusiveMinimum" : "minimum"] = minimum;
        return schema;
    }

    public static JsonObject Boolean(string description, bool defaultValue) =>
        new() { ["type"] = "boolean", ["description"] = description, ["default"] = defaultValue };

    public static JsonObject AnyObject(string description) => new() { ["type"] = "object", ["description"] = description };

    public static JsonObject Array(string description, JsonObject items, int maxItems) =>
        new() { ["type"] = "array", ["description"] = description, ["items"] = items, ["minItems"] = 1, ["maxItems"] = maxItems };

    public static JsonObject Message() => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["role"] = new JsonObject { ["type"] = "string", ["description"] = "user, assistant, system or tool." },
            ["content"] = new JsonObject { ["type"] = "string", ["description"] = "The message's text." },
        },
        ["required"] = new JsonArray("role", "content"),
    };
}
