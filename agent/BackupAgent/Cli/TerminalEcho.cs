using System.Runtime.InteropServices;

namespace BackupAgent.Cli;

/// <summary>
/// The terminal's echo switched off for a password, before the prompt is written (as Go's term.ReadPassword
/// does): what is typed as soon as the prompt shows must not appear, and .NET's Console.ReadKey switches echo
/// off only once it starts reading. Line editing stays the terminal's (canonical mode, Enter ends the line);
/// the previous settings come back on dispose.
/// </summary>
internal sealed unsafe class TerminalEcho : IDisposable
{
    // Linux's struct termios (the same on x64 and arm64): c_iflag, c_oflag, c_cflag, c_lflag, c_line, c_cc[32], speeds.
    private const int TermiosSize = 60, IflagOffset = 0, LflagOffset = 12;
    private const uint Isig = 0x1, Icanon = 0x2, Echo = 0x8, Icrnl = 0x100;
    private const int TcsaNow = 0;

    private readonly int _fd;
    private readonly byte[] _saved = new byte[TermiosSize];

    private TerminalEcho(int fd) => _fd = fd;

    /// <summary>Echo off on <paramref name="fd"/>; null when it is no terminal.</summary>
    public static TerminalEcho? Off(int fd)
    {
        var echo = new TerminalEcho(fd);
        var changed = new byte[TermiosSize];
        fixed (byte* saved = echo._saved)
            if (tcgetattr(fd, saved) != 0) return null;
        echo._saved.CopyTo(changed, 0);
        fixed (byte* t = changed)
        {
            *(uint*)(t + LflagOffset) = (*(uint*)(t + LflagOffset) & ~Echo) | Icanon | Isig;
            *(uint*)(t + IflagOffset) |= Icrnl;
            if (tcsetattr(fd, TcsaNow, t) != 0) return null;
        }
        return echo;
    }

    /// <summary>One line from the terminal, without its end.</summary>
    public string ReadLine()
    {
        var line = new List<byte>();
        var one = new byte[1];
        using var input = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(_fd, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        while (input.Read(one) == 1 && one[0] != (byte)'\n') line.Add(one[0]);
        return System.Text.Encoding.UTF8.GetString([.. line]);
    }

    public void Dispose()
    {
        fixed (byte* saved = _saved) tcsetattr(_fd, TcsaNow, saved);
    }

    [DllImport("libc", SetLastError = true)] private static extern int tcgetattr(int fd, byte* termios);
    [DllImport("libc", SetLastError = true)] private static extern int tcsetattr(int fd, int actions, byte* termios);
}
