using System.Runtime.InteropServices;

namespace Ghostie.Sync.Internal;

/// <summary>
/// What the stat cache compares to know a memory file is unchanged without reading it (as git's index and restic's
/// parent snapshot do): size, modification time, status-change time and inode. The change time (ctime) cannot be set
/// by a program, so an edit that puts the modification time back (<c>touch -r</c>, <c>cp -p</c>, <c>rsync -t</c>) still
/// shows; a file replaced by a rename has another inode. On Linux all four come from one <c>statx</c> call; elsewhere
/// (or where statx is not available) ctime and inode are 0, unknown, and only size and modification time compare.
/// </summary>
internal readonly partial record struct FileStat(bool Exists, long Size, long WriteTicks, long ChangeTicks, long Inode)
{
    /// <summary>
    /// How close to the moment a stamp is taken a file's time may be for the stamp to be trusted. A file written in
    /// the same tick of the file system's clock as the stamp was taken could be written again in that tick with the
    /// same size and keep every field. Such a stamp is "racy" (git's word) and the next scan reads the file once
    /// more. Times with a fraction of a second come from a fine clock (Linux takes them from a clock of a few
    /// milliseconds): 100 ms. Whole seconds are a coarse clock (1 s on HFS+ and ext3, 2 s on FAT, truncated): 2 s.
    /// A time in the future (clock skew, a file from another machine) is racy until the clock passes it.
    /// </summary>
    public static readonly TimeSpan FineRacyWindow = TimeSpan.FromMilliseconds(100), CoarseRacyWindow = TimeSpan.FromSeconds(2);

    private static bool _noStatx = !OperatingSystem.IsLinux();

    /// <summary>Test hook: false makes every stat the portable one (size and modification time only), as on a system
    /// without statx, so the racy-stamp rule is what catches an edit that keeps both.</summary>
    internal static bool UseStatx
    {
        get => !_noStatx;
        set => _noStatx = !value || !OperatingSystem.IsLinux();
    }

    public static FileStat Missing { get; } = new(false, -1, 0, 0, 0);

    public static FileStat Of(string path)
    {
        if (!_noStatx)
        {
            try
            {
                int rc = Statx(AtFdCwd, path, 0, StatxBasicStats, out StatxBuffer buffer);
                if (rc == 0)
                {
                    return new(true, (long)buffer.Size, Ticks(buffer.MtimeSec, buffer.MtimeNsec), Ticks(buffer.CtimeSec, buffer.CtimeNsec), (long)buffer.Inode);
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno is Enoent or Enotdir)
                {
                    return Missing;
                }

                if (errno != Enosys && errno != Eperm)
                {
                    return FromInfo(path); // an ordinary error (access, ...): as FileInfo reports it
                }
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
            }

            _noStatx = true; // a kernel or C library without statx (or a sandbox refusing it): size and mtime only
        }

        return FromInfo(path);
    }

    private static FileStat FromInfo(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new(true, info.Length, info.LastWriteTimeUtc.Ticks, 0, 0) : Missing;
    }

    /// <summary>Whether this file has the recorded stamp; a recorded ctime or inode of 0 (unknown) is not compared.</summary>
    public bool Matches(long writeTicks, long size, long changeTicks, long inode) =>
        Exists && Size == size && WriteTicks == writeTicks
        && (changeTicks == 0 || ChangeTicks == changeTicks)
        && (inode == 0 || Inode == inode);

    /// <summary>Whether a stamp taken at <paramref name="seenAt"/> (UTC) cannot be trusted (see <see cref="FineRacyWindow"/>).</summary>
    public bool IsRacy(DateTime seenAt)
    {
        bool coarse = WriteTicks % TimeSpan.TicksPerSecond == 0 && ChangeTicks % TimeSpan.TicksPerSecond == 0;
        long limit = seenAt.Ticks - (coarse ? CoarseRacyWindow : FineRacyWindow).Ticks;
        return WriteTicks >= limit || ChangeTicks >= limit;
    }

    private static long Ticks(long seconds, uint nanoseconds) => DateTime.UnixEpoch.Ticks + seconds * TimeSpan.TicksPerSecond + nanoseconds / 100;

    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;
    private const int Eperm = 1, Enoent = 2, Enotdir = 20, Enosys = 38;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, out StatxBuffer buffer);

    /// <summary><c>struct statx</c> (linux/stat.h): the same layout on every architecture.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(32)] public ulong Inode;
        [FieldOffset(40)] public ulong Size;
        [FieldOffset(96)] public long CtimeSec;
        [FieldOffset(104)] public uint CtimeNsec;
        [FieldOffset(112)] public long MtimeSec;
        [FieldOffset(120)] public uint MtimeNsec;
    }
}
