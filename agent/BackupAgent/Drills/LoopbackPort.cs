using System.Net;
using System.Net.Sockets;

namespace BackupAgent.Drills;

/// <summary>A TCP port on 127.0.0.1 that was free a moment ago, for servers (postgres, redis-server) that cannot report the port they bound.</summary>
public static class LoopbackPort
{
    /// <summary>Another process may take the port before the server binds it; servers retry this often on a new one.</summary>
    public const int Attempts = 3;

    public static int Free()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    public static bool WasTaken(string serverLog) => serverLog.Contains("Address already in use", StringComparison.Ordinal);
}
