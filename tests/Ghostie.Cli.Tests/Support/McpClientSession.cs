using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ghostie.Sync.Testing;

namespace Ghostie.Cli.Tests.Support;

/// <summary>
/// One MCP session with <c>ghostie mcp</c>, driven through the official TypeScript client: scripts/mcp-client.mjs runs
/// the client (which spawns the server over stdio), and this class sends it one request at a time.
/// </summary>
internal sealed class McpClientSession : IAsyncDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(150);
    private readonly Process _bridge;
    private readonly StringBuilder _bridgeErrors;

    private McpClientSession(Process bridge, StringBuilder bridgeErrors, JsonElement connected)
    {
        _bridge = bridge;
        _bridgeErrors = bridgeErrors;
        Connected = connected;
    }

    /// <summary>What initialize returned: serverVersion, serverCapabilities, instructions.</summary>
    public JsonElement Connected { get; }

    /// <summary>Starts <c>ghostie --home <paramref name="home"/> mcp</c> under the TypeScript client and initializes the session.</summary>
    /// <param name="home">The Ghostie home.</param>
    /// <param name="workingDirectory">The server's working directory.</param>
    /// <param name="environment">Variables for the server; a null value removes one. GHOSTIE_PASSPHRASE is removed unless given.</param>
    /// <param name="serverArguments">Options after <c>mcp</c> (for example <c>--no-background-sync</c>).</param>
    public static async Task<McpClientSession> StartAsync(string home, string workingDirectory, IReadOnlyDictionary<string, string?>? environment = null,
        IReadOnlyList<string>? serverArguments = null)
    {
        string node = Environment.GetEnvironmentVariable("GHOSTIE_INTEROP_NODE") is { Length: > 0 } n ? n : "node";
        string servers = Path.Combine(ServerProcess.RepositoryRoot, "tests", "servers");
        if (!Directory.Exists(Path.Combine(servers, "node_modules", "@modelcontextprotocol", "sdk")))
        {
            throw new InvalidOperationException($"The MCP TypeScript SDK is not installed under {servers}. Run 'npm ci --prefix tests/servers'.");
        }

        var start = new ProcessStartInfo(node)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            StandardInputEncoding = new UTF8Encoding(false),
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "scripts", "mcp-client.mjs"));
        start.ArgumentList.Add(servers);
        start.Environment.Remove("GHOSTIE_PASSPHRASE");
        start.Environment["NO_COLOR"] = "1";
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        Process bridge = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + node);
        var errors = new StringBuilder();
        bridge.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        bridge.BeginErrorReadLine();
        var connect = new JsonObject
        {
            ["op"] = "connect",
            ["command"] = GhostieCli.DotnetHost(),
            ["args"] = new JsonArray([GhostieCli.DllPath, "--home", home, "mcp", .. (serverArguments ?? []).Select(a => (JsonNode)a)]),
            ["cwd"] = workingDirectory,
        };
        JsonElement reply = await SendAsync(bridge, errors, connect);
        if (!reply.GetProperty("ok").GetBoolean())
        {
            bridge.Kill(entireProcessTree: true);
            throw new InvalidOperationException("The MCP session did not start: " + reply.GetProperty("error"));
        }

        return new McpClientSession(bridge, errors, reply.GetProperty("result").Clone());
    }

    /// <summary>Sends one request to the bridge; returns its reply, {ok, result} or {ok: false, error: {code, message, data}}.</summary>
    public Task<JsonElement> SendAsync(JsonObject request) => SendAsync(_bridge, _bridgeErrors, request);

    /// <summary>tools/list: the tools array.</summary>
    public async Task<JsonElement> ListToolsAsync() => Ok(await SendAsync(new JsonObject { ["op"] = "listTools" }), "tools/list").GetProperty("tools");

    /// <summary>tools/call, expecting a result (a tool error is a result with isError: true).</summary>
    public async Task<ToolResult> CallAsync(string name, JsonObject? arguments = null) =>
        new(name, Ok(await CallRawAsync(name, arguments), "tools/call " + name));

    /// <summary>tools/call as the bridge answered it (a JSON-RPC error is {ok: false}).</summary>
    public Task<JsonElement> CallRawAsync(string name, JsonObject? arguments = null) =>
        SendAsync(new JsonObject { ["op"] = "callTool", ["name"] = name, ["arguments"] = arguments ?? new JsonObject() });

    /// <summary>A successful tool call's structured content (fails the test on an error result).</summary>
    public async Task<JsonElement> CallOkAsync(string name, JsonObject? arguments = null)
    {
        ToolResult result = await CallAsync(name, arguments);
        Assert.False(result.IsError, $"{name} failed: {result.Text}");
        return result.Structured;
    }

    public async Task<JsonElement> ListResourcesAsync() => Ok(await SendAsync(new JsonObject { ["op"] = "listResources" }), "resources/list").GetProperty("resources");

    public async Task<JsonElement> ListResourceTemplatesAsync() =>
        Ok(await SendAsync(new JsonObject { ["op"] = "listResourceTemplates" }), "resources/templates/list").GetProperty("resourceTemplates");

    public Task<JsonElement> ReadResourceRawAsync(string uri) => SendAsync(new JsonObject { ["op"] = "readResource", ["uri"] = uri });

    /// <summary>What the client saw besides results: clientErrors (a line on stdout that was not JSON-RPC shows here) and serverStderr.</summary>
    public async Task<JsonElement> DiagnosticsAsync() => Ok(await SendAsync(new JsonObject { ["op"] = "diagnostics" }), "diagnostics");

    /// <summary>Closes the client's side (the server's stdin); returns exitCode, signal, clientErrors and serverStderr.</summary>
    public async Task<JsonElement> CloseAsync()
    {
        JsonElement closed = Ok(await SendAsync(new JsonObject { ["op"] = "close" }), "close");
        _bridge.StandardInput.Close();
        return closed;
    }

    public static JsonElement Ok(JsonElement reply, string what)
    {
        if (!reply.GetProperty("ok").GetBoolean())
        {
            Assert.Fail($"{what} failed: {reply.GetProperty("error")}");
        }

        return reply.GetProperty("result");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_bridge.HasExited)
            {
                _bridge.StandardInput.Close();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                try
                {
                    await _bridge.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    _bridge.Kill(entireProcessTree: true);
                }
            }
        }
        finally
        {
            _bridge.Dispose();
        }
    }

    private static async Task<JsonElement> SendAsync(Process bridge, StringBuilder errors, JsonObject request)
    {
        await bridge.StandardInput.WriteLineAsync(request.ToJsonString());
        await bridge.StandardInput.FlushAsync();
        using var timeout = new CancellationTokenSource(StepTimeout);
        string? line;
        try
        {
            line = await bridge.StandardOutput.ReadLineAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            bridge.Kill(entireProcessTree: true);
            throw new TimeoutException($"The MCP bridge did not answer {request["op"]} within {StepTimeout.TotalSeconds} s. Its stderr: {Errors(errors)}");
        }

        if (line is null)
        {
            throw new InvalidOperationException($"The MCP bridge exited during {request["op"]}. Its stderr: {Errors(errors)}");
        }

        using JsonDocument document = JsonDocument.Parse(line);
        return document.RootElement.Clone();
    }

    private static string Errors(StringBuilder errors)
    {
        lock (errors)
        {
            return errors.ToString();
        }
    }
}

/// <summary>A tools/call result: content text, structuredContent, isError.</summary>
internal sealed record ToolResult(string Tool, JsonElement Raw)
{
    public bool IsError => Raw.TryGetProperty("isError", out JsonElement e) && e.ValueKind == JsonValueKind.True;

    /// <summary>The text of the first content block.</summary>
    public string Text => Raw.GetProperty("content").EnumerateArray().First(c => c.GetProperty("type").GetString() == "text").GetProperty("text").GetString()!;

    public JsonElement Structured => Raw.GetProperty("structuredContent");

    /// <summary>Asserts an error result and returns its text.</summary>
    public string ExpectError()
    {
        Assert.True(IsError, $"{Tool} was expected to fail but returned: {Raw}");
        return Text;
    }
}
