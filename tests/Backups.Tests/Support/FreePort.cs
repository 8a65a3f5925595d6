using BackupAgent.Drills;

namespace Backups.Tests.Support;

/// <summary>A TCP port on 127.0.0.1 that was free a moment ago, for servers that cannot report the port they bound
/// (the agent's own rule for its drill servers).</summary>
public static class FreePort
{
    /// <summary>
    /// Another process can take the port between <see cref="Next"/> and the server's bind. Servers start up to this
    /// many times on new ports when their log says so (<see cref="WasTaken"/>); any other failure is final.
    /// </summary>
    public const int Attempts = LoopbackPort.Attempts;

    public static int Next() => LoopbackPort.Free();

    public static bool WasTaken(string serverLog) => LoopbackPort.WasTaken(serverLog);
}
