using System.CommandLine;
using Ghostie.Cli.Mcp;
using Ghostie.Sync;

namespace Ghostie.Cli.Commands;

/// <summary><c>ghostie mcp</c>: serve this home's memories to an MCP host (Claude Code, Claude Desktop, ...) over stdio. docs/mcp.md.</summary>
internal static class McpCommand
{
    public static Command Create(CliApplication app)
    {
        var command = new Command("mcp",
            "Run a Model Context Protocol server on stdin/stdout for an AI host, for example 'claude mcp add ghostie -- ghostie mcp'. Tools: remember, recall, list_memories, show_memory, forget, sync_now, create_handoff, list_handoffs, resume_handoff; memories are resources (ghostie://memory/<id>). The passphrase comes from GHOSTIE_PASSPHRASE or the key cached by 'ghostie sync setup', never from a tool. While a session lasts the home syncs in the background (--sync-interval, --no-background-sync). Logs go to stderr.");
        Option<double> interval = WatchCommand.Seconds("--sync-interval", 300, 0.1, 86_400,
            "While the session lasts, check the repository for other devices' changes this often (once at start, then every interval; a pull only when something changed).");
        Option<double> debounce = WatchCommand.Seconds("--sync-debounce", 5, 0, 3_600,
            "Push a memory remembered or forgotten through the tools once no further change came for this long (at most 60 s, or this, after the first).");
        var off = new Option<bool>("--no-background-sync")
        {
            Description = "Sync only when the sync_now tool (or 'ghostie sync') runs; nothing in the background.",
        };
        command.Options.Add(interval);
        command.Options.Add(debounce);
        command.Options.Add(off);
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            // stdout is the JSON-RPC channel: take the raw stream for the transport, then point Console.Out at stderr so
            // that nothing else (a library, a stray line) can ever write to it.
            Stream stdin = Console.OpenStandardInput();
            Stream stdout = Console.OpenStandardOutput();
            TextWriter stderr = Console.Error;
            Console.SetOut(stderr);
            BackgroundSyncOptions? background = parse.GetValue(off) ? null : new BackgroundSyncOptions
            {
                Interval = TimeSpan.FromSeconds(parse.GetValue(interval)),
                DebounceDelay = TimeSpan.FromSeconds(parse.GetValue(debounce)),
                MaxDebounceDelay = TimeSpan.FromSeconds(Math.Max(60, parse.GetValue(debounce))),
            };
            await new GhostieMcpServer(context.Home, stderr, background).RunAsync(stdin, stdout, cancellationToken).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }
}
