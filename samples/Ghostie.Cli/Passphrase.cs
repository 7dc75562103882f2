using Ghostie.Sync;
using Spectre.Console;

namespace Ghostie.Cli;

/// <summary>
/// Where the repository passphrase comes from: <c>GHOSTIE_PASSPHRASE</c>, else a prompt on the terminal that shows
/// nothing as it is typed. The passphrase is handed to the library and nowhere else: never printed, logged or stored.
/// </summary>
internal static class Passphrase
{
    public const string EnvironmentVariable = "GHOSTIE_PASSPHRASE";

    /// <summary>The passphrase from <c>GHOSTIE_PASSPHRASE</c>, or null when it is unset or empty.</summary>
    public static string? FromEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } passphrase ? passphrase : null;

    /// <summary>The passphrase from the environment, else from a prompt.</summary>
    /// <param name="newRepository">Whether it will create a repository: then the prompt asks twice, since a typo would lock the user out.</param>
    /// <param name="where">The repository's location, shown in the prompt.</param>
    /// <exception cref="GhostieSyncException">No passphrase in the environment and stdin is not a terminal (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static string Require(bool newRepository, string where)
    {
        if (FromEnvironment() is { } fromEnvironment)
        {
            return fromEnvironment;
        }

        if (Console.IsInputRedirected)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"A passphrase is needed to unlock the repository, and stdin is not a terminal to prompt on. Set {EnvironmentVariable}, or run ghostie interactively.");
        }

        // Prompts go to stderr so that stdout stays clean for --json.
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Interactive = InteractionSupport.Yes,
        });
        string title = newRepository
            ? $"Choose a passphrase for the new repository in {Markup.Escape(where)}:"
            : $"Passphrase for the repository in {Markup.Escape(where)}:";
        string passphrase = console.Prompt(new TextPrompt<string>(title).Secret(null));
        if (newRepository)
        {
            string again = console.Prompt(new TextPrompt<string>("Type it again:").Secret(null));
            if (!string.Equals(passphrase, again, StringComparison.Ordinal))
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "The two passphrases differ; nothing was set up. Run the command again.");
            }
        }

        return passphrase;
    }
}

/// <summary>Asks for a value on the terminal (stderr, so stdout stays clean for --json).</summary>
internal static class Prompt
{
    /// <summary>Reads one value; hidden as it is typed unless <paramref name="echo"/>.</summary>
    /// <param name="title">The question.</param>
    /// <param name="echo">Whether to show what is typed (for non-secret identifiers).</param>
    public static string Secret(string title, bool echo = false)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Interactive = InteractionSupport.Yes,
        });
        var prompt = new TextPrompt<string>(Markup.Escape(title));
        return console.Prompt(echo ? prompt : prompt.Secret(null)).Trim();
    }
}
