using System.Net;
using System.Net.Sockets;
using Backups.Core.Backends;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Errors;

/// <summary>An S3 endpoint nobody listens on: every command gives up after its retry budget with exit code 17
/// (the budget is shortened here; by default it is 15 minutes, as restic's).</summary>
public sealed class UnreachableStoreTests
{
    private const string SecretKey = "unreachable-secret-key-do-not-print";

    [Fact]
    public async Task Closed_port_ends_in_unavailable_within_bounded_time()
    {
        var repository = $"s3:https://127.0.0.1:{ClosedPort()}/bucket/x";
        var env = new Dictionary<string, string>
        {
            ["RESTIC_REPOSITORY"] = repository, ["RESTIC_PASSWORD"] = Repositories.Password,
            ["AWS_ACCESS_KEY_ID"] = "unreachable-access-key", ["AWS_SECRET_ACCESS_KEY"] = SecretKey,
            ["AWS_DEFAULT_REGION"] = "us-east-1", [RetrySettings.BudgetVariable] = "5",
        };
        string[][] commands = [["init"], ["snapshots"], ["backup", "--stdin", "--stdin-filename", "x"], ["dump", "latest", "/x"]];
        // The processes' own time limit is the bound: a 5 s budget gives up in well under a minute.
        var results = await Task.WhenAll(commands.Select(args =>
            Processes.RunAsync(Agent.Program, args, env, stdin: new MemoryStream([1, 2, 3]), timeout: TimeSpan.FromSeconds(90))));
        foreach (var r in results)
            Failure.AssertOneLine(r, Failure.Unavailable, "127.0.0.1", SecretKey);
    }

    /// <summary>A port that was free a moment ago and that nothing listens on now.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
