using System.Collections.Concurrent;
using System.Text.Json;
using Ghostie.Sync.Crypto;
using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.AgentState.Redis.Internal;

/// <summary>
/// States Redis could not take, kept on the device until it does: one sealed file per agent (the newest state only,
/// as a later state supersedes an earlier one), written atomically; or, without a folder, in memory.
/// </summary>
internal sealed class LocalOutbox
{
    private const string Extension = ".pending";
    private readonly string? _directory;
    private readonly ObjectCipher _cipher;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, PendingState> _memory = new(StringComparer.Ordinal);

    public LocalOutbox(string? directory, ObjectCipher cipher, ILogger logger)
    {
        _directory = directory;
        _cipher = cipher;
        _logger = logger;
    }

    public string? PathFor(string tag) => _directory is null ? null : Path.Combine(_directory, tag + Extension);

    /// <summary>Keeps <paramref name="pending"/> for the agent of <paramref name="tag"/>, replacing an older one; returns the file.</summary>
    public async Task<string?> KeepAsync(string tag, PendingState pending, CancellationToken cancellationToken)
    {
        if (_directory is null)
        {
            _memory[tag] = pending;
            return null;
        }

        Directory.CreateDirectory(_directory);
        string path = PathFor(tag)!;
        byte[] sealedState = _cipher.Seal(JsonSerializer.SerializeToUtf8Bytes(pending, CheckpointJson.Stored.PendingState), ObjectKind.Generic, SealedName(tag));
        string temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using (var file = new FileStream(temp, options))
            {
                await file.WriteAsync(sealedState, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
            return path;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>The state kept for the agent of <paramref name="tag"/>, or null. An unreadable file is logged and left in place.</summary>
    public PendingState? Get(string tag)
    {
        if (_directory is null)
        {
            return _memory.TryGetValue(tag, out PendingState? kept) ? kept : null;
        }

        string path = PathFor(tag)!;
        return File.Exists(path) ? Read(path, tag) : null;
    }

    /// <summary>The tags of every agent with a kept state.</summary>
    public IReadOnlyList<string> Tags()
    {
        if (_directory is null)
        {
            return [.. _memory.Keys];
        }

        return Directory.Exists(_directory)
            ? [.. Directory.EnumerateFiles(_directory, "*" + Extension).Select(p => Path.GetFileName(p)[..^Extension.Length]).Where(IsTag)]
            : [];
    }

    /// <summary>Forgets the kept state of the agent of <paramref name="tag"/>, if any.</summary>
    public void Remove(string tag)
    {
        if (_directory is null)
        {
            _memory.TryRemove(tag, out _);
            return;
        }

        string path = PathFor(tag)!;
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    private PendingState? Read(string path, string tag)
    {
        try
        {
            byte[] plaintext = _cipher.Open(File.ReadAllBytes(path), ObjectKind.Generic, SealedName(tag));
            return JsonSerializer.Deserialize(plaintext, CheckpointJson.Stored.PendingState);
        }
        catch (Exception e) when (e is GhostieSyncException or JsonException or IOException)
        {
            Log.PendingUnreadable(_logger, path, e.Message);
            return null;
        }
    }

    private static bool IsTag(string name) => name.Length == 32 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9'));

    private static string SealedName(string tag) => $"as/{tag}/p";
}
