using Microsoft.Win32.SafeHandles;

namespace Backups.Core.FileSystem;

/// <summary>Access and modification times with nanoseconds, as utimensat(2) takes them.</summary>
public readonly record struct FileTimes(long AccessSeconds, long AccessNanoseconds, long ModifySeconds, long ModifyNanoseconds)
{
    internal unsafe void CopyTo(long* times) =>
        (times[0], times[1], times[2], times[3]) = (AccessSeconds, AccessNanoseconds, ModifySeconds, ModifyNanoseconds);
}

/// <summary>Owner, permissions and times set through an opened descriptor: on the file itself, whatever its path
/// has become meanwhile. The owner goes first, since a change of owner clears setuid and setgid bits.</summary>
public static unsafe class FileMetadata
{
    public static void Set(SafeFileHandle file, string display, uint? owner, uint? group, uint permissions, FileTimes times) =>
        Set((int)file.DangerousGetHandle(), display, owner, group, permissions, times);

    internal static void Set(int fd, string display, uint? owner, uint? group, uint permissions, FileTimes times)
    {
        if (owner is { } uid && Native.fchown(fd, uid, group ?? uint.MaxValue) != 0) throw Native.Error("set owner of", display);
        if (Native.fchmod(fd, permissions) != 0) throw Native.Error("set permissions of", display);
        var t = stackalloc long[4];
        times.CopyTo(t);
        if (Native.futimens(fd, t) != 0) throw Native.Error("set times of", display);
    }
}
