using System.Runtime.InteropServices;

namespace BackupAgent.Run;

/// <summary>
/// Linux pipes hold 64 KiB: a dump streamed at hundreds of MB/s through one costs both ends a wakeup every
/// 64 KiB (two 1 GiB sources at once ran 7% faster with 1 MiB pipes). 1 MiB is what /proc/sys/fs/pipe-max-size
/// lets any user ask for by default; where the kernel refuses, or the descriptor is no pipe, nothing changes.
/// </summary>
public static class PipeCapacity
{
    private const int Size = 1 << 20;
    private const int SetPipeSize = 1031; // F_SETPIPE_SZ

    [DllImport("libc", SetLastError = true)] private static extern int fcntl(nint fd, int command, int argument);

    public static void Widen(nint fd) => fcntl(fd, SetPipeSize, Size);
}
