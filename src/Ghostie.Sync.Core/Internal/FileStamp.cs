namespace Ghostie.Sync.Internal;

/// <summary>A file's modification time and length: how a process notices that another one wrote the file since.</summary>
internal readonly record struct FileStamp(DateTime Written, long Length)
{
    /// <summary>Never equal to a real file's stamp: forces the next comparison to see a change.</summary>
    public static FileStamp Unknown { get; } = new(DateTime.MinValue, -2);

    public static FileStamp Of(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new(info.LastWriteTimeUtc, info.Length) : new(default, -1);
    }
}
