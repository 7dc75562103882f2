using System.CommandLine;
using System.Text.Json.Serialization;
using Ghostie.Cli.Output;
using Ghostie.Sync;

namespace Ghostie.Cli.Commands;

/// <summary><c>ghostie export &lt;file&gt;</c> and <c>ghostie import &lt;file&gt;</c>: everything the home holds, as one
/// archive (docs/format.md, "Home archive"), encrypted under its own passphrase unless <c>--plain</c>.</summary>
internal static class ArchiveCommands
{
    /// <summary>Where the archive passphrase comes from when not prompted for (it is not the repository's passphrase).</summary>
    public const string PassphraseVariable = "GHOSTIE_ARCHIVE_PASSPHRASE";

    public static Command Export(CliApplication app)
    {
        var file = new Argument<string>("file") { Description = "Where to write the archive (written to a temporary file beside it, then renamed)." };
        var plain = new Option<bool>("--plain") { Description = "Write the archive unencrypted. It then holds every memory, conflict, handoff package and vector in the clear." };
        var force = new Option<bool>("--force") { Description = "Replace an existing file." };
        var allowWeak = new Option<bool>(Passphrase.AllowWeakOption) { Description = "Accept an archive passphrase rated weak." };
        var command = new Command("export", $"Write everything this home holds (memories with their versions and conflicts, handoff packages, vectors) to one archive, encrypted under a passphrase ({PassphraseVariable}, else asked twice) unless --plain.")
        {
            file, plain, force, allowWeak,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            string path = parse.GetValue(file)!;
            bool isPlain = parse.GetValue(plain);
            var options = new HomeArchiveExportOptions { Plain = isPlain, Overwrite = parse.GetValue(force) };
            if (!options.Overwrite && (File.Exists(path) || Directory.Exists(path)))
            {
                // Before the passphrase is asked for: nothing typed in vain.
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{Path.GetFullPath(path)} already exists. Choose another file, or give --force to replace it.");
            }

            if (isPlain)
            {
                context.Warn($"--plain: {path} will hold every memory, conflict, handoff package and vector in the clear. Anyone who can read the file can read all of it; keep it safe and delete it when done.");
            }
            else
            {
                options.Passphrase = Passphrase.ChooseNew(PassphraseVariable, $"the archive {path}", "nothing was exported", parse.GetValue(allowWeak), context.Warn);
            }

            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            HomeArchiveExportResult result = await HomeArchive.ExportAsync(manager, path, options, Progress(context, "Exporting"), cancellationToken).ConfigureAwait(false);
            EndProgress(context);
            foreach (SyncProblem problem in result.Problems)
            {
                context.Warn($"{problem.Subject}: {problem.Message}");
            }

            context.Report(new ExportDocument(result.Path, result.Encrypted, result.Memories, result.Versions, result.Conflicts, result.Files, result.Bytes,
                    result.Problems.Select(ProblemDocument.From).ToArray()), ArchiveJson.Default.ExportDocument,
                $"Exported {result.Memories:N0} memories ({result.Versions:N0} versions, {result.Conflicts:N0} in conflict) and {result.Files:N0} handoff and vector files to {result.Path} ({result.Bytes:N0} bytes, {(result.Encrypted ? "encrypted" : "NOT encrypted")}).");
            return result.Problems.Count == 0 ? ExitCodes.Success : ExitCodes.CompletedWithProblems;
        });
        return command;
    }

    public static Command Import(CliApplication app)
    {
        var file = new Argument<string>("file") { Description = "An archive written by 'ghostie export'." };
        var noPush = new Option<bool>("--no-push") { Description = "Do not push after importing (the imported versions wait in the outbox for the next push)." };
        var command = new Command("import", $"Merge an archive into this home through the sync protocol (nothing newer is overwritten; concurrent versions become conflicts), then push. The whole archive is verified first. An encrypted archive's passphrase comes from {PassphraseVariable}, else is asked.")
        {
            file, noPush,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            string path = parse.GetValue(file)!;
            string? passphrase = IsEncrypted(path) ? ArchivePassphrase(path) : null;
            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            HomeArchiveImportResult result = await HomeArchive.ImportAsync(manager, path, passphrase, push: !parse.GetValue(noPush), Progress(context, "Importing"), cancellationToken).ConfigureAwait(false);
            EndProgress(context);
            IReadOnlyList<SyncProblem> problems = [.. result.Problems, .. result.Push?.Problems ?? []];
            foreach (SyncProblem problem in problems)
            {
                context.Warn($"{problem.Subject}: {problem.Message}");
            }

            if (result.PushError is not null)
            {
                context.Warn($"The push after the import failed: {result.PushError} The imported versions wait in the outbox; run 'ghostie push' later.");
            }

            context.Report(new ImportDocument(result.Memories, result.Versions, result.Merged, result.AlreadyPresent, result.NewConflicts,
                    result.FilesWritten, result.FilesUnchanged, result.FilesKeptAside, result.Push?.Uploaded, result.PushError, problems.Select(ProblemDocument.From).ToArray()),
                ArchiveJson.Default.ImportDocument,
                $"Imported {result.Memories:N0} memories from {path}: {result.Merged:N0} new versions merged, {result.AlreadyPresent:N0} already here (or older than what is here), {result.NewConflicts:N0} new conflicts; {result.FilesWritten:N0} files written, {result.FilesUnchanged:N0} unchanged, {result.FilesKeptAside:N0} kept aside.",
                result.Push is { } push ? $"Pushed {push.Uploaded:N0} versions." : parse.GetValue(noPush) ? "Not pushed (--no-push): run 'ghostie push'." : "Not pushed.");
            if (result.NewConflicts > 0)
            {
                context.Hint("See the conflicts with 'ghostie conflicts' and resolve them with 'ghostie resolve'.");
            }

            return problems.Count == 0 && result.PushError is null ? ExitCodes.Success : ExitCodes.CompletedWithProblems;
        });
        return command;
    }

    /// <summary>Whether the file starts as an encrypted archive does (the library checks everything else).</summary>
    private static bool IsEncrypted(string path)
    {
        try
        {
            using FileStream stream = File.OpenRead(path);
            Span<byte> start = stackalloc byte[6];
            return stream.ReadAtLeast(start, 6, throwOnEndOfStream: false) == 6 && start[..4].SequenceEqual("GHAR"u8) && start[5] == 1;
        }
        catch (IOException)
        {
            return false; // the import says what is wrong with the file
        }
    }

    private static string ArchivePassphrase(string path)
    {
        if (Environment.GetEnvironmentVariable(PassphraseVariable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        if (TerminalPrompter.TryCreate() is not { } prompter)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"{path} is encrypted and stdin is not a terminal to ask for its passphrase. Set {PassphraseVariable}, or run ghostie interactively.");
        }

        string passphrase = prompter.AskSecret($"Passphrase of the archive {path}:");
        return passphrase.Length > 0
            ? passphrase
            : throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "No passphrase was typed; nothing was imported. Run the command again.");
    }

    private static IProgress<HomeArchiveProgress>? Progress(CliContext context, string verb) =>
        context.ShowProgress
            ? new SynchronousProgress(p => context.Error.Write($"\r{verb}: {p.Memories:N0}{(p.TotalMemories >= 0 ? $" of {p.TotalMemories:N0}" : "")} memories ({p.Stage})   "))
            : null;

    private static void EndProgress(CliContext context)
    {
        if (context.ShowProgress)
        {
            context.Error.WriteLine();
        }
    }

    private sealed class SynchronousProgress(Action<HomeArchiveProgress> report) : IProgress<HomeArchiveProgress>
    {
        public void Report(HomeArchiveProgress value) => report(value);
    }
}

internal sealed record ExportDocument(string Path, bool Encrypted, long Memories, long Versions, long Conflicts, long Files, long Bytes, IReadOnlyList<ProblemDocument> Problems);

internal sealed record ImportDocument(long Memories, long Versions, long Merged, long AlreadyPresent, int NewConflicts, long FilesWritten, long FilesUnchanged,
    long FilesKeptAside, int? Pushed, string? PushError, IReadOnlyList<ProblemDocument> Problems);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(ExportDocument))]
[JsonSerializable(typeof(ImportDocument))]
internal sealed partial class ArchiveJson : JsonSerializerContext
{
}
