using System.Buffers;
using System.CommandLine;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Ghostie.Cli.Output;
using Ghostie.Sync;

namespace Ghostie.Cli.Commands;

/// <summary>
/// <c>ghostie memory add | list | show | edit | rm | search</c>: the memory files of the home (<c>memories/&lt;id&gt;.json</c>).
/// They need no passphrase and no sync setup; the next push turns every change into a new version.
/// </summary>
internal static class MemoryCommands
{
    internal const string DefaultCategory = "note";

    /// <summary>The largest memory read from stdin or <c>--file</c>: the library's default pack size (16 MiB).</summary>
    internal const int MaxContentBytes = 16 * 1024 * 1024;

    public static Command Create(CliApplication app)
    {
        var memory = new Command("memory", "Add, list, show, edit and remove memories in this Ghostie home (no passphrase needed; 'ghostie sync push' uploads the changes).");
        memory.Aliases.Add("memories");
        memory.Subcommands.Add(Add(app));
        memory.Subcommands.Add(List(app));
        memory.Subcommands.Add(Show(app));
        memory.Subcommands.Add(Edit(app));
        memory.Subcommands.Add(Remove(app));
        memory.Subcommands.Add(MemorySearch.Create(app));
        return memory;
    }

    /// <summary>Throws a usage error unless <paramref name="id"/> is a valid memory id (which also keeps it inside the home).</summary>
    public static string ValidId(string id) => MemoryRecord.IsValidId(id)
        ? id
        : throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"'{id}' is not a valid memory id: use 1 to 128 letters, digits, '-' and '_'.");

    private static Command Add(CliApplication app)
    {
        var content = new Argument<string>("content") { Description = "The memory's text; '-' reads it from stdin.", Arity = ArgumentArity.ZeroOrOne };
        Option<string> file = FileOption();
        var category = new Option<string>("--category") { Description = $"A category, for example 'network'. Default: {DefaultCategory}.", DefaultValueFactory = _ => DefaultCategory };
        var jsonContext = new Option<string>("--context") { Description = "Free-form JSON context kept with the memory, for example '{\"source\":\"chat\"}'.", HelpName = "json" };
        var command = new Command("add", "Record a new memory on this device. The text is the argument, stdin ('-'), or a file (--file).") { content, file, category, jsonContext };
        app.SetAction(command, (context, parse, _) =>
        {
            string text = ContentInput(parse.GetValue(content), parse.GetValue(file));
            JsonElement? extra = ParseContext(parse.GetValue(jsonContext));
            MemoryRecord record = Remember(context.Home, text, parse.GetValue(category) ?? DefaultCategory, extra);
            context.Report(record, CliJson.Output.MemoryRecord, $"Added memory {record.Id}.");

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command List(CliApplication app)
    {
        var category = new Option<string>("--category") { Description = "Only memories of this category." };
        var command = new Command("list", "List the memories in this Ghostie home, oldest first.") { category };
        command.Aliases.Add("ls");
        app.SetAction(command, (context, parse, _) =>
        {
            (List<MemoryRecord> memories, List<MalformedFileDocument> problems) = Scan(context.Home, parse.GetValue(category));
            if (context.Json)
            {
                context.Document(new MemoryListDocument(memories, problems), CliJson.Output.MemoryListDocument);
            }
            else
            {
                foreach (MemoryRecord memory in memories)
                {
                    string conflict = memory.SyncMetadata?.ConflictState is { } state ? $" ({state})" : "";
                    context.Line($"{memory.Id}  {SyncCommands.Time(memory.Timestamp)}  [{memory.Category}]{conflict}  {Excerpt(memory.Content)}");
                }

                if (memories.Count == 0 && problems.Count == 0)
                {
                    context.Hint("No memories.");  // stderr: stdout holds one line per memory, nothing else
                }
            }

            foreach (MalformedFileDocument problem in problems)
            {
                context.Warn($"problem ({nameof(GhostieErrorCode.MalformedLocalFile)}): {problem.Path} is not a valid memory ({problem.Problem}); it was skipped.");
            }

            return Task.FromResult(problems.Count == 0 ? ExitCodes.Success : ExitCodes.CompletedWithProblems);
        });
        return command;
    }

    private static Command Show(CliApplication app)
    {
        var id = new Argument<string>("id") { Description = "The memory id." };
        var command = new Command("show", "Show one memory.") { id };
        app.SetAction(command, (context, parse, _) =>
        {
            MemoryRecord record = Get(context.Home, ValidId(parse.GetValue(id)!));
            if (context.Json)
            {
                context.Document(record, CliJson.Output.MemoryRecord);
                return Task.FromResult(ExitCodes.Success);
            }

            context.Line($"ID:        {record.Id}");
            context.Line($"Category:  {record.Category}");
            context.Line($"Device:    {record.DeviceId}");
            context.Line($"Recorded:  {SyncCommands.Time(record.Timestamp)}");
            // Continuation lines of multi-line content are indented under it, so no line of a memory can pass for a field.
            context.Line($"Content:   {record.Content.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\n" + new string(' ', 11), StringComparison.Ordinal)}");
            if (record.Context is { } extra)
            {
                context.Line($"Context:   {Compact(extra)}");
            }

            if (record.SyncMetadata is { } sync)
            {
                string conflict = sync.ConflictState is { } state ? $", {state} (see 'ghostie sync conflict show {record.Id}')" : "";
                context.Line($"Sync:      version {sync.Version}, modified {SyncCommands.Time(sync.LastModified)}{conflict}");
            }

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command Edit(CliApplication app)
    {
        var id = new Argument<string>("id") { Description = "The memory id." };
        var content = new Argument<string>("content") { Description = "The new text; '-' reads it from stdin.", Arity = ArgumentArity.ZeroOrOne };
        Option<string> file = FileOption();
        var category = new Option<string>("--category") { Description = "A new category (default: unchanged)." };
        var command = new Command("edit", "Replace a memory's text (and optionally its category) on this device. The text is the argument, stdin ('-'), or a file (--file).") { id, content, file, category };
        app.SetAction(command, (context, parse, _) =>
        {
            var store = new LocalMemoryStore(context.Home);
            MemoryRecord record = Get(context.Home, ValidId(parse.GetValue(id)!));
            string text = ContentInput(parse.GetValue(content), parse.GetValue(file));

            // The old sync_metadata describes the previous version; sync writes the block again when it next writes the file.
            MemoryRecord edited = record with
            {
                Content = text,
                Category = parse.GetValue(category) ?? record.Category,
                SyncMetadata = null,
            };
            store.Save(edited);
            if (record.SyncMetadata?.ConflictState is not null)
            {
                context.Warn($"memory {edited.Id} is in conflict, and an edit does not resolve it. To keep this text everywhere, run 'ghostie sync push', then 'ghostie sync conflict resolve {edited.Id} --keep mine'.");
            }

            context.Report(edited, CliJson.Output.MemoryRecord, $"Edited memory {edited.Id}.");

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command Remove(CliApplication app)
    {
        var id = new Argument<string>("id") { Description = "The memory id." };
        var command = new Command("rm", "Delete a memory on this device; the next push deletes it everywhere.") { id };
        command.Aliases.Add("remove");
        app.SetAction(command, (context, parse, _) =>
        {
            string memoryId = ValidId(parse.GetValue(id)!);
            Remove(context.Home, memoryId);
            context.Report(new MemoryRemovedDocument(memoryId, true), CliJson.Output.MemoryRemovedDocument, $"Removed memory {memoryId}.");

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    /// <summary>Records a new memory on this device: what <c>memory add</c> and the MCP tool <c>remember</c> do.</summary>
    internal static MemoryRecord Remember(GhostieHome home, string content, string category, JsonElement? context)
    {
        var record = MemoryRecord.Create(category, content, DeviceIdentity.ForHome(home), TimeProvider.System.GetUtcNow(), context);
        new LocalMemoryStore(home).Save(record);
        return record;
    }

    /// <summary>The home's memories (of <paramref name="category"/> when given), oldest first, and the files that are not valid memories.</summary>
    internal static (List<MemoryRecord> Memories, List<MalformedFileDocument> Problems) Scan(GhostieHome home, string? category)
    {
        var memories = new List<MemoryRecord>();
        var problems = new List<MalformedFileDocument>();
        foreach (LocalMemoryFile file in new LocalMemoryStore(home).Scan())
        {
            if (file.Record is null)
            {
                problems.Add(new MalformedFileDocument(file.Path, file.Problem ?? "not a valid memory"));
            }
            else if (category is null || file.Record.Category == category)
            {
                memories.Add(file.Record);
            }
        }

        memories.Sort((a, b) => a.Timestamp != b.Timestamp ? a.Timestamp.CompareTo(b.Timestamp) : string.CompareOrdinal(a.Id, b.Id));
        problems.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return (memories, problems);
    }

    /// <summary>Deletes a memory on this device (the next push deletes it everywhere).</summary>
    /// <exception cref="GhostieSyncException">There is no such memory (<see cref="GhostieErrorCode.NotFound"/>).</exception>
    internal static void Remove(GhostieHome home, string id)
    {
        if (!new LocalMemoryStore(home).Delete(id))
        {
            throw NotFound(home, id);
        }
    }

    /// <summary>The memory <paramref name="id"/> (a valid id).</summary>
    /// <exception cref="GhostieSyncException">There is no such memory (<see cref="GhostieErrorCode.NotFound"/>), or its file is malformed.</exception>
    internal static MemoryRecord Get(GhostieHome home, string id) => new LocalMemoryStore(home).Get(id) ?? throw NotFound(home, id);

    internal static GhostieSyncException NotFound(GhostieHome home, string id) =>
        new(GhostieErrorCode.NotFound, $"There is no memory '{id}' in {home.Root}. 'ghostie memory list' shows the ids.");

    private static string NonEmpty(string? content, string? source = null) => string.IsNullOrWhiteSpace(content)
        ? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, source is null
            ? "A memory's content cannot be empty."
            : $"A memory's content cannot be empty, and {source} holds no text.")
        : content;

    private static Option<string> FileOption() => new("--file")
    {
        Description = $"Read the text from this file (UTF-8, at most {MaxContentBytes / (1024 * 1024)} MiB) instead of the argument.",
        HelpName = "path",
    };

    /// <summary>
    /// The content from exactly one source: the argument, stdin (the argument '-'), or <c>--file</c>. One line break
    /// at the end of stdin or the file (as echo and editors write) is not part of it, and neither is a UTF-8 BOM.
    /// </summary>
    private static string ContentInput(string? argument, string? file)
    {
        if (argument is not null && file is not null)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                argument == "-"
                    ? "Give the text one way: '-' (stdin) or --file, not both."
                    : "Give the text one way: as the argument or with --file, not both.");
        }

        if (file is not null)
        {
            string path = Path.GetFullPath(file);
            if (Directory.Exists(path) || !File.Exists(path))
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"--file {path} does not exist or is not a file. Give the file that holds the memory's text.");
            }

            using FileStream stream = File.OpenRead(path);
            return NonEmpty(Decode(stream, $"--file {path}"), $"--file {path}");
        }

        if (argument == "-")
        {
            using Stream stdin = Console.OpenStandardInput();
            return NonEmpty(Decode(stdin, "stdin"), "stdin");
        }

        if (argument is null)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                "Give the memory's text: as the argument, '-' to read it from stdin, or --file <path>.");
        }

        return NonEmpty(argument);
    }

    /// <summary>Reads at most <see cref="MaxContentBytes"/> of strict UTF-8, without a BOM and one final line break.</summary>
    private static string Decode(Stream stream, string source)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int read;
            while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (buffer.Length + read > MaxContentBytes)
                {
                    throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                        $"{source} holds more than {MaxContentBytes / (1024 * 1024)} MiB, the largest memory ghostie adds. Split it into several memories.");
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        ReadOnlySpan<byte> bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            bytes = bytes[3..];
        }

        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{source} is not valid UTF-8 text. Give a UTF-8 text file (a memory is text).");
        }

        return text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
    }

    private static JsonElement? ParseContext(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"--context is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>The JSON on one line, with characters such as '&lt;' as written (the memory file may hold them escaped).</summary>
    private static string Compact(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    internal static string Excerpt(string content) => Excerpt(content, 70);

    /// <summary>The content on one line, cut to <paramref name="width"/> characters (never inside a surrogate pair).</summary>
    internal static string Excerpt(string content, int width)
    {
        string line = content.ReplaceLineEndings(" ").Replace('\t', ' ');
        if (line.Length <= width)
        {
            return line;
        }

        int cut = width - 3;
        if (char.IsHighSurrogate(line[cut - 1]))
        {
            cut--;
        }

        return string.Concat(line.AsSpan(0, cut), "...");
    }
}
