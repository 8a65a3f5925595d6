using System.Runtime.InteropServices;

namespace Backups.Core.FileSystem;

/// <summary>
/// The *at system calls that name a file relative to an opened directory. .NET's file APIs take whole paths,
/// follow symlinks in every component and cannot name a file whose name is not UTF-8.
/// </summary>
internal static unsafe class Native
{
    public const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100, AtRemoveDir = 0x200, AtSymlinkFollow = 0x400, AtEmptyPath = 0x1000;
    public const int ORdOnly = 0, OWrOnly = 1, ORdWr = 2, OCreat = 0x40, OExcl = 0x80, ONonBlock = 0x800, OCloExec = 0x80000, OPath = 0x200000;
    public const int EPERM = 1, ENOENT = 2, EEXIST = 17, ENOTDIR = 20, EISDIR = 21, ENOTEMPTY = 39, ELOOP = 40;

    // The only open flags whose values differ between x64 and arm64.
    private static readonly bool Arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;
    public const int ONoAtime = 0x40000;
    public static readonly int ODirectory = Arm64 ? 0x4000 : 0x10000;
    public static readonly int ONoFollow = Arm64 ? 0x8000 : 0x20000;

    public const uint SIfIfo = 0x1000, SIfChr = 0x2000, SIfBlk = 0x6000;

    [DllImport("libc", SetLastError = true)] public static extern int openat(int dirfd, byte* path, int flags, uint mode);
    [DllImport("libc", SetLastError = true)] public static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] public static extern int dup(int fd);
    [DllImport("libc", SetLastError = true)] public static extern int mkdirat(int dirfd, byte* path, uint mode);
    [DllImport("libc", SetLastError = true)] public static extern int unlinkat(int dirfd, byte* path, int flags);
    [DllImport("libc", SetLastError = true)] public static extern int symlinkat(byte* target, int dirfd, byte* path);
    [DllImport("libc", SetLastError = true)] public static extern int mknodat(int dirfd, byte* path, uint mode, ulong dev);
    [DllImport("libc", SetLastError = true)] public static extern int linkat(int olddirfd, byte* oldpath, int newdirfd, byte* newpath, int flags);
    [DllImport("libc", SetLastError = true)] public static extern nint readlinkat(int dirfd, byte* path, byte* buffer, nint size);
    [DllImport("libc", SetLastError = true)] public static extern int statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);
    [DllImport("libc", SetLastError = true)] public static extern int fchown(int fd, uint owner, uint group);
    [DllImport("libc", SetLastError = true)] public static extern int fchownat(int dirfd, byte* path, uint owner, uint group, int flags);
    [DllImport("libc", SetLastError = true)] public static extern int fchmod(int fd, uint mode);
    [DllImport("libc", SetLastError = true)] public static extern int fchmodat(int dirfd, byte* path, uint mode, int flags);
    [DllImport("libc", SetLastError = true)] public static extern int futimens(int fd, long* times);
    [DllImport("libc", SetLastError = true)] public static extern int utimensat(int dirfd, byte* path, long* times, int flags);
    [DllImport("libc", SetLastError = true)] public static extern nint fdopendir(int fd);
    [DllImport("libc", SetLastError = true)] public static extern nint readdir(nint dir);
    [DllImport("libc", SetLastError = true)] public static extern int closedir(nint dir);

    /// <summary>The error of the last call, as an IOException whose HResult is the errno.</summary>
    public static IOException Error(string what, string path)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"cannot {what} {path}: {Marshal.GetPInvokeErrorMessage(errno)}") { HResult = errno };
    }

    public static bool Is(this IOException e, int errno) => e.HResult == errno;
}
