using Backups.Core.Trees;

namespace BackupAgent.Cli;

/// <summary>Go's FileMode.String ("drwxr-xr-x", "Lrwxrwxrwx"), as restic prints a node's mode.</summary>
public static class GoFileMode
{
    private const string TypeLetters = "dalTLDpSugct?", Permissions = "rwxrwxrwx";

    public static string Format(uint mode)
    {
        var text = new System.Text.StringBuilder(22);
        for (var i = 0; i < TypeLetters.Length; i++)
            if ((mode & (1u << (31 - i))) != 0) text.Append(TypeLetters[i]);
        if (text.Length == 0) text.Append('-');
        for (var i = 0; i < Permissions.Length; i++) text.Append((mode & (1u << (8 - i))) != 0 ? Permissions[i] : '-');
        return text.ToString();
    }

    /// <summary>A node's mode with its type bits, as restic's long listings print it.</summary>
    public static string Of(Node node) => Format(node.Mode | node.Type switch
    {
        Node.Dir => Node.GoModeDir,
        Node.Symlink => Node.GoModeSymlink,
        Node.Dev => Node.GoModeDevice,
        Node.CharDev => Node.GoModeDevice | Node.GoModeCharDevice,
        Node.Fifo => Node.GoModeNamedPipe,
        Node.Socket => Node.GoModeSocket,
        _ => 0u,
    });
}
