using System.Reflection;
using System.Text;
using System.Text.Json;
using Ghostie.Cli.Commands;
using Ghostie.Sync;
using Ghostie.Sync.Crypto;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Ghostie.Cli.Mcp;

/// <summary>
/// <c>ghostie mcp</c>: a Model Context Protocol server over stdio (the C# SDK's stream transport on the process's
/// stdin and stdout) serving the <see cref="GhostieTools"/> and the home's memories as resources
/// (<c>ghostie://memory/{id}</c>). stdout carries only JSON-RPC; every log line goes to stderr.
/// </summary>
internal sealed class GhostieMcpServer
{
    /// <summary>The URI of a memory resource: this prefix, then the memory id.</summary>
    public const string MemoryUriPrefix = "ghostie://memory/";

    private readonly GhostieHome _home;
    private readonly TextWriter _log;
    private readonly BackgroundSyncOptions? _background;
    private readonly object _logLock = new();

    // One call at a time: the SDK may hand requests over concurrently, and the tools share the home's files and its
    // search index. Sync itself also takes the home's lock, which a background loop or another process may hold.
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>A server for one home.</summary>
    /// <param name="home">The Ghostie home whose memories it serves.</param>
    /// <param name="log">stderr: warnings and failed calls.</param>
    /// <param name="background">The schedule of the background sync while a session lasts, or null for none
    /// (<c>--no-background-sync</c>).</param>
    public GhostieMcpServer(GhostieHome home, TextWriter log, BackgroundSyncOptions? background = null)
    {
        _home = home;
        _log = log;
        _background = background;
    }

    /// <summary>The version the server reports: the CLI's informational version.</summary>
    public static string Version { get; } =
        typeof(GhostieMcpServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>What the server tells the client's model about itself at initialize.</summary>
    public const string Instructions =
        "Ghostie keeps the user's memories: small notes that follow them across their devices, encrypted on the device and synced through storage they own. "
        + "Use 'remember' to record something worth keeping (a preference, a fact, a decision), 'recall' to find memories related to a text before answering, "
        + "'list_memories' and 'show_memory' to read them, and 'forget' to delete one. 'sync_now' exchanges changes with the user's other devices. "
        + "'create_handoff' hands this conversation to another device, where 'resume_handoff' continues it. Memories are also resources: ghostie://memory/{id}.";

    /// <summary>Serves one session on <paramref name="input"/> and <paramref name="output"/> until the client closes it.</summary>
    /// <param name="input">The process's stdin.</param>
    /// <param name="output">The process's stdout: nothing else writes to it.</param>
    /// <param name="cancellationToken">Stops the server (Ctrl+C).</param>
    public async Task RunAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        var options = new McpServerOptions
        {
            ServerInfo = new Implementation { Name = "ghostie", Title = "Ghostie memories", Version = Version },
            ServerInstructions = Instructions,
            Capabilities = new ServerCapabilities { Tools = new ToolsCapability(), Resources = new ResourcesCapability() },
            Handlers = new McpServerHandlers
            {
                ListToolsHandler = (_, _) => ValueTask.FromResult(new ListToolsResult { Tools = GhostieTools.All.Values.Select(t => t.Definition).ToList() }),
                CallToolHandler = (request, cancellation) => CallToolAsync(request.Params, cancellation),
                ListResourcesHandler = (_, cancellation) => ListResourcesAsync(cancellation),
                ListResourceTemplatesHandler = (_, _) => ValueTask.FromResult(new ListResourceTemplatesResult
                {
                    ResourceTemplates =
                    [
                        new ResourceTemplate
                        {
                            UriTemplate = MemoryUriPrefix + "{id}",
                            Name = "memory",
                            Title = "A Ghostie memory",
                            Description = "One memory of this device by id: its exact text.",
                            MimeType = "text/plain",
                        },
                    ],
                }),
                ReadResourceHandler = (request, cancellation) => ReadResourceAsync(request.Params, cancellation),
            },
        };

        using var loggerFactory = new StderrLoggerFactory(_log, LogLevel.Warning);
        await using var transport = new StreamServerTransport(input, output, "ghostie", loggerFactory);
        await using McpServer server = McpServer.Create(transport, options, loggerFactory);
        WarnIfLocked();

        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // Background sync (docs/background-sync.md): while the session lasts, the home syncs on the scheduler's interval
        // (a check at start, then every interval; backoff after failures; a debounced push after local changes, which
        // the memories-folder watcher and the tools report). Started only when the repository can be unlocked without
        // a prompt (stdin is the MCP channel): the cached key or GHOSTIE_PASSPHRASE. Tool calls and the loop share the
        // home's lock, so sync_now waits for a background sync that holds it.
        CliContext? backgroundContext = null;
        BackgroundSync? background = null;
        Task backgroundRun = Task.CompletedTask;
        if (_background is not null && _home.IsConfigured && (DeviceKeyCache.ForHome(_home.Root).Exists || Passphrase.FromEnvironment() is not null))
        {
            backgroundContext = new CliContext(_home, json: true, quiet: true, TextWriter.Null, TextWriter.Null);
            CliContext opener = backgroundContext;
            background = new BackgroundSync(token => Backends.OpenAsync(opener, token), _background);
            background.StatusChanged += OnBackgroundStatus;
            _backgroundSync = background;
            backgroundRun = background.RunAsync(lifetime.Token);
        }

        try
        {
            await server.RunAsync(lifetime.Token).ConfigureAwait(false);
        }
        finally
        {
            await lifetime.CancelAsync().ConfigureAwait(false);
            try
            {
                await backgroundRun.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the session ended
            }

            _backgroundSync = null;
            background?.Dispose();
            backgroundContext?.DisposeOwned();
        }
    }

    private BackgroundSync? _backgroundSync;
    private int _reportedFailures;

    // One stderr line per new failure streak step and one when it recovers; the message is the library's, which never
    // carries a secret or a memory's content.
    private void OnBackgroundStatus(object? sender, BackgroundSyncStatus status)
    {
        if (status.State != BackgroundSyncState.Waiting)
        {
            return;
        }

        int before = Interlocked.Exchange(ref _reportedFailures, status.ConsecutiveFailures);
        if (status.ConsecutiveFailures > before && status.LastError is { } error)
        {
            Log($"background sync failed ({error.Code}): {CliApplication.OneLine(error.Message)} Trying again at {SyncCommands.Time(status.NextRun)}.");
        }
        else if (status.ConsecutiveFailures == 0 && before > 0)
        {
            Log("background sync works again.");
        }
    }

    private void WarnIfLocked()
    {
        if (_home.IsConfigured && !DeviceKeyCache.ForHome(_home.Root).Exists && Passphrase.FromEnvironment() is null)
        {
            Log("warning: " + GhostieTools.UnlockHelp(_home) + " Until then sync_now and the handoff tools fail; the memory tools work.");
        }
    }

    private async ValueTask<CallToolResult> CallToolAsync(CallToolRequestParams? request, CancellationToken cancellationToken)
    {
        string name = request?.Name ?? "";
        if (!GhostieTools.All.TryGetValue(name, out GhostieTool? tool))
        {
            throw new McpProtocolException(
                $"Unknown tool '{Shown(name)}'. The tools are: {string.Join(", ", GhostieTools.All.Keys.Order(StringComparer.Ordinal))}.", McpErrorCode.InvalidParams);
        }

        var warnings = new StringWriter();
        var context = new CliContext(_home, json: true, quiet: true, TextWriter.Null, warnings);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var arguments = new ToolArguments(name, request!.Arguments, tool.Arguments);
            ToolOutput output = await tool.Run(context, arguments, cancellationToken).ConfigureAwait(false);
            if (name is "remember" or "forget")
            {
                _backgroundSync?.NotifyLocalChange();  // the folder watcher sees it too; this does not depend on it
            }

            var content = new List<ContentBlock> { new TextContentBlock { Text = output.Text } };
            if (warnings.ToString() is { Length: > 0 } warned)
            {
                content.Add(new TextContentBlock { Text = warned.TrimEnd() });
            }

            return new CallToolResult { Content = content, StructuredContent = output.Structured };
        }
        catch (GhostieSyncException ex)
        {
            return Failure(name, ex.Code.ToString(), ex.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Failure(name, nameof(GhostieErrorCode.Unknown), ex.Message);
        }
#pragma warning disable CA1031 // a tool that fails must not take the server down: report it and keep serving
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Failure(name, nameof(GhostieErrorCode.Unknown), $"Unexpected {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            _gate.Release();
            if (warnings.ToString() is { Length: > 0 } warned)
            {
                lock (_logLock)
                {
                    _log.Write(warned);
                    _log.Flush();
                }
            }

            context.DisposeOwned();
        }
    }

    private CallToolResult Failure(string tool, string code, string message)
    {
        message = CliApplication.OneLine(message);
        Log($"{tool} failed ({code}): {message}");
        ToolOutput document = ToolOutput.Of(new McpErrorDocument(new McpErrorDetail(code, message)), McpJson.Output.McpErrorDocument);
        return new CallToolResult
        {
            IsError = true,
            Content = [new TextContentBlock { Text = $"{code}: {message}" }],
            StructuredContent = document.Structured,
        };
    }

    private async ValueTask<ListResourcesResult> ListResourcesAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            (List<MemoryRecord> memories, _) = MemoryCommands.Scan(_home, category: null);
            return new ListResourcesResult
            {
                Resources = memories.Select(m => new Resource
                {
                    Uri = MemoryUriPrefix + m.Id,
                    Name = m.Id,
                    Title = MemoryCommands.Excerpt(m.Content, 60),
                    Description = $"[{m.Category}] recorded {SyncCommands.Time(m.Timestamp)} on device {m.DeviceId}",
                    MimeType = "text/plain",
                    Size = Encoding.UTF8.GetByteCount(m.Content),
                }).ToList(),
            };
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask<ReadResourceResult> ReadResourceAsync(ReadResourceRequestParams? request, CancellationToken cancellationToken)
    {
        string uri = request?.Uri ?? "";
        if (!uri.StartsWith(MemoryUriPrefix, StringComparison.Ordinal))
        {
            throw new McpProtocolException($"'{Shown(uri)}' is not a Ghostie resource: memories are {MemoryUriPrefix}<id>.", McpErrorCode.InvalidParams);
        }

        string id = uri[MemoryUriPrefix.Length..];
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            MemoryRecord memory = MemoryCommands.Get(_home, MemoryCommands.ValidId(id));
            return new ReadResourceResult { Contents = [new TextResourceContents { Uri = uri, MimeType = "text/plain", Text = memory.Content }] };
        }
        catch (GhostieSyncException ex)
        {
            McpErrorCode code = ex.Code == GhostieErrorCode.NotFound ? McpErrorCode.ResourceNotFound : McpErrorCode.InvalidParams;
            Log($"resources/read {Shown(uri)} failed ({ex.Code}): {CliApplication.OneLine(ex.Message)}");
            throw new McpProtocolException($"{ex.Code}: {CliApplication.OneLine(ex.Message)}", code);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Log(string line)
    {
        lock (_logLock)
        {
            _log.WriteLine("ghostie mcp: " + Output.TerminalText.Escape(line));
            _log.Flush();
        }
    }

    // A name or URI chosen by the client, cut short and without control characters, for a message.
    private static string Shown(string text)
    {
        string cleaned = new(text.Select(c => char.IsControl(c) ? '?' : c).Take(200).ToArray());
        return text.Length > 200 ? cleaned + "..." : cleaned;
    }
}
