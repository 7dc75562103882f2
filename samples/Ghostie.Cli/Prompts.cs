using System.Text;
using Ghostie.Cli.Output;

namespace Ghostie.Cli;

/// <summary>Asks a person questions. The only implementation is the terminal; the tests drive it through a pseudo-terminal.</summary>
internal interface IPrompter
{
    /// <summary>Asks for a value that is shown as it is typed; an empty answer takes <paramref name="defaultValue"/>.</summary>
    /// <exception cref="PromptCancelledException">Ctrl+C, or Ctrl+D (end of input) on an empty answer.</exception>
    string Ask(string question, string? defaultValue = null);

    /// <summary>Asks for a secret: nothing is shown as it is typed, and there is no default.</summary>
    /// <exception cref="PromptCancelledException">Ctrl+C, or Ctrl+D on an empty answer.</exception>
    string AskSecret(string question);

    /// <summary>Asks a yes/no question.</summary>
    /// <exception cref="PromptCancelledException">Ctrl+C, or Ctrl+D on an empty answer.</exception>
    bool Confirm(string question, bool defaultValue);

    /// <summary>Tells the person something (a summary line, why an answer was not taken).</summary>
    void Say(string line);
}

/// <summary>The person stopped at a prompt (Ctrl+C, or end of input); the command ends without writing anything.</summary>
internal sealed class PromptCancelledException : Exception
{
    public PromptCancelledException()
        : base("Cancelled at the prompt.")
    {
    }

    public PromptCancelledException(string message)
        : base(message)
    {
    }

    public PromptCancelledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Prompts on the terminal: questions on stderr (stdout stays clean for <c>--json</c>), answers read key by key from
/// stdin with Ctrl+C taken as a key, so cancelling at a prompt is a clean stop rather than a signal mid-read. Secrets are
/// never echoed. Used only when stdin is a terminal.
/// </summary>
internal sealed class TerminalPrompter : IPrompter
{
    private readonly TextWriter _error;

    private TerminalPrompter(TextWriter error) => _error = error;

    /// <summary>A prompter on this process's terminal, or null when stdin is not a terminal (a script: never ask).</summary>
    public static TerminalPrompter? TryCreate() => Console.IsInputRedirected ? null : new TerminalPrompter(Console.Error);

    public string Ask(string question, string? defaultValue = null)
    {
        _error.Write(TerminalText.Escape(question) + (defaultValue is { Length: > 0 } ? $" [{TerminalText.Escape(defaultValue)}]" : "") + " ");
        string answer = ReadLine(echo: true).Trim();
        return answer.Length == 0 && defaultValue is not null ? defaultValue : answer;
    }

    public string AskSecret(string question)
    {
        _error.Write(TerminalText.Escape(question) + " ");
        return ReadLine(echo: false);
    }

    public bool Confirm(string question, bool defaultValue)
    {
        while (true)
        {
            _error.Write(TerminalText.Escape(question) + (defaultValue ? " [Y/n] " : " [y/N] "));
            string answer = ReadLine(echo: true).Trim().ToLowerInvariant();
            switch (answer)
            {
                case "":
                    return defaultValue;
                case "y" or "yes":
                    return true;
                case "n" or "no":
                    return false;
                default:
                    _error.WriteLine("Answer y or n.");
                    break;
            }
        }
    }

    public void Say(string line) => _error.WriteLine(TerminalText.Escape(line));

    private string ReadLine(bool echo)
    {
        var buffer = new StringBuilder();
        bool restore = SetControlCAsInput(true);
        try
        {
            while (true)
            {
                ConsoleKeyInfo key = Console.ReadKey(intercept: true);
                char c = key.KeyChar;
                bool control = key.Modifiers.HasFlag(ConsoleModifiers.Control);
                if (key.Key == ConsoleKey.Enter || c is '\r' or '\n')
                {
                    _error.WriteLine();
                    return buffer.ToString();
                }

                if (c == '\x03' || (control && key.Key == ConsoleKey.C))
                {
                    _error.WriteLine();
                    throw new PromptCancelledException();
                }

                if (c == '\x04' || (control && key.Key == ConsoleKey.D))
                {
                    if (buffer.Length == 0)
                    {
                        _error.WriteLine();
                        throw new PromptCancelledException();
                    }

                    continue;
                }

                if (key.Key == ConsoleKey.Backspace || c is '\b' or '\x7f')
                {
                    if (buffer.Length > 0)
                    {
                        buffer.Length -= buffer.Length > 1 && char.IsLowSurrogate(buffer[^1]) ? 2 : 1;
                        if (echo)
                        {
                            _error.Write("\b \b");
                        }
                    }

                    continue;
                }

                if (c == '\x15' || (control && key.Key == ConsoleKey.U))
                {
                    if (echo)
                    {
                        _error.Write(string.Concat(Enumerable.Repeat("\b \b", buffer.Length)));
                    }

                    buffer.Clear();
                    continue;
                }

                if (c != '\0' && !char.IsControl(c))
                {
                    buffer.Append(c);
                    if (echo)
                    {
                        _error.Write(TerminalText.Escape(c.ToString()));
                    }
                }
            }
        }
        finally
        {
            if (restore)
            {
                SetControlCAsInput(false);
            }
        }
    }

    /// <summary>Takes Ctrl+C as a key (true) or back as the interrupt (false); returns whether the setting changed.</summary>
    private static bool SetControlCAsInput(bool value)
    {
        try
        {
            if (Console.TreatControlCAsInput == value)
            {
                return false;
            }

            Console.TreatControlCAsInput = value;
            return true;
        }
        catch (IOException)
        {
            return false;  // no console mode to change: Ctrl+C stays the interrupt, which also ends the command cleanly
        }
    }
}
