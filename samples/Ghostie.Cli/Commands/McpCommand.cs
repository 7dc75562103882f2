using System.CommandLine;
using Ghostie.Cli.Mcp;

namespace Ghostie.Cli.Commands;

/// <summary><c>ghostie mcp</c>: serve this home's memories to an MCP host (Claude Code, Claude Desktop, ...) over stdio. docs/mcp.md.</summary>
internal static class McpCommand
{
    public static Command Create(CliApplication app)
    {
        var command = new Command("mcp",
            "Run a Model Context Protocol server on stdin/stdout for an AI host, for example 'claude mcp add ghostie -- ghostie mcp'. Tools: remember, recall, list_memories, show_memory, forget, sync_now, create_handoff, list_handoffs, resume_handoff; memories are resources (ghostie://memory/<id>). The passphrase comes from GHOSTIE_PASSPHRASE or the key cached by 'ghostie sync setup', never from a tool. Logs go to stderr.");
        app.SetAction(command, async (context, _, cancellationToken) =>
        {
            // stdout is the JSON-RPC channel: take the raw stream for the transport, then point Console.Out at stderr so
            // that nothing else (a library, a stray line) can ever write to it.
            Stream stdin = Console.OpenStandardInput();
            Stream stdout = Console.OpenStandardOutput();
            TextWriter stderr = Console.Error;
            Console.SetOut(stderr);
            await new GhostieMcpServer(context.Home, stderr).RunAsync(stdin, stdout, cancellationToken).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }
}
