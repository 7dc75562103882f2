using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Ghostie.Cli.Output;
using Ghostie.Sync;
using Ghostie.Sync.Crypto;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Cli;

/// <summary>
/// What one command invocation needs besides its own arguments: the Ghostie home and where and how to write.
/// Human-readable lines and JSON documents go to stdout; errors, problems and hints go to stderr.
/// </summary>
internal sealed class CliContext
{
    public CliContext(GhostieHome home, bool json, bool quiet, TextWriter output, TextWriter error, ILoggerFactory? loggers = null)
    {
        Home = home;
        Json = json;
        Quiet = quiet;
        Out = output;
        Error = error;
        Loggers = loggers ?? NullLoggerFactory.Instance;
    }

    /// <summary>Where the library's log events go: stderr with <c>--verbose</c> (<see cref="VerboseLog"/>), else nowhere.</summary>
    public ILoggerFactory Loggers { get; }

    /// <summary>The key derivation of key files this command writes (<c>--kdf</c>); the library's default (Argon2id) when null.</summary>
    public KeyDerivationProfile? KeyDerivation { get; set; }

    /// <summary>Key options whose events (unlock, key files, epochs) go to <see cref="Loggers"/>, with <see cref="KeyDerivation"/>; defaults otherwise.</summary>
    public RepositoryKeyOptions KeyOptions()
    {
        var options = new RepositoryKeyOptions { Logger = Loggers.CreateLogger<RepositoryKeys>() };
        return KeyDerivation is { } profile ? options.UseProfile(profile) : options;
    }

    private readonly List<IDisposable> _owned = [];

    /// <summary>Disposes <paramref name="resource"/> when the command ends, whatever the outcome (a backend's HTTP client).</summary>
    public void Own(object? resource)
    {
        if (resource is IDisposable disposable)
        {
            _owned.Add(disposable);
        }
    }

    /// <summary>Disposes what <see cref="Own"/> collected, newest first.</summary>
    public void DisposeOwned()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }

        _owned.Clear();
    }

    /// <summary>The Ghostie home (<c>--home</c>, else <c>$GHOSTIE_HOME</c>, else <c>~/.ghostie</c>).</summary>
    public GhostieHome Home { get; }

    /// <summary><c>--json</c>: exactly one JSON document on stdout, nothing else there.</summary>
    public bool Json { get; }

    /// <summary><c>--quiet</c>: no human-readable output on success; errors and problems still go to stderr.</summary>
    public bool Quiet { get; }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    /// <summary>Progress bars only for a person watching a terminal.</summary>
    public bool ShowProgress => !Json && !Quiet && !Console.IsOutputRedirected;

    /// <summary>
    /// Writes a human-readable line to stdout, unless <c>--json</c> or <c>--quiet</c>. Control characters and bidi
    /// overrides in it (from a memory, another device or the repository) are shown escaped (<see cref="TerminalText"/>);
    /// line breaks and tabs stay.
    /// </summary>
    public void Line(string text = "")
    {
        if (!Json && !Quiet)
        {
            Out.WriteLine(TerminalText.Escape(text, keepLineBreaks: true));
        }
    }

    /// <summary>Writes the command's JSON document to stdout (call only when <see cref="Json"/>).</summary>
    public void Document<T>(T document, JsonTypeInfo<T> typeInfo) => Out.WriteLine(JsonSerializer.Serialize(document, typeInfo));

    /// <summary>Reports a command's outcome: with <c>--json</c> the document, otherwise the human-readable lines.</summary>
    public void Report<T>(T document, JsonTypeInfo<T> typeInfo, params string[] lines)
    {
        if (Json)
        {
            Document(document, typeInfo);
            return;
        }

        foreach (string line in lines)
        {
            Line(line);
        }
    }

    /// <summary>Writes a hint for a person to stderr, unless <c>--quiet</c> or <c>--json</c> (stdout keeps only the result).</summary>
    public void Hint(string text)
    {
        if (!Json && !Quiet)
        {
            Error.WriteLine("ghostie: " + TerminalText.Escape(text));
        }
    }

    /// <summary>Writes a warning or hint to stderr (even with <c>--quiet</c>: it tells of something to act on).</summary>
    public void Warn(string text) => Error.WriteLine("ghostie: " + TerminalText.Escape(text));

    /// <summary>Reports a failure: the message on stderr, and with <c>--json</c> an error document on stdout.</summary>
    /// <returns><paramref name="exitCode"/>.</returns>
    public int Fail(string code, int exitCode, string message) => Fail(Out, Error, Json, code, exitCode, message);

    /// <summary>Reports a failure when no context could be made (a parse error).</summary>
    public static int Fail(TextWriter output, TextWriter error, bool json, string code, int exitCode, string message)
    {
        message = CliApplication.OneLine(message);  // one line on stderr, whatever the source of the message
        error.WriteLine("ghostie: error: " + TerminalText.Escape(message));  // the JSON document below keeps it exact
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new ErrorDocument(new ErrorDetail(code, exitCode, message)), CliJson.Output.ErrorDocument));
        }

        return exitCode;
    }
}
