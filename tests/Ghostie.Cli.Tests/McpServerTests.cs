using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary>
/// <c>ghostie mcp</c> end to end: the official MCP TypeScript client (npm <c>@modelcontextprotocol/sdk</c>) spawns the
/// server over stdio and calls every tool, reads memories as resources, and meets the errors a host can cause.
/// </summary>
public sealed class McpServerTests : IDisposable
{
    private static readonly string[] ToolNames =
        ["create_handoff", "forget", "list_handoffs", "list_memories", "recall", "remember", "resume_handoff", "show_memory", "sync_now"];

    // Terminal escapes, a bidi override, markup, quotes, a tab, line breaks, non-Latin text and an emoji: all must come back exactly.
    private const string Exotic = "Alice's \"router\" <admin> password hint:\tblue\u001b[31m red\u001b[0m\r\nline two \u202Eevil\u202C — 東京 🦊\nend";

    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Initialize_ListTools_NamesSchemasAndCapabilities()
    {
        await using McpClientSession mcp = await StartAsync("laptop");

        JsonElement server = mcp.Connected.GetProperty("serverVersion");
        Assert.Equal("ghostie", server.GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(server.GetProperty("version").GetString()));
        JsonElement capabilities = mcp.Connected.GetProperty("serverCapabilities");
        Assert.Equal(JsonValueKind.Object, capabilities.GetProperty("tools").ValueKind);
        Assert.Equal(JsonValueKind.Object, capabilities.GetProperty("resources").ValueKind);
        Assert.Contains("remember", mcp.Connected.GetProperty("instructions").GetString()!, StringComparison.Ordinal);

        JsonElement tools = await mcp.ListToolsAsync();
        Assert.Equal(ToolNames, tools.EnumerateArray().Select(t => t.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).ToArray());
        var byName = tools.EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t);
        foreach ((string name, JsonElement tool) in byName)
        {
            Assert.False(string.IsNullOrWhiteSpace(tool.GetProperty("description").GetString()), $"{name} has no description");
            JsonElement schema = tool.GetProperty("inputSchema");
            Assert.Equal("object", schema.GetProperty("type").GetString());
            Assert.False(schema.GetProperty("additionalProperties").GetBoolean(), $"{name} accepts unknown arguments");

            // The passphrase never travels as a tool argument.
            Assert.DoesNotContain(schema.GetProperty("properties").EnumerateObject(), p => p.Name.Contains("pass", StringComparison.OrdinalIgnoreCase));
        }

        Assert.Equal(["content"], Required(byName["remember"]));
        Assert.Equal("string", Property(byName["remember"], "content").GetProperty("type").GetString());
        Assert.Equal("object", Property(byName["remember"], "context").GetProperty("type").GetString());
        Assert.Equal(["query"], Required(byName["recall"]));
        Assert.Equal("integer", Property(byName["recall"], "top").GetProperty("type").GetString());
        Assert.Equal(1000, Property(byName["recall"], "top").GetProperty("maximum").GetInt32());
        Assert.Equal(["id"], Required(byName["show_memory"]));
        Assert.Equal(["id"], Required(byName["forget"]));
        Assert.Equal(["id"], Required(byName["resume_handoff"]));
        Assert.Empty(Required(byName["list_memories"]));
        Assert.Empty(Required(byName["sync_now"]));
        Assert.Equal(["both", "pull", "push"], Property(byName["sync_now"], "direction").GetProperty("enum").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal("array", Property(byName["create_handoff"], "messages").GetProperty("type").GetString());
        Assert.Equal(["ios", "android", "web", "desktop"], Property(byName["resume_handoff"], "profile").GetProperty("enum").EnumerateArray().Select(e => e.GetString()!));
        Assert.True(byName["show_memory"].GetProperty("annotations").GetProperty("readOnlyHint").GetBoolean());
        Assert.True(byName["forget"].GetProperty("annotations").GetProperty("destructiveHint").GetBoolean());

        JsonElement closed = await mcp.CloseAsync();
        Assert.Equal(0, closed.GetProperty("exitCode").GetInt32());  // ended by itself when its stdin closed
        Assert.Empty(closed.GetProperty("clientErrors").EnumerateArray());
    }

    [Fact]
    public async Task RememberListShowRecallForget_ContentExact_VisibleToTheCli_AndAsResources()
    {
        await _sandbox.SetupAsync("laptop");  // so memories carry the device id "laptop"
        await using McpClientSession mcp = await StartAsync("laptop");

        JsonElement remembered = await mcp.CallOkAsync("remember", new JsonObject
        {
            ["content"] = Exotic,
            ["category"] = "network",
            ["context"] = new JsonObject { ["source"] = "chat", ["turn"] = 7 },
        });
        string id = remembered.GetProperty("id").GetString()!;
        Assert.Equal(Exotic, remembered.GetProperty("content").GetString());
        Assert.Equal("network", remembered.GetProperty("category").GetString());
        Assert.Equal("laptop", remembered.GetProperty("device_id").GetString());
        JsonElement tea = await mcp.CallOkAsync("remember", new JsonObject { ["content"] = "Alice prefers green tea in the morning" });
        Assert.Equal("note", tea.GetProperty("category").GetString());

        // The text block of a result is the same document as the structured content.
        ToolResult shown = await mcp.CallAsync("show_memory", new JsonObject { ["id"] = id });
        Assert.False(shown.IsError, shown.Text);
        Assert.Equal(Exotic, shown.Structured.GetProperty("content").GetString());
        using (JsonDocument text = JsonDocument.Parse(shown.Text))
        {
            Assert.Equal(Exotic, text.RootElement.GetProperty("content").GetString());
        }

        Assert.Equal("chat", shown.Structured.GetProperty("context").GetProperty("source").GetString());
        Assert.Equal(7, shown.Structured.GetProperty("context").GetProperty("turn").GetInt32());

        JsonElement listed = await mcp.CallOkAsync("list_memories");
        Assert.Equal(2, listed.GetProperty("total").GetInt32());
        Assert.Equal([id, tea.GetProperty("id").GetString()!], listed.GetProperty("memories").EnumerateArray().Select(m => m.GetProperty("id").GetString()!));
        Assert.Equal(Exotic, listed.GetProperty("memories")[0].GetProperty("content").GetString());
        JsonElement onlyNetwork = await mcp.CallOkAsync("list_memories", new JsonObject { ["category"] = "network" });
        Assert.Equal(id, Assert.Single(onlyNetwork.GetProperty("memories").EnumerateArray()).GetProperty("id").GetString());

        JsonElement recalled = await mcp.CallOkAsync("recall", new JsonObject { ["query"] = "what tea does alice like", ["top"] = 1 });
        JsonElement hit = Assert.Single(recalled.GetProperty("results").EnumerateArray());
        Assert.Equal(tea.GetProperty("id").GetString(), hit.GetProperty("id").GetString());
        Assert.Equal("Alice prefers green tea in the morning", hit.GetProperty("content").GetString());
        Assert.True(hit.GetProperty("score").GetSingle() > 0);

        // The CLI, on the same home, sees what MCP remembered, byte for byte.
        JsonElement cliList = (await _sandbox.RunAsync("laptop", "memory", "list", "--json")).Expect(0).Json();
        Assert.Equal(Exotic, Assert.Single(cliList.GetProperty("memories").EnumerateArray(), m => m.GetProperty("id").GetString() == id).GetProperty("content").GetString());

        // Memories as resources: listed with their URIs, read back exactly, and a template for any id.
        JsonElement resources = await mcp.ListResourcesAsync();
        JsonElement resource = Assert.Single(resources.EnumerateArray(), r => r.GetProperty("uri").GetString() == $"ghostie://memory/{id}");
        Assert.Equal("text/plain", resource.GetProperty("mimeType").GetString());
        Assert.Equal(Encoding.UTF8.GetByteCount(Exotic), resource.GetProperty("size").GetInt32());
        Assert.Contains("network", resource.GetProperty("description").GetString()!, StringComparison.Ordinal);
        Assert.Equal(2, resources.GetArrayLength());
        JsonElement read = McpClientSession.Ok(await mcp.ReadResourceRawAsync($"ghostie://memory/{id}"), "resources/read");
        JsonElement contents = Assert.Single(read.GetProperty("contents").EnumerateArray());
        Assert.Equal(Exotic, contents.GetProperty("text").GetString());
        Assert.Equal($"ghostie://memory/{id}", contents.GetProperty("uri").GetString());
        JsonElement template = Assert.Single((await mcp.ListResourceTemplatesAsync()).EnumerateArray());
        Assert.Equal("ghostie://memory/{id}", template.GetProperty("uriTemplate").GetString());

        JsonElement forgotten = await mcp.CallOkAsync("forget", new JsonObject { ["id"] = id });
        Assert.True(forgotten.GetProperty("deleted").GetBoolean());
        string gone = (await mcp.CallAsync("show_memory", new JsonObject { ["id"] = id })).ExpectError();
        Assert.StartsWith("NotFound: ", gone, StringComparison.Ordinal);
        Assert.Contains(id, gone, StringComparison.Ordinal);
        Assert.Single((await _sandbox.RunAsync("laptop", "memory", "list", "--json")).Expect(0).Json().GetProperty("memories").EnumerateArray());

        JsonElement closed = await mcp.CloseAsync();
        Assert.Empty(closed.GetProperty("clientErrors").EnumerateArray());
        Assert.Equal(0, closed.GetProperty("exitCode").GetInt32());
    }

    [Fact]
    public async Task BadArguments_ErrorsNameTheProblem_NothingWritten_ServerKeepsAnswering()
    {
        await using McpClientSession mcp = await StartAsync("laptop");
        JsonElement kept = await mcp.CallOkAsync("remember", new JsonObject { ["content"] = "kept" });

        ToolResult missing = await mcp.CallAsync("remember", new JsonObject { ["category"] = "x" });
        Assert.Equal("InvalidArgument", ErrorCode(missing));
        Assert.Contains("'content' is required", missing.ExpectError(), StringComparison.Ordinal);

        // One byte over the largest memory: refused whole, before anything is written.
        ToolResult oversized = await mcp.CallAsync("remember", new JsonObject { ["content"] = new string('a', 16 * 1024 * 1024 + 1) });
        Assert.Equal("InvalidArgument", ErrorCode(oversized));
        Assert.Contains("'content' is 16777217 bytes", oversized.ExpectError(), StringComparison.Ordinal);
        Assert.Contains("16 MiB", oversized.Text, StringComparison.Ordinal);

        Assert.Contains("'content' must be a string", (await mcp.CallAsync("remember", new JsonObject { ["content"] = 42 })).ExpectError(), StringComparison.Ordinal);
        Assert.Contains("'content' is empty", (await mcp.CallAsync("remember", new JsonObject { ["content"] = "  \n " })).ExpectError(), StringComparison.Ordinal);
        Assert.Contains("'category' is 129 characters", (await mcp.CallAsync("remember", new JsonObject { ["content"] = "x", ["category"] = new string('c', 129) })).ExpectError(),
            StringComparison.Ordinal);
        string unknownArgument = (await mcp.CallAsync("remember", new JsonObject { ["content"] = "x", ["passphrase"] = "hunter2" })).ExpectError();
        Assert.Contains("unknown argument 'passphrase'", unknownArgument, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", unknownArgument, StringComparison.Ordinal);
        Assert.Contains("'top' must be an integer from 1 to 1000", (await mcp.CallAsync("recall", new JsonObject { ["query"] = "tea", ["top"] = 0 })).ExpectError(),
            StringComparison.Ordinal);
        Assert.Contains("'top' must be an integer", (await mcp.CallAsync("recall", new JsonObject { ["query"] = "tea", ["top"] = 2.5 })).ExpectError(), StringComparison.Ordinal);
        Assert.Contains("'query' needs at least one letter or digit", (await mcp.CallAsync("recall", new JsonObject { ["query"] = "?!" })).ExpectError(), StringComparison.Ordinal);
        Assert.Contains("'query' is 4097 characters", (await mcp.CallAsync("recall", new JsonObject { ["query"] = new string('q', 4097) })).ExpectError(), StringComparison.Ordinal);
        Assert.Contains("'direction' must be one of both, push, pull", (await mcp.CallAsync("sync_now", new JsonObject { ["direction"] = "sideways" })).ExpectError(),
            StringComparison.Ordinal);

        ToolResult unknownId = await mcp.CallAsync("show_memory", new JsonObject { ["id"] = "0123456789abcdef0123456789abcdef" });
        Assert.Equal("NotFound", ErrorCode(unknownId));
        Assert.Contains("no memory '0123456789abcdef0123456789abcdef'", unknownId.ExpectError(), StringComparison.Ordinal);
        Assert.Equal("NotFound", ErrorCode(await mcp.CallAsync("forget", new JsonObject { ["id"] = "0123456789abcdef0123456789abcdef" })));
        ToolResult badId = await mcp.CallAsync("show_memory", new JsonObject { ["id"] = "../../etc/passwd" });
        Assert.Contains("not a valid memory id", badId.ExpectError(), StringComparison.Ordinal);
        Assert.Contains("'id' is required", (await mcp.CallAsync("forget")).ExpectError(), StringComparison.Ordinal);
        Assert.Contains("'messages' or 'transcript_path'", (await mcp.CallAsync("create_handoff")).ExpectError(), StringComparison.Ordinal);

        // Protocol-level errors: an unknown tool and an unknown resource are JSON-RPC errors naming them.
        JsonElement noTool = await mcp.CallRawAsync("teleport");
        Assert.False(noTool.GetProperty("ok").GetBoolean());
        Assert.Equal(-32602, noTool.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("'teleport'", noTool.GetProperty("error").GetProperty("message").GetString()!, StringComparison.Ordinal);
        JsonElement noResource = await mcp.ReadResourceRawAsync("ghostie://memory/0123456789abcdef0123456789abcdef");
        Assert.False(noResource.GetProperty("ok").GetBoolean());
        Assert.Equal(-32002, noResource.GetProperty("error").GetProperty("code").GetInt32());  // resource not found
        Assert.Contains("no memory '0123456789abcdef0123456789abcdef'", noResource.GetProperty("error").GetProperty("message").GetString()!, StringComparison.Ordinal);
        JsonElement foreignUri = await mcp.ReadResourceRawAsync("file:///etc/passwd");
        Assert.False(foreignUri.GetProperty("ok").GetBoolean());
        Assert.Equal(-32602, foreignUri.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("ghostie://memory/", foreignUri.GetProperty("error").GetProperty("message").GetString()!, StringComparison.Ordinal);

        // Still answering, and nothing was written by the refused calls.
        JsonElement listed = await mcp.CallOkAsync("list_memories");
        Assert.Equal(kept.GetProperty("id").GetString(), Assert.Single(listed.GetProperty("memories").EnumerateArray()).GetProperty("id").GetString());
        Assert.Single(Directory.GetFiles(Path.Combine(_sandbox.Home("laptop"), "memories")));
        JsonElement closed = await mcp.CloseAsync();
        Assert.Empty(closed.GetProperty("clientErrors").EnumerateArray());
        Assert.DoesNotContain("hunter2", closed.GetProperty("serverStderr").GetString()!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RepositoryUnreachableMidSession_ErrorResult_NextCallsAnswered_NoMemoryLost_SyncsToSecondHome()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        await using McpClientSession mcp = await StartAsync("laptop");

        string first = (await mcp.CallOkAsync("remember", new JsonObject { ["content"] = Exotic, ["category"] = "network" })).GetProperty("id").GetString()!;
        JsonElement synced = await mcp.CallOkAsync("sync_now");
        Assert.Equal("sync", synced.GetProperty("operation").GetString());
        Assert.Equal(1, synced.GetProperty("uploaded").GetInt32());
        Assert.True(synced.GetProperty("success").GetBoolean());

        // The repository disappears (an unmounted disk) in the middle of the session.
        string away = _sandbox.Repository + "-unmounted";
        Directory.Move(_sandbox.Repository, away);
        string second = (await mcp.CallOkAsync("remember", new JsonObject { ["content"] = "written while the disk was away" })).GetProperty("id").GetString()!;
        ToolResult unreachable = await mcp.CallAsync("sync_now");
        Assert.Equal("BackendUnavailable", ErrorCode(unreachable));
        Assert.Contains(_sandbox.Repository, unreachable.ExpectError(), StringComparison.Ordinal);
        Assert.Equal("BackendUnavailable", ErrorCode(await mcp.CallAsync("list_handoffs")));
        Assert.False(Directory.Exists(_sandbox.Repository), "an empty repository folder was created in place of the missing one");

        // The server still answers, and both memories are there.
        JsonElement listed = await mcp.CallOkAsync("list_memories");
        Assert.Equal([first, second], listed.GetProperty("memories").EnumerateArray().Select(m => m.GetProperty("id").GetString()!));
        Assert.Equal("pong", await PingAsync(mcp));

        // Back: the next sync uploads what was written meanwhile, and the second home gets both, exactly.
        Directory.Move(away, _sandbox.Repository);
        JsonElement again = await mcp.CallOkAsync("sync_now", new JsonObject { ["direction"] = "push" });
        Assert.Equal("push", again.GetProperty("operation").GetString());
        Assert.Equal(1, again.GetProperty("uploaded").GetInt32());
        (await _sandbox.RunAsync("phone", "sync", "pull", "--quiet")).Expect(0);
        JsonElement phone = (await _sandbox.RunAsync("phone", "memory", "list", "--json")).Expect(0).Json();
        Assert.Equal(Exotic, Assert.Single(phone.GetProperty("memories").EnumerateArray(), m => m.GetProperty("id").GetString() == first).GetProperty("content").GetString());
        Assert.Contains(phone.GetProperty("memories").EnumerateArray(), m => m.GetProperty("id").GetString() == second);

        // And the other way: the phone's own MCP session pulls a memory the laptop remembered.
        await using McpClientSession phoneMcp = await StartAsync("phone");
        string third = (await mcp.CallOkAsync("remember", new JsonObject { ["content"] = "third" })).GetProperty("id").GetString()!;
        Assert.Equal(1, (await mcp.CallOkAsync("sync_now")).GetProperty("uploaded").GetInt32());
        Assert.Equal(1, (await phoneMcp.CallOkAsync("sync_now", new JsonObject { ["direction"] = "pull" })).GetProperty("downloaded").GetInt32());
        Assert.Equal("third", (await phoneMcp.CallOkAsync("show_memory", new JsonObject { ["id"] = third })).GetProperty("content").GetString());
        Assert.Empty((await mcp.CloseAsync()).GetProperty("clientErrors").EnumerateArray());
    }

    // The body of a made-up Anthropic key, random-looking as a real one is (the scrubber keeps placeholders such as
    // a run of one letter, which no real key is).
    private const string FakeKeyBody = "Xk7pQ2mZr9Tb4LwN8sVd1HcJ6yFg3KaE5uRt0BnWq-zPx_M7eYh2Lc9DvS4jGk8NfA1oUi6TbR3mQw5ZsXe0Hy7KpLd2Vn";

    [Fact]
    public async Task Handoff_CreateOnLaptop_ListAndResumeOnPhone_ThroughMcp()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        await using McpClientSession laptop = await StartAsync("laptop");
        var messages = new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = "Let's move the sync scheduler to a background service." },
            new JsonObject { ["role"] = "assistant", ["content"] = "Decision: we will use a PeriodicTimer in a hosted service." },
            new JsonObject { ["role"] = "user", ["content"] = "Good. Next, wire it into ghostie mcp and keep the token sk-" + "ant-api03-" + FakeKeyBody + " out of it." });

        JsonElement created = await laptop.CallOkAsync("create_handoff", new JsonObject { ["messages"] = messages, ["to"] = "phone", ["title"] = "Scheduler work" });
        string id = created.GetProperty("package_id").GetString()!;
        Assert.Matches("^[0-9a-f]{24}$", id);
        Assert.Equal("phone", created.GetProperty("to").GetString());
        Assert.Equal("Scheduler work", created.GetProperty("title").GetString());
        Assert.Equal(3, created.GetProperty("messages").GetInt32());
        Assert.Equal(1, created.GetProperty("secrets_removed").GetInt32());

        await using McpClientSession phone = await StartAsync("phone");
        JsonElement pending = Assert.Single((await phone.CallOkAsync("list_handoffs")).GetProperty("pending").EnumerateArray());
        Assert.Equal(id, pending.GetProperty("package_id").GetString());
        Assert.Equal("laptop", pending.GetProperty("from").GetString());

        JsonElement resumed = await phone.CallOkAsync("resume_handoff", new JsonObject { ["id"] = id, ["profile"] = "web" });
        Assert.Equal(id, resumed.GetProperty("package_id").GetString());
        Assert.Equal("web", resumed.GetProperty("profile").GetString());
        Assert.True(resumed.GetProperty("consumed").GetBoolean());
        string context = resumed.GetProperty("context").GetString()!;
        Assert.Contains("wire it into ghostie mcp", context, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeKeyBody, context, StringComparison.Ordinal);
        Assert.Empty((await phone.CallOkAsync("list_handoffs")).GetProperty("pending").EnumerateArray());
        Assert.Equal("NotFound", ErrorCode(await phone.CallAsync("resume_handoff", new JsonObject { ["id"] = id })));

        // A transcript file on this device works too; a missing one is named.
        string missing = Path.Combine(_sandbox.Root, "nope.jsonl");
        ToolResult noFile = await laptop.CallAsync("create_handoff", new JsonObject { ["transcript_path"] = missing });
        Assert.Contains(missing, noFile.ExpectError(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Passphrase_ComesFromTheEnvironmentOrKeyCache_NeverFromAnArgument()
    {
        await _sandbox.SetupAsync("laptop");
        (await _sandbox.RunAsync("laptop", "sync", "forget")).Expect(0);

        // No cached key and no GHOSTIE_PASSPHRASE: the server starts, says so on stderr, and sync explains what to do.
        await using (McpClientSession locked = await StartAsync("laptop"))
        {
            string remembered = (await locked.CallOkAsync("remember", new JsonObject { ["content"] = "local work needs no passphrase" })).GetProperty("id").GetString()!;
            ToolResult noKey = await locked.CallAsync("sync_now");
            Assert.Equal("NotConfigured", ErrorCode(noKey));
            Assert.Contains("GHOSTIE_PASSPHRASE", noKey.ExpectError(), StringComparison.Ordinal);
            Assert.Contains("ghostie sync setup", noKey.Text, StringComparison.Ordinal);
            Assert.Contains("unknown argument 'passphrase'", (await locked.CallAsync("sync_now", new JsonObject { ["passphrase"] = Sandbox.Passphrase })).ExpectError(),
                StringComparison.Ordinal);
            JsonElement closed = await locked.CloseAsync();
            Assert.Contains("GHOSTIE_PASSPHRASE", closed.GetProperty("serverStderr").GetString()!, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(_sandbox.Home("laptop"), "memories", remembered + ".json")));
        }

        // From the environment of the server process (how a host passes it): sync works.
        await using McpClientSession unlocked = await StartAsync("laptop", new Dictionary<string, string?> { ["GHOSTIE_PASSPHRASE"] = Sandbox.Passphrase });
        JsonElement synced = await unlocked.CallOkAsync("sync_now");
        Assert.Equal(1, synced.GetProperty("uploaded").GetInt32());
        string stderr = (await unlocked.CloseAsync()).GetProperty("serverStderr").GetString()!;
        Assert.DoesNotContain(Sandbox.Passphrase, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stdout_CarriesOnlyJsonRpc_LogsGoToStderr()
    {
        // Without the TypeScript client: the raw bytes on stdout, each line one JSON-RPC message.
        await _sandbox.SetupAsync("laptop");
        string away = _sandbox.Repository + "-away";
        Directory.Move(_sandbox.Repository, away);  // so sync fails and the server has something to log
        string[] requests =
        [
            """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""",
            """{"jsonrpc":"2.0","method":"notifications/initialized"}""",
            """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"remember","arguments":{"content":"raw line"}}}""",
            """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"sync_now","arguments":{}}}""",
            """{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"list_memories","arguments":{}}}""",
        ];
        var start = new ProcessStartInfo(GhostieCli.DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _sandbox.Root,
            StandardOutputEncoding = Encoding.UTF8,
            StandardInputEncoding = new UTF8Encoding(false),
        };
        foreach (string arg in (string[])[GhostieCli.DllPath, "--home", _sandbox.Home("laptop"), "mcp"])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("GHOSTIE_PASSPHRASE");
        using Process server = Process.Start(start)!;
        Task<string> stderr = server.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        foreach (string request in requests)
        {
            await server.StandardInput.WriteLineAsync(request);
            await server.StandardInput.FlushAsync();
            if (!request.Contains("\"id\"", StringComparison.Ordinal))
            {
                continue;
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? line = await server.StandardOutput.ReadLineAsync(timeout.Token);
            Assert.NotNull(line);
            lines.Add(line);
        }

        server.StandardInput.Close();
        lines.AddRange((await server.StandardOutput.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        await server.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.Equal(4, lines.Count);
        for (int i = 0; i < lines.Count; i++)
        {
            using JsonDocument message = JsonDocument.Parse(lines[i]);
            Assert.Equal("2.0", message.RootElement.GetProperty("jsonrpc").GetString());
            Assert.Equal(i + 1, message.RootElement.GetProperty("id").GetInt32());
        }

        Assert.Contains("\"isError\":true", lines[2], StringComparison.Ordinal);
        Assert.Contains("raw line", lines[3], StringComparison.Ordinal);
        Assert.Contains("sync_now", await stderr, StringComparison.Ordinal);  // the failed call is logged, on stderr
        Assert.Equal(0, server.ExitCode);
    }

    [Fact]
    public async Task BackgroundSync_DuringASession_PullsWhatOtherDevicesPushed_AndPushesWhatTheToolsRemembered()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        await using McpClientSession phone = await StartAsync("phone", null, "--sync-interval", "0.5", "--sync-debounce", "0.2");

        // The laptop pushes a memory; the phone's session pulls it without any sync_now.
        string fromLaptop = (await _sandbox.RunAsync("laptop", "memory", "add", "Pulled in the background", "--json")).Expect(0).Json().GetProperty("id").GetString()!;
        (await _sandbox.RunAsync("laptop", "sync", "push", "--quiet")).Expect(0);
        Assert.True(await EventuallyAsync(async () =>
            (await phone.CallOkAsync("list_memories")).GetProperty("memories").EnumerateArray().Any(m => m.GetProperty("id").GetString() == fromLaptop)),
            "the phone's MCP session never pulled the laptop's memory in the background");
        Assert.Equal("Pulled in the background", (await phone.CallOkAsync("show_memory", new JsonObject { ["id"] = fromLaptop })).GetProperty("content").GetString());

        // A memory remembered through the tools reaches the laptop without any sync_now.
        string fromPhone = (await phone.CallOkAsync("remember", new JsonObject { ["content"] = "Pushed in the background" })).GetProperty("id").GetString()!;
        Assert.True(await EventuallyAsync(async () =>
        {
            (await _sandbox.RunAsync("laptop", "sync", "pull", "--quiet")).Expect(0);
            JsonElement laptop = (await _sandbox.RunAsync("laptop", "memory", "list", "--json")).Expect(0).Json();
            return laptop.GetProperty("memories").EnumerateArray().Any(m => m.GetProperty("id").GetString() == fromPhone);
        }), "the phone's MCP session never pushed the remembered memory in the background");

        // sync_now still works beside the loop (it waits for a background sync holding the home's lock); nothing left to move.
        JsonElement now = await phone.CallOkAsync("sync_now");
        Assert.Equal(0, now.GetProperty("uploaded").GetInt32());
        JsonElement closed = await phone.CloseAsync();
        Assert.Empty(closed.GetProperty("clientErrors").EnumerateArray());
        Assert.DoesNotContain("background sync failed", closed.GetProperty("serverStderr").GetString()!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackgroundSync_Failures_AreOneLineOnStderr_AndTheSessionKeepsServing()
    {
        await _sandbox.SetupAsync("laptop");
        string away = _sandbox.Repository + "-away";
        Directory.Move(_sandbox.Repository, away);
        await using McpClientSession mcp = await StartAsync("laptop", null, "--sync-interval", "0.5", "--sync-debounce", "0.2");
        string id = (await mcp.CallOkAsync("remember", new JsonObject { ["content"] = "kept while the repository is away" })).GetProperty("id").GetString()!;
        // A check at start and a debounced push, both failing: wait until the server has said so on stderr.
        Assert.True(await EventuallyAsync(async () =>
            (await mcp.DiagnosticsAsync()).GetProperty("serverStderr").GetString()!
                .Contains("background sync failed", StringComparison.Ordinal)), "no background failure was reported on stderr");
        Assert.Equal("kept while the repository is away", (await mcp.CallOkAsync("show_memory", new JsonObject { ["id"] = id })).GetProperty("content").GetString());
        string stderr = (await mcp.CloseAsync()).GetProperty("serverStderr").GetString()!;
        string[] failed = [.. stderr.Split('\n').Where(l => l.Contains("background sync", StringComparison.Ordinal))];
        Assert.NotEmpty(failed);
        Assert.All(failed, l =>
        {
            Assert.StartsWith("ghostie mcp: background sync failed (BackendUnavailable): ", l, StringComparison.Ordinal);
            Assert.Contains("Trying again at", l, StringComparison.Ordinal);
        });
        Assert.DoesNotContain(Sandbox.Passphrase, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackgroundSync_LockedHome_DoesNotStart_AndNothingFailsInTheBackground()
    {
        await _sandbox.SetupAsync("laptop");
        (await _sandbox.RunAsync("laptop", "sync", "forget")).Expect(0);
        string[] before = [.. Directory.EnumerateFiles(_sandbox.Repository, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
        await using McpClientSession mcp = await StartAsync("laptop", null, "--sync-interval", "0.2");
        await mcp.CallOkAsync("remember", new JsonObject { ["content"] = "local only" });
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        string stderr = (await mcp.CloseAsync()).GetProperty("serverStderr").GetString()!;
        Assert.DoesNotContain("background sync", stderr, StringComparison.Ordinal);
        Assert.Contains("GHOSTIE_PASSPHRASE", stderr, StringComparison.Ordinal);  // the start-up warning says how to unlock
        Assert.Equal(before, Directory.EnumerateFiles(_sandbox.Repository, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(250);
        }

        return false;
    }

    // The tool tests count what sync_now moved, so their sessions sync only when asked; the background tests below
    // pass their own schedule.
    private Task<McpClientSession> StartAsync(string device, IReadOnlyDictionary<string, string?>? environment = null, params string[] serverArguments)
    {
        if (serverArguments.Length == 0)
        {
            serverArguments = ["--no-background-sync"];
        }

        var variables = new Dictionary<string, string?> { ["GHOSTIE_HOME"] = Path.Combine(_sandbox.Root, "default-home") };
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            variables[name] = value;
        }

        return McpClientSession.StartAsync(_sandbox.Home(device), _sandbox.Root, variables, serverArguments);
    }

    private static async Task<string> PingAsync(McpClientSession mcp)
    {
        JsonElement reply = await mcp.SendAsync(new JsonObject { ["op"] = "ping" });
        return reply.GetProperty("ok").GetBoolean() ? "pong" : reply.GetProperty("error").ToString();
    }

    private static string? ErrorCode(ToolResult result)
    {
        Assert.True(result.IsError, $"{result.Tool} was expected to fail but returned: {result.Raw}");
        return result.Structured.GetProperty("error").GetProperty("code").GetString();
    }

    private static string[] Required(JsonElement tool) =>
        tool.GetProperty("inputSchema").TryGetProperty("required", out JsonElement required)
            ? required.EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal).ToArray()
            : [];

    private static JsonElement Property(JsonElement tool, string name) => tool.GetProperty("inputSchema").GetProperty("properties").GetProperty(name);
}
