using System.Globalization;
using Ghostie.Sync;

namespace Ghostie.Cli;

/// <summary>
/// Where the repository passphrase comes from: <c>GHOSTIE_PASSPHRASE</c>, else a prompt on the terminal that shows
/// nothing as it is typed. The passphrase is handed to the library and nowhere else: never printed, logged or stored.
/// A passphrase chosen now (a new repository, <c>key add</c>, <c>key change</c>) must not be empty or only spaces, and
/// is refused when <see cref="PassphraseStrength"/> rates it below its floor, unless <c>--allow-weak-passphrase</c>.
/// </summary>
internal static class Passphrase
{
    public const string EnvironmentVariable = "GHOSTIE_PASSPHRASE";

    /// <summary>The option that accepts a weak new passphrase.</summary>
    public const string AllowWeakOption = "--allow-weak-passphrase";

    // A person gets this many tries at the prompt to choose an acceptable passphrase and type it twice.
    private const int ChooseAttempts = 3;

    /// <summary>The passphrase from <c>GHOSTIE_PASSPHRASE</c>, or null when it is unset or empty.</summary>
    public static string? FromEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } passphrase ? passphrase : null;

    /// <summary>
    /// The passphrase that unlocks an existing repository: from the environment, else from a prompt. With
    /// <paramref name="newRepository"/> the passphrase is chosen instead (<see cref="ChooseNew"/>, no weak ones).
    /// </summary>
    /// <param name="newRepository">Whether it will create a repository: then the prompt asks twice, since a typo would lock the user out.</param>
    /// <param name="where">The repository's location, shown in the prompt.</param>
    /// <exception cref="GhostieSyncException">No passphrase in the environment and stdin is not a terminal, or an empty one (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static string Require(bool newRepository, string where)
    {
        if (newRepository)
        {
            return ChooseNew(EnvironmentVariable, $"the new repository in {where}", "nothing was set up", allowWeak: false, warn: null);
        }

        if (FromEnvironment() is { } fromEnvironment)
        {
            return fromEnvironment;
        }

        if (TerminalPrompter.TryCreate() is not { } prompter)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, IsSetButEmpty(EnvironmentVariable)
                ? $"{EnvironmentVariable} is set but empty, and the passphrase that unlocks the repository cannot be empty. Set it to the passphrase, or unset it and run ghostie on a terminal to be asked."
                : $"A passphrase is needed to unlock the repository, and stdin is not a terminal to prompt on. Set {EnvironmentVariable}, or run ghostie interactively.");
        }

        string passphrase = prompter.AskSecret($"Passphrase that unlocks the repository in {where}:");
        return passphrase.Length > 0
            ? passphrase
            : throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "No passphrase was typed, and the repository cannot be unlocked without one. Run the command again.");
    }

    /// <summary>
    /// A passphrase chosen now: from <paramref name="variable"/>, else typed twice at the prompt (up to three tries, an
    /// unacceptable one explained and asked again). Empty or only spaces is always refused; weak is refused unless
    /// <paramref name="allowWeak"/>, and then warned about; middling is warned about.
    /// </summary>
    /// <param name="variable">The environment variable that may hold it (<c>GHOSTIE_PASSPHRASE</c>, <c>GHOSTIE_NEW_PASSPHRASE</c>).</param>
    /// <param name="purpose">What it is for, after "Choose a passphrase for": "the new repository in /mnt/usb".</param>
    /// <param name="nothingDone">What a refusal leaves undone: "nothing was set up".</param>
    /// <param name="allowWeak">Whether <see cref="AllowWeakOption"/> was given.</param>
    /// <param name="warn">Where warnings go (stderr, also with --quiet); null: stderr.</param>
    /// <param name="prompter">The prompter to ask on; null: the terminal's, when stdin is one.</param>
    /// <exception cref="GhostieSyncException">None available, or refused (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    /// <exception cref="PromptCancelledException">Cancelled at the prompt.</exception>
    public static string ChooseNew(string variable, string purpose, string nothingDone, bool allowWeak, Action<string>? warn, IPrompter? prompter = null)
    {
        warn ??= message => Console.Error.WriteLine("ghostie: " + message);
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnvironment)
        {
            if (Problem(fromEnvironment, allowWeak, $"The passphrase in {variable}") is { } problem)
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{problem} {nothingDone[..1].ToUpperInvariant()}{nothingDone[1..]}.");
            }

            WarnIfWeak(fromEnvironment, warn);
            return fromEnvironment;
        }

        prompter ??= TerminalPrompter.TryCreate();
        if (prompter is null)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, IsSetButEmpty(variable)
                ? $"{variable} is set but empty, and a passphrase cannot be empty. Set it to the passphrase you choose for {purpose} (to create it), or unset it and run ghostie on a terminal to be asked; {nothingDone}."
                : $"A passphrase must be chosen for {purpose}, and stdin is not a terminal to ask on. Set {variable} to the passphrase you choose (to create it), or run ghostie interactively; {nothingDone}.");
        }

        for (int attempt = 1; attempt <= ChooseAttempts; attempt++)
        {
            string passphrase = prompter.AskSecret($"Choose a passphrase for {purpose}:");
            if (Problem(passphrase, allowWeak, "That passphrase") is { } problem)
            {
                prompter.Say(problem);
                continue;
            }

            if (!string.Equals(passphrase, prompter.AskSecret("Type it again:"), StringComparison.Ordinal))
            {
                prompter.Say("The two passphrases differ.");
                continue;
            }

            WarnIfWeak(passphrase, warn);
            return passphrase;
        }

        throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"No acceptable passphrase was typed twice in {ChooseAttempts} tries; {nothingDone}. Run the command again.");
    }

    /// <summary>Why <paramref name="passphrase"/> cannot be chosen, or null when it can.</summary>
    private static string? Problem(string passphrase, bool allowWeak, string subject)
    {
        if (passphrase.Length == 0)
        {
            return $"{subject} is empty, and a passphrase cannot be empty.";
        }

        if (string.IsNullOrWhiteSpace(passphrase))
        {
            return $"{subject} is only spaces, which is no passphrase (refused even with {AllowWeakOption}). Choose one with words in it.";
        }

        PassphraseEstimate estimate = PassphraseStrength.Estimate(passphrase);
        if (estimate.Bits < PassphraseStrength.FloorBits && !allowWeak)
        {
            return $"{subject} is too weak to protect the repository: {estimate.Weakness} (about {Bits(estimate)} bits of guessing; at least {PassphraseStrength.FloorBits:0} needed). "
                + $"Choose a longer one, for example four or five unrelated words, or add {AllowWeakOption} to use it anyway.";
        }

        return null;
    }

    private static void WarnIfWeak(string passphrase, Action<string> warn)
    {
        PassphraseEstimate estimate = PassphraseStrength.Estimate(passphrase);
        if (estimate.Bits < PassphraseStrength.FloorBits)
        {
            warn($"warning: the passphrase is weak ({estimate.Weakness}, about {Bits(estimate)} bits): anyone with a copy of the repository could guess it. Replace it with 'ghostie key change' when you can.");
        }
        else if (estimate.Bits < PassphraseStrength.GoodBits)
        {
            warn($"the passphrase is accepted, but could be stronger ({estimate.Weakness}, about {Bits(estimate)} bits; {PassphraseStrength.GoodBits:0} or more is good). A longer one, such as five unrelated words, is safer.");
        }
    }

    private static string Bits(PassphraseEstimate estimate) => Math.Floor(estimate.Bits).ToString("0", CultureInfo.InvariantCulture);

    private static bool IsSetButEmpty(string variable) => Environment.GetEnvironmentVariable(variable) is { Length: 0 };
}

/// <summary>Asks for a backend credential on the terminal (stderr, so stdout stays clean for --json).</summary>
internal static class Prompt
{
    /// <summary>Reads one value; hidden as it is typed unless <paramref name="echo"/>.</summary>
    /// <param name="title">The question.</param>
    /// <param name="echo">Whether to show what is typed (for non-secret identifiers).</param>
    /// <exception cref="PromptCancelledException">Cancelled at the prompt.</exception>
    public static string Secret(string title, bool echo = false)
    {
        IPrompter prompter = TerminalPrompter.TryCreate()
            ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "stdin is not a terminal to ask on.");
        return (echo ? prompter.Ask(title) : prompter.AskSecret(title)).Trim();
    }
}
