// The `ghostie` command. Commands, options, exit codes and --json shapes: docs/cli.md.
using Ghostie.Cli;

return await CliApplication.RunAsync(args).ConfigureAwait(false);
