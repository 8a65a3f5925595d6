namespace Backups.Core.FileSystem;

/// <summary>User and group names for ids, read from /etc/passwd and /etc/group as restic records them.</summary>
internal static class UnixNames
{
    private static readonly Lazy<Dictionary<uint, string>> Users = new(() => Read("/etc/passwd"));
    private static readonly Lazy<Dictionary<uint, string>> Groups = new(() => Read("/etc/group"));

    public static string? User(uint uid) => Users.Value.GetValueOrDefault(uid);
    public static string? Group(uint gid) => Groups.Value.GetValueOrDefault(gid);

    private static Dictionary<uint, string> Read(string file)
    {
        var result = new Dictionary<uint, string>();
        if (!File.Exists(file)) return result;
        foreach (var line in File.ReadLines(file))
        {
            var f = line.Split(':');
            if (f.Length > 2 && uint.TryParse(f[2], out var id)) result.TryAdd(id, f[0]);
        }
        return result;
    }

    [System.Runtime.InteropServices.DllImport("libc")] private static extern uint geteuid();
    [System.Runtime.InteropServices.DllImport("libc")] private static extern uint getegid();

    public static uint CurrentUid => geteuid();
    public static uint CurrentGid => getegid();
    public static bool IsRoot { get; } = geteuid() == 0;
}
