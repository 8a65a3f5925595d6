using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Backups.Core.FileSystem;

/// <summary>
/// An opened directory. Everything below it is named relative to it and never through a symlink: a backup reads
/// the entry it listed (not what a symlink swapped in meanwhile points to), and a restore cannot be turned into a
/// write outside its target by a symlink in the snapshot or one planted in the target.
/// </summary>
public sealed unsafe class DirectoryHandle : IDisposable
{
    private int _fd;

    /// <summary>The directory's path, for messages.</summary>
    public string Path { get; }

    private DirectoryHandle(int fd, string path) => (_fd, Path) = (fd, path);

    /// <summary>Opens a directory by path; a symlink in the path is followed only where <paramref name="followLast"/>.</summary>
    public static DirectoryHandle Open(string path, bool followLast = true)
    {
        var flags = Native.ORdOnly | Native.ODirectory | Native.OCloExec | (followLast ? 0 : Native.ONoFollow);
        return new DirectoryHandle(OpenToRead(Native.AtFdCwd, path, flags, path), path);
    }

    /// <summary>
    /// Opens without updating the access time when this user may ask for that (the owner, or root), as restic
    /// opens what it backs up: the atime is part of the node, and reading a file or listing a directory would
    /// otherwise make the next backup find it, and every directory above it, changed.
    /// </summary>
    private static int OpenToRead(int dirfd, string name, int flags, string display) =>
        OpenAt(dirfd, name, flags | Native.ONoAtime, 0, display);

    /// <summary>An entry's path, for messages.</summary>
    public string PathOf(string name) => FileName.Join(Path, name);

    private static int OpenAt(int dirfd, string name, int flags, uint mode, string display)
    {
        fixed (byte* p = FileName.EncodeZ(name))
        {
            var fd = Native.openat(dirfd, p, flags, mode);
            // O_NOATIME is refused (EPERM) to a user who neither owns the entry nor is root: then a plain open.
            if (fd < 0 && (flags & Native.ONoAtime) != 0 && Marshal.GetLastPInvokeError() == Native.EPERM)
                fd = Native.openat(dirfd, p, flags & ~Native.ONoAtime, mode);
            return fd >= 0 ? fd : throw Native.Error("open", display);
        }
    }

    /// <summary>A subdirectory; fails when the entry is not a directory (a symlink to one included).</summary>
    public DirectoryHandle OpenDirectory(string name) =>
        new(OpenToRead(_fd, name, Native.ORdOnly | Native.ODirectory | Native.ONoFollow | Native.OCloExec, PathOf(name)), PathOf(name));

    /// <summary>A file to read; a symlink is not followed, and a FIFO opens without waiting for a writer.</summary>
    public SafeFileHandle OpenFile(string name) =>
        new(OpenToRead(_fd, name, Native.ORdOnly | Native.ONoFollow | Native.ONonBlock | Native.OCloExec, PathOf(name)), ownsHandle: true);

    /// <summary>The entry itself (lstat).</summary>
    public FileStat Stat(string name) => FileStat.At(_fd, name, PathOf(name));

    /// <summary>The directory itself.</summary>
    public FileStat Stat() => FileStat.Of(_fd, Path);

    /// <summary>The entries' names (without . and ..), in the order the file system lists them.</summary>
    public List<string> ReadNames()
    {
        var copy = Native.dup(_fd); // closedir closes the descriptor it was given
        if (copy < 0) throw Native.Error("read directory", Path);
        var dir = Native.fdopendir(copy);
        if (dir == 0)
        {
            var error = Native.Error("read directory", Path);
            Native.close(copy);
            throw error;
        }
        try
        {
            var names = new List<string>();
            while (true)
            {
                Marshal.SetLastPInvokeError(0);
                var entry = Native.readdir(dir);
                if (entry == 0)
                {
                    if (Marshal.GetLastPInvokeError() != 0) throw Native.Error("read directory", Path);
                    return names;
                }
                // struct dirent (64-bit glibc, x64 and arm64 alike): the NUL-terminated name starts at byte 19.
                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)entry + 19);
                if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8)) continue;
                names.Add(FileName.Decode(name));
            }
        }
        finally
        {
            Native.closedir(dir);
        }
    }

    public string ReadLink(string name)
    {
        var buffer = new byte[4096];
        fixed (byte* p = FileName.EncodeZ(name))
        fixed (byte* b = buffer)
        {
            var n = Native.readlinkat(_fd, p, b, buffer.Length);
            if (n < 0) throw Native.Error("read link", PathOf(name));
            return FileName.Decode(buffer.AsSpan(0, (int)n));
        }
    }

    /// <summary>A directory to restore into: an existing directory is kept, anything else in its place (a
    /// symlink to a directory too) is replaced.</summary>
    public DirectoryHandle CreateDirectory(string name)
    {
        fixed (byte* p = FileName.EncodeZ(name))
            if (Native.mkdirat(_fd, p, 0b111_000_000) != 0)
            {
                var error = Native.Error("create directory", PathOf(name));
                if (!error.Is(Native.EEXIST)) throw error;
                if (!Stat(name).IsDirectory)
                {
                    Remove(name);
                    if (Native.mkdirat(_fd, p, 0b111_000_000) != 0) throw Native.Error("create directory", PathOf(name));
                }
            }
        return OpenDirectory(name);
    }

    /// <summary>A new, empty regular file in place of whatever had the name; never a write through a symlink or
    /// into a file that other names (hard links) share. Open for reading too: a restore may verify what it wrote.</summary>
    public SafeFileHandle CreateFile(string name) =>
        new(InPlaceOf(name, "open", p => Native.openat(_fd, p,
            Native.ORdWr | Native.OCreat | Native.OExcl | Native.ONoFollow | Native.OCloExec, 0b110_000_000)), ownsHandle: true);

    public void CreateSymlink(string name, string target)
    {
        fixed (byte* t = FileName.EncodeZ(target))
        {
            var to = t;
            InPlaceOf(name, "create symlink", p => Native.symlinkat(to, _fd, p));
        }
    }

    /// <summary>A FIFO or a device node (type bits of <paramref name="type"/>), in place of whatever had the name.</summary>
    public void CreateNode(string name, uint type, ulong device) =>
        InPlaceOf(name, "create", p => Native.mknodat(_fd, p, type | 0b110_000_000, device));

    /// <summary>Another name for an opened file (a hard link), in place of whatever had the name.</summary>
    public void Link(SafeFileHandle file, string name)
    {
        // linkat through /proc names the opened file itself, whatever happened to its path since.
        fixed (byte* f = FileName.EncodeZ($"/proc/self/fd/{file.DangerousGetHandle()}"))
        {
            var from = f;
            InPlaceOf(name, "create hard link", p => Native.linkat(Native.AtFdCwd, from, _fd, p, Native.AtSymlinkFollow));
        }
    }

    private delegate int MakeEntry(byte* name);

    /// <summary>Makes an entry with a call that fails when the name is taken (it never writes through what holds
    /// it); only then is that removed and the call made again. Into a fresh target, as most restores go, nothing is in
    /// the way: removing first would cost a failed unlink for every entry.</summary>
    /// <returns>What the call returned (a descriptor, or 0).</returns>
    private int InPlaceOf(string name, string what, MakeEntry make)
    {
        fixed (byte* p = FileName.EncodeZ(name))
        {
            var result = make(p);
            if (result >= 0) return result;
            var error = Native.Error(what, PathOf(name));
            if (!error.Is(Native.EEXIST)) throw error;
            Remove(name);
            result = make(p);
            return result >= 0 ? result : throw Native.Error(what, PathOf(name));
        }
    }

    /// <summary>Removes an entry of any type, a directory with everything in it; a missing one is no error.</summary>
    public void Remove(string name)
    {
        fixed (byte* p = FileName.EncodeZ(name))
        {
            if (Native.unlinkat(_fd, p, 0) == 0) return;
            var error = Native.Error("remove", PathOf(name));
            if (error.Is(Native.ENOENT)) return;
            if (!error.Is(Native.EISDIR) && !error.Is(Native.EPERM)) throw error; // Linux says EISDIR, POSIX EPERM
            using (var sub = OpenDirectory(name))
                foreach (var child in sub.ReadNames()) sub.Remove(child);
            if (Native.unlinkat(_fd, p, Native.AtRemoveDir) != 0) throw Native.Error("remove", PathOf(name));
        }
    }

    /// <summary>Owner, permissions (none for a symlink: Linux has none) and times of an entry, without following a
    /// symlink.</summary>
    public void SetMetadata(string name, uint? owner, uint? group, uint? permissions, FileTimes times)
    {
        fixed (byte* p = FileName.EncodeZ(name))
        {
            if (owner is { } uid && Native.fchownat(_fd, p, uid, group ?? uint.MaxValue, Native.AtSymlinkNoFollow) != 0)
                throw Native.Error("set owner of", PathOf(name));
            if (permissions is { } mode && Native.fchmodat(_fd, p, mode, Native.AtSymlinkNoFollow) != 0)
                throw Native.Error("set permissions of", PathOf(name));
            var t = stackalloc long[4];
            times.CopyTo(t);
            if (Native.utimensat(_fd, p, t, Native.AtSymlinkNoFollow) != 0) throw Native.Error("set times of", PathOf(name));
        }
    }

    /// <summary>Owner, permissions and times of the directory itself.</summary>
    public void SetMetadata(uint? owner, uint? group, uint permissions, FileTimes times) =>
        FileMetadata.Set(_fd, Path, owner, group, permissions, times);

    public void Dispose()
    {
        if (_fd >= 0) Native.close(_fd);
        _fd = -1;
    }
}
