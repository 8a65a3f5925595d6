using System.Globalization;

namespace BackupAgent.Drills;

/// <summary>Keys per database of a Redis server, from INFO keyspace (lines like "db0:keys=1000,expires=0,avg_ttl=0").</summary>
public static class RedisKeyspace
{
    public static async Task<SortedDictionary<string, long>> CountAsync(string host, int port, string? password, CancellationToken ct)
    {
        var result = await ChildProcess.RunAsync("redis-cli", ["-h", host, "-p", port.ToString(CultureInfo.InvariantCulture), "INFO", "keyspace"],
            password == null ? null : new Dictionary<string, string> { ["REDISCLI_AUTH"] = password }, null, ct);
        result.EnsureSucceeded("reading INFO keyspace");
        // redis-cli exits 0 on an error reply (a wrong password, LOADING), so the reply itself is checked.
        if (result.Stdout.StartsWith("ERR", StringComparison.Ordinal) || result.Stdout.StartsWith("NOAUTH", StringComparison.Ordinal)
            || result.Stdout.StartsWith("LOADING", StringComparison.Ordinal) || result.Stdout.StartsWith("WRONGPASS", StringComparison.Ordinal))
            throw new DrillStepException($"reading INFO keyspace: {result.Stdout.Trim()}");
        return Parse(result.Stdout);
    }

    public static SortedDictionary<string, long> Parse(string info)
    {
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in info.Split('\n', StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(':');
            if (!line.StartsWith("db", StringComparison.Ordinal) || colon < 0) continue;
            var keys = line[(colon + 1)..].Split(',').FirstOrDefault(f => f.StartsWith("keys=", StringComparison.Ordinal));
            if (keys != null && long.TryParse(keys["keys=".Length..], CultureInfo.InvariantCulture, out var n)) counts[line[..colon]] = n;
        }
        return counts;
    }
}
