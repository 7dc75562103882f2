using System.CommandLine;
using System.Security.Cryptography;
using Ghostie.Cli.Output;
using Ghostie.Sync;
using Ghostie.Sync.Crypto;

namespace Ghostie.Cli.Commands;

/// <summary><c>ghostie key list | add | change | remove | rotate</c>: the repository's passphrases (key files) and key epochs.</summary>
internal static class KeyCommands
{
    /// <summary>Where a new passphrase comes from when not prompted for.</summary>
    public const string NewPassphraseVariable = "GHOSTIE_NEW_PASSPHRASE";

    public static Command Create(CliApplication app)
    {
        var key = new Command("key", "The repository's passphrases (key files: add a printed recovery key, change or remove one) and key rotation. None of these re-encrypts data.");
        key.Aliases.Add("keys");
        key.Subcommands.Add(List(app));
        key.Subcommands.Add(Add(app));
        key.Subcommands.Add(Change(app));
        key.Subcommands.Add(Remove(app));
        key.Subcommands.Add(Rotate(app));
        return key;
    }

    private static Command List(CliApplication app)
    {
        var command = new Command("list", "List the key files: each is one passphrase that unlocks the repository.");
        command.Aliases.Add("ls");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<KeyFileInfo> files = await manager.Keys.ListKeyFilesAsync(cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.Document(new KeyListDocument(files.Select(KeyFileDocument.From).ToArray(), Epoch(manager.Keys.CurrentEpoch), manager.Keys.Epochs.Count),
                    CliJson.Output.KeyListDocument);
                return ExitCodes.Success;
            }

            foreach (KeyFileInfo file in files.OrderBy(f => f.CreatedAt))
            {
                context.Line($"{file.Id}  {file.Label}  created {SyncCommands.Time(file.CreatedAt)}, {file.KdfDescription}{(file.IsCurrent ? "  (unlocked this session)" : "")}");
            }

            context.Hint($"{files.Count} key file(s); key epoch {Epoch(manager.Keys.CurrentEpoch)} is current ({manager.Keys.Epochs.Count} in all).");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Add(CliApplication app)
    {
        var label = new Option<string>("--label") { Description = "A label to tell it apart, for example \"printed recovery key\" (stored encrypted).", Required = true };
        var generate = new Option<bool>("--generate") { Description = "Generate a random recovery key (160 bits) and print it once, instead of asking for a passphrase. Write it down; it is shown only now." };
        var allowWeak = AllowWeakOption();
        Option<string> kdf = KdfOption("the new key file");
        var command = new Command("add", $"Add a passphrase that also unlocks the repository (from {NewPassphraseVariable}, else asked twice on the terminal), or generate a recovery key.") { label, generate, allowWeak, kdf };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            context.KeyDerivation = Profile(parse.GetValue(kdf));
            string labelValue = ValidLabel(parse.GetValue(label)!);
            bool generated = parse.GetValue(generate);
            string passphrase = generated ? RecoveryKey() : NewPassphrase(context, $"the key file '{labelValue}'", "nothing was added", parse.GetValue(allowWeak));
            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            KeyFileInfo added = await manager.Keys.AddPassphraseAsync(passphrase, labelValue, cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.Document(new KeyAddedDocument(KeyFileDocument.From(added), generated ? passphrase : null), CliJson.Output.KeyAddedDocument);
            }
            else if (generated)
            {
                // The one place a secret is printed: the user asked for it, on stdout only, and it is never stored in plaintext.
                context.Out.WriteLine(passphrase);
                context.Warn($"This recovery key (key file {added.Id}, '{added.Label}') unlocks the repository like the passphrase. It is shown only now: write it down and keep it safe.");
            }
            else
            {
                context.Line($"Added key file {added.Id} ('{added.Label}').");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Change(CliApplication app)
    {
        var id = new Argument<string>("id") { Description = "The key file to change (see 'ghostie key list'); may be left out when the repository has only one.", Arity = ArgumentArity.ZeroOrOne };
        var allowWeak = AllowWeakOption();
        Option<string> kdf = KdfOption("the new key file (an old PBKDF2 key file is upgraded to Argon2id unless pbkdf2 is given)");
        var command = new Command("change", $"Replace the passphrase of one key file (the new one from {NewPassphraseVariable}, else asked twice). The new key file is written before the old one is deleted.") { id, allowWeak, kdf };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            context.KeyDerivation = Profile(parse.GetValue(kdf));
            string? given = parse.GetValue(id);
            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<KeyFileInfo> files = await manager.Keys.ListKeyFilesAsync(cancellationToken).ConfigureAwait(false);
            KeyFileInfo target = Find(files, given)
                ?? (files.Count == 1 ? files[0] : files.FirstOrDefault(f => f.IsCurrent))
                ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"The repository has {files.Count} key files: name the one to change ('ghostie key change <id>'; 'ghostie key list' shows them).");
            string passphrase = NewPassphrase(context, $"key file {target.Id} ('{target.Label}')", "nothing was changed", parse.GetValue(allowWeak));
            KeyFileInfo replacement = await manager.Keys.ChangePassphraseAsync(passphrase, target.Id, cancellationToken).ConfigureAwait(false);
            context.Report(new KeyChangedDocument(target.Id, KeyFileDocument.From(replacement)), CliJson.Output.KeyChangedDocument,
                $"Changed the passphrase of '{replacement.Label}': key file {target.Id} is replaced by {replacement.Id}.");
            context.Hint("Devices that are already set up keep working; the old passphrase no longer unlocks the repository.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Remove(CliApplication app)
    {
        var id = new Argument<string>("id") { Description = "The key file to remove (see 'ghostie key list')." };
        var command = new Command("remove", "Remove a key file: its passphrase no longer unlocks the repository. The last key file cannot be removed.") { id };
        command.Aliases.Add("rm");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            string given = parse.GetValue(id)!;
            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<KeyFileInfo> files = await manager.Keys.ListKeyFilesAsync(cancellationToken).ConfigureAwait(false);
            KeyFileInfo target = Find(files, given) ?? throw NoSuchKeyFile(given);
            await manager.Keys.RemoveKeyFileAsync(target.Id, cancellationToken).ConfigureAwait(false);
            context.Report(new KeyRemovedDocument(target.Id, target.Label), CliJson.Output.KeyRemovedDocument,
                $"Removed key file {target.Id} ('{target.Label}').");
            context.Hint("Devices already set up keep their unlocked key: to shut a lost device out, see docs/security.md (\"Revoking a device\").");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Rotate(CliApplication app)
    {
        var command = new Command("rotate", "Start a new key epoch: a fresh data key seals every new object from now on; older objects stay readable.");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            uint epoch = await manager.Keys.RotateEpochAsync(cancellationToken).ConfigureAwait(false);
            string epochText = Epoch(epoch);
            context.Report(new KeyRotatedDocument(epochText, manager.Keys.Epochs.Count), CliJson.Output.KeyRotatedDocument,
                $"Key epoch {epochText} is now current ({manager.Keys.Epochs.Count} epochs); new objects are sealed under it.");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>A key epoch id as docs/format.md spells it (the name of its <c>epochs/</c> object): 8 lowercase hex digits.</summary>
    internal static string Epoch(uint epoch) => epoch.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);

    private static KeyFileInfo? Find(IReadOnlyList<KeyFileInfo> files, string? given)
    {
        if (given is null)
        {
            return null;
        }

        string id = given.Trim().ToLowerInvariant();
        return files.FirstOrDefault(f => f.Id == id) ?? throw NoSuchKeyFile(given);
    }

    private static GhostieSyncException NoSuchKeyFile(string given) =>
        new(GhostieErrorCode.NotFound, $"The repository has no key file '{given}'. 'ghostie key list' shows the key files and their ids.");

    private static string ValidLabel(string label)
    {
        string trimmed = label.Trim();
        if (trimmed.Length is 0 or > 200 || trimmed.Any(char.IsControl))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                "--label must be 1 to 200 characters on one line, for example --label \"printed recovery key\".");
        }

        return trimmed;
    }

    /// <summary>160 random bits as 32 base32 characters in groups of four: easy to write down and to type.</summary>
    internal static string RecoveryKey()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        Span<byte> bytes = stackalloc byte[20];
        RandomNumberGenerator.Fill(bytes);
        var chars = new char[32];
        for (int i = 0; i < 32; i++)
        {
            int bit = i * 5;
            int value = ((bytes[bit / 8] << 8) | (bit / 8 + 1 < 20 ? bytes[(bit / 8) + 1] : 0)) >> (11 - (bit % 8)) & 31;
            chars[i] = alphabet[value];
        }

        CryptographicOperations.ZeroMemory(bytes);
        return string.Join('-', Enumerable.Range(0, 8).Select(g => new string(chars, g * 4, 4)));
    }

    /// <summary>The names <c>--kdf</c> takes, in the order the help shows them.</summary>
    internal static readonly string[] KdfNames = ["argon2id", "argon2id-phone", "pbkdf2"];

    /// <summary><c>--kdf argon2id|argon2id-phone|pbkdf2</c> (default argon2id), for commands that write a key file.</summary>
    internal static Option<string> KdfOption(string what)
    {
        var option = new Option<string>("--kdf")
        {
            Description = $"The key derivation of {what}: argon2id (default; 64 MiB, 10 passes), argon2id-phone (32 MiB, 4 passes, for phones) or pbkdf2 (PBKDF2-HMAC-SHA256, 600,000 iterations, where FIPS-approved algorithms are required). See docs/security.md.",
            HelpName = "kdf",
            DefaultValueFactory = _ => "argon2id",
        };
        option.AcceptOnlyFromAmong(KdfNames);
        return option;
    }

    /// <summary>The profile a <c>--kdf</c> name stands for.</summary>
    internal static KeyDerivationProfile Profile(string? name) => name switch
    {
        null or "argon2id" => KeyDerivationProfile.Argon2id,
        "argon2id-phone" => KeyDerivationProfile.Argon2idPhone,
        "pbkdf2" => KeyDerivationProfile.Pbkdf2,
        _ => throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"--kdf '{name}' is not known; use argon2id, argon2id-phone or pbkdf2."),
    };

    private static Option<bool> AllowWeakOption() => new(Passphrase.AllowWeakOption)
    {
        Description = "Accept a new passphrase rated weak (empty or only spaces is always refused).",
    };

    /// <summary>A new passphrase: from <see cref="NewPassphraseVariable"/>, else asked twice on the terminal; weak ones refused unless allowed.</summary>
    private static string NewPassphrase(CliContext context, string purpose, string nothingDone, bool allowWeak) =>
        Passphrase.ChooseNew(NewPassphraseVariable, purpose, nothingDone, allowWeak, context.Warn);
}
