using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Ghostie.Cli.Commands;
using Ghostie.Cli.Output;
using Ghostie.Sync;

namespace Ghostie.Cli;

/// <summary>The <c>ghostie</c> command tree, its global options, and the error handling every command shares.</summary>
internal sealed class CliApplication
{
    private readonly TextWriter _out;
    private readonly TextWriter _error;

    public CliApplication(TextWriter output, TextWriter error)
    {
        _out = output;
        _error = error;
        // A plain command rather than RootCommand, whose name is the executable's ("Ghostie.Cli" under 'dotnet Ghostie.Cli.dll').
        Root = new Command("ghostie", "ghostie: one encrypted memory across all your devices. Set up sync, push, pull, resolve conflicts, and manage memories.")
        {
            new HelpOption(),
            new VersionOption(),
            HomeOption,
            JsonOption,
            QuietOption,
            VerboseOption,
        };
        Root.Subcommands.Add(SyncCommands.Create(this));
        Root.Subcommands.Add(MemoryCommands.Create(this));
        Root.Subcommands.Add(HandoffCommands.Create(this));
        Root.Subcommands.Add(KeyCommands.Create(this));
        Root.Subcommands.Add(DeviceCommands.Create(this));
        Root.Subcommands.Add(McpCommand.Create(this));
        Root.Subcommands.Add(GraphCommands.Create(this));
        Root.Subcommands.Add(CompletionCommand.Create());
        foreach (Option option in Root.Options)
        {
            if (option is HelpOption { Action: HelpAction help } helpOption)
            {
                helpOption.Action = new HelpWithExitCodes(help);
            }
        }
    }

    public Command Root { get; }

    public Option<string> HomeOption { get; } = new("--home")
    {
        Description = "The Ghostie home folder. Default: $GHOSTIE_HOME, else ~/.ghostie.",
        HelpName = "dir",
        Recursive = true,
        DefaultValueFactory = _ => GhostieHome.DefaultRoot,
    };

    public Option<bool> JsonOption { get; } = new("--json")
    {
        Description = "Write one JSON document to stdout (no progress bars, no colors); errors too.",
        Recursive = true,
    };

    public Option<bool> QuietOption { get; } = new("--quiet", "-q")
    {
        Description = "Print nothing on success; errors and problems still go to stderr.",
        Recursive = true,
    };

    public Option<bool> VerboseOption { get; } = new("--verbose")
    {
        Description = "Show the library's log events (sync, keys, backends, handoff) on stderr, from Debug up. Never secrets.",
        Recursive = true,
    };

    /// <summary>Runs the command line; returns the process exit code.</summary>
    /// <param name="args">The arguments, in the seed's spelling or the command spelling.</param>
    public static Task<int> RunAsync(string[] args) => new CliApplication(Console.Out, Console.Error).InvokeAsync(args);

    public async Task<int> InvokeAsync(string[] args)
    {
        if (args.Length > 0 && IsSuggestDirective(args[0]))
        {
            return Suggest(args);
        }

        args = BusyWait.ExpandBareWait(SeedSpelling.Rewrite(args));
        var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = _out, Error = _error };
        if (args.Length == 0)
        {
            await Root.Parse(["--help"]).InvokeAsync(invocation).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        // No response files: a memory such as "@alice prefers tea" is content, not a file to read arguments from.
        ParseResult parse = Root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0 && parse.Action is ParseErrorAction)
        {
            // Our own report instead of the parser's: the errors on one line, a pointer to help, and a JSON document with --json.
            bool json = args.Contains("--json", StringComparer.Ordinal);
            string message = string.Join(" ", parse.Errors.Select(e => e.Message));
            string commandPath = string.Join(" ", CommandPath(parse.CommandResult.Command));
            int exitCode = CliContext.Fail(_out, _error, json, nameof(GhostieErrorCode.InvalidArgument), ExitCodes.Usage, message);
            _error.WriteLine($"ghostie: run '{commandPath} --help' for usage.");
            return exitCode;
        }

        return await parse.InvokeAsync(invocation).ConfigureAwait(false);
    }

    /// <summary>Sets <paramref name="command"/>'s action: <paramref name="body"/> with a <see cref="CliContext"/>, and every error mapped to its exit code.</summary>
    public void SetAction(Command command, Func<CliContext, ParseResult, CancellationToken, Task<int>> body)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            bool json = parse.GetValue(JsonOption);
            CliContext context;
            string home = parse.GetValue(HomeOption) ?? GhostieHome.DefaultRoot;
            if (HomeProblem(home) is { } problem)
            {
                return CliContext.Fail(_out, _error, json, nameof(GhostieErrorCode.InvalidArgument), ExitCodes.Usage, problem);
            }

            try
            {
                context = new CliContext(new GhostieHome(home), json, parse.GetValue(QuietOption), _out, _error,
                    parse.GetValue(VerboseOption) ? new VerboseLog(_error) : null);
            }
            catch (ArgumentException)
            {
                return CliContext.Fail(_out, _error, json, nameof(GhostieErrorCode.InvalidArgument), ExitCodes.Usage,
                    $"--home '{home}' is not a usable folder path. Give a folder (it is created if missing), or unset GHOSTIE_HOME to use ~/.ghostie.");
            }

            try
            {
                return await body(context, parse, cancellationToken).ConfigureAwait(false);
            }
            catch (GhostieSyncException ex)
            {
                // The library's messages say what happened and what to do; they never hold secrets. No stack trace.
                return context.Fail(ex.Code.ToString(), ExitCodes.From(ex.Code), ex.Message);
            }
            catch (PromptCancelledException)
            {
                return context.Fail("Cancelled", ExitCodes.Cancelled, "Cancelled at the prompt; nothing was written.");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return context.Fail("Cancelled", ExitCodes.Cancelled, parse.CommandResult.Command.Parents.OfType<Command>().Any(c => c.Name == "sync")
                    ? "Interrupted. Local changes already committed stay in the outbox and go with the next push."
                    : "Interrupted; nothing was left half-done. Run the command again.");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return context.Fail(nameof(GhostieErrorCode.Unknown), ExitCodes.OtherError, ex.Message);
            }
#pragma warning disable CA1031 // the last line of defence of a CLI: report, never crash with a stack trace
            catch (Exception ex)
#pragma warning restore CA1031
            {
                return context.Fail(nameof(GhostieErrorCode.Unknown), ExitCodes.OtherError, $"Unexpected {ex.GetType().Name}: {ex.Message}");
            }
            finally
            {
                context.DisposeOwned();
            }
        });
    }

    private static bool IsSuggestDirective(string arg) =>
        arg.StartsWith("[suggest", StringComparison.Ordinal) && arg.EndsWith(']') && (arg.Length == 9 || arg[8] == ':');

    /// <summary>
    /// System.CommandLine's <c>[suggest:POSITION]</c> directive, which the scripts of <c>ghostie completion</c> call:
    /// <c>ghostie "[suggest:10]" "ghostie sy"</c> prints the completions at that cursor position, one per line. The
    /// root here is a plain command (see the constructor), to which the parser applies no directives, so the
    /// directive is read here: the same protocol, and the completions of <see cref="ParseResult.GetCompletions"/>.
    /// </summary>
    private int Suggest(string[] args)
    {
        string line = args.Length > 1 ? args[1] : "";
        int position = args[0].Length > 10 && int.TryParse(args[0].AsSpan(9, args[0].Length - 10), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out int given) ? Math.Min(given, line.Length) : line.Length;

        // The line starts with the program name (however it was invoked); the command tree starts after it.
        int end = 0;
        while (end < line.Length && char.IsWhiteSpace(line[end]))
        {
            end++;
        }

        while (end < line.Length && !char.IsWhiteSpace(line[end]))
        {
            end++;
        }

        if (position < end)
        {
            return 0; // still typing the program name
        }

        while (end < position && char.IsWhiteSpace(line[end]))
        {
            end++;
        }

        ParseResult parse = Root.Parse(line[end..], new ParserConfiguration { ResponseFileTokenReplacer = null });
        foreach (System.CommandLine.Completions.CompletionItem item in parse.GetCompletions(position - end))
        {
            _out.WriteLine(item.Label);
        }

        return 0;
    }

    /// <summary>Why <paramref name="home"/> cannot be a Ghostie home (empty, or an existing file), or null when it can.</summary>
    private static string? HomeProblem(string home)
    {
        if (string.IsNullOrWhiteSpace(home))
        {
            return "--home is empty. Give the Ghostie home folder (it is created if missing), or leave out --home to use $GHOSTIE_HOME, else ~/.ghostie.";
        }

        return File.Exists(home)
            ? $"--home {home} is a file, not a folder. Give the Ghostie home folder (it is created if missing)."
            : null;
    }

    /// <summary>Runs of whitespace, line breaks included, as one space.</summary>
    internal static string OneLine(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static IEnumerable<string> CommandPath(Command command)
    {
        var names = new Stack<string>();
        for (Symbol? symbol = command; symbol is not null; symbol = symbol.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Push(symbol.Name);
        }

        return names;
    }

    /// <summary>The standard help, followed by the exit codes and environment variables.</summary>
    private sealed class HelpWithExitCodes(HelpAction inner) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            int result = inner.Invoke(parseResult);
            TextWriter output = parseResult.InvocationConfiguration.Output;
            output.WriteLine(ExitCodes.HelpText);
            return result;
        }
    }
}
