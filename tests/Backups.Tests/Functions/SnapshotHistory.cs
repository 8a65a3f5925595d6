using System.Globalization;
using Backups.Functions.Runtime;
using Backups.Tests.Support;

namespace Backups.Tests.Functions;

/// <summary>A restic-made repository whose snapshots were taken at chosen times (restic backup --time), each
/// tagged with its source's name first, as the nightly run tags them.</summary>
public sealed class SnapshotHistory : IDisposable
{
    private readonly TempDir _dir = new();

    private SnapshotHistory()
    {
        Restic = new Restic(Repository, Repositories.Password, env: new Dictionary<string, string> { ["TZ"] = "UTC" });
    }

    public string Repository => _dir.Combine("repo");

    public Restic Restic { get; }

    public static async Task<SnapshotHistory> CreateAsync(params (string Source, DateTimeOffset Time, int Bytes)[] snapshots)
    {
        var history = new SnapshotHistory();
        await history.Restic.RunOkAsync("init");
        foreach (var (source, time, bytes) in snapshots)
        {
            using var data = new TestData(TestData.Kind.Random, bytes, seed: bytes);
            (await history.Restic.RunAsync(["backup", "--stdin", "--stdin-filename", $"{source}.dump", "--tag", $"{source},nightly",
                "--host", "db-box", "--time", time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)], data))
                .EnsureSuccess($"restic backup {source}");
        }
        return history;
    }

    /// <summary>What a function reads this repository with, plus <paramref name="extra"/>.</summary>
    public Dictionary<string, string> Variables(params (string Name, string Value)[] extra)
    {
        var variables = new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = Repository, ["RESTIC_PASSWORD"] = Repositories.Password };
        foreach (var (name, value) in extra) variables[name] = value;
        return variables;
    }

    public static InvocationContext Invocation() => new()
    {
        RequestId = Guid.NewGuid().ToString(), Deadline = DateTimeOffset.UtcNow.AddMinutes(5), CancellationToken = CancellationToken.None,
    };

    public void Dispose() => _dir.Dispose();
}
