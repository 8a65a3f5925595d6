using System.Net;
using System.Net.Sockets;

namespace Backups.Tests.Support;

/// <summary>A TCP port on 127.0.0.1 that was free a moment ago, for servers that cannot report the port they bound.</summary>
public static class FreePort
{
    /// <summary>
    /// Another process can take the port between <see cref="Next"/> and the server's bind. Servers start up to this
    /// many times on new ports when their log says so (<see cref="WasTaken"/>); any other failure is final.
    /// </summary>
    public const int Attempts = 3;

    public static int Next()
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
