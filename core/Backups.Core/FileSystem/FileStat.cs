using System.Buffers.Binary;
using Backups.Core.Trees;

namespace Backups.Core.FileSystem;

/// <summary>
/// lstat-equivalent metadata through statx(2), whose struct layout is the same on x64 and arm64 (unlike
/// struct stat). .NET's FileSystemInfo lacks uids, inodes, link counts and nanosecond times.
/// </summary>
public readonly record struct FileStat(
    uint Mode, uint Uid, uint Gid, uint Links, ulong Inode, ulong Size, ulong Device, ulong RDevice,
    long ATimeSec, uint ATimeNsec, long MTimeSec, uint MTimeNsec, long CTimeSec, uint CTimeNsec)
{
    private const uint StatxBasicStats = 0x7ff;
    private const int StatxSize = 256;

    /// <summary>lstat(2): the entry itself, not what a symlink points to.</summary>
    public static FileStat Lstat(string path) => At(Native.AtFdCwd, path, Native.AtSymlinkNoFollow, path);

    /// <summary>stat(2): symlinks followed.</summary>
    public static FileStat Stat(string path) => At(Native.AtFdCwd, path, 0, path);

    /// <summary>An entry of an opened directory, not following a symlink.</summary>
    internal static FileStat At(int dirfd, string name, string display) => At(dirfd, name, Native.AtSymlinkNoFollow, display);

    /// <summary>The file an opened descriptor refers to.</summary>
    public static FileStat Of(Microsoft.Win32.SafeHandles.SafeFileHandle file, string display) => Of((int)file.DangerousGetHandle(), display);

    internal static FileStat Of(int fd, string display) => At(fd, "", Native.AtEmptyPath, display);

    private static unsafe FileStat At(int dirfd, string name, int flags, string display)
    {
        var bytes = FileName.EncodeZ(name);
        var buf = stackalloc byte[StatxSize];
        fixed (byte* p = bytes)
            if (Native.statx(dirfd, p, flags, StatxBasicStats, buf) != 0)
                throw Native.Error("stat", display);
        var s = new ReadOnlySpan<byte>(buf, StatxSize);
        return new FileStat(
            Mode: BinaryPrimitives.ReadUInt16LittleEndian(s[28..]), Uid: U32(s, 20), Gid: U32(s, 24), Links: U32(s, 16),
            Inode: U64(s, 32), Size: U64(s, 40), Device: MakeDev(U32(s, 136), U32(s, 140)), RDevice: MakeDev(U32(s, 128), U32(s, 132)),
            ATimeSec: (long)U64(s, 64), ATimeNsec: U32(s, 72), MTimeSec: (long)U64(s, 112), MTimeNsec: U32(s, 120),
            CTimeSec: (long)U64(s, 96), CTimeNsec: U32(s, 104));
    }

    private static uint U32(ReadOnlySpan<byte> s, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(s[offset..]);
    private static ulong U64(ReadOnlySpan<byte> s, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(s[offset..]);

    // glibc's makedev encoding, which is what Go's stat reports as st_dev.
    private static ulong MakeDev(ulong major, ulong minor) =>
        ((major & 0xfffff000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffffff00) << 12) | (minor & 0xff);

    internal const uint SIfMt = 0xF000, SIfDir = 0x4000, SIfReg = 0x8000, SIfLnk = 0xA000, SIfBlk = 0x6000, SIfChr = 0x2000, SIfIfo = 0x1000, SIfSock = 0xC000;

    public bool IsDirectory => (Mode & SIfMt) == SIfDir;
    public bool IsRegular => (Mode & SIfMt) == SIfReg;
    public bool IsSymlink => (Mode & SIfMt) == SIfLnk;

    /// <summary>Whether both describe the same file (the same inode of the same device).</summary>
    public bool SameFile(FileStat other) => Inode == other.Inode && Device == other.Device;

    public string NodeType => (Mode & SIfMt) switch
    {
        SIfDir => Node.Dir,
        SIfReg => Node.File,
        SIfLnk => Node.Symlink,
        SIfBlk => Node.Dev,
        SIfChr => Node.CharDev,
        SIfIfo => Node.Fifo,
        SIfSock => Node.Socket,
        _ => Node.File,
    };

    /// <summary>The mode as Go's os.FileMode, which is what restic stores.</summary>
    public uint GoMode
    {
        get
        {
            var m = Mode & 0x1ff;
            if ((Mode & 0x800) != 0) m |= Node.GoModeSetuid;
            if ((Mode & 0x400) != 0) m |= Node.GoModeSetgid;
            if ((Mode & 0x200) != 0) m |= Node.GoModeSticky;
            return m | ((Mode & SIfMt) switch
            {
                SIfDir => Node.GoModeDir,
                SIfLnk => Node.GoModeSymlink,
                SIfBlk => Node.GoModeDevice,
                SIfChr => Node.GoModeDevice | Node.GoModeCharDevice,
                SIfIfo => Node.GoModeNamedPipe,
                SIfSock => Node.GoModeSocket,
                _ => 0u,
            });
        }
    }
}
