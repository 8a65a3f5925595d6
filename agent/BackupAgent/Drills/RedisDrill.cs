using System.Diagnostics;
using BackupAgent.Run;
using Backups.Core.Restoring;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace BackupAgent.Drills;

/// <summary>Restores a redis source's RDB file, loads it into a temporary redis-server and compares key counts per database.</summary>
public static class RedisDrill
{
    public static async Task RunAsync(Repo repo, Node rdb, DrillFacts? facts, SourceConfig source, SourceDrill drill, CancellationToken ct)
    {
        await using var server = new TemporaryRedis(new DrillDirectory());
        drill.RestoredInto = "temporary redis-server on 127.0.0.1";
        var clock = Stopwatch.StartNew();
        await using (var file = new FileStream(server.RdbPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            drill.RestoreBytes = await ContentReader.CopyToAsync(repo, rdb.Content ?? [], file, ct);
        try
        {
            await server.StartAsync(ct);
        }
        catch (DrillStepException e)
        {
            drill.RestoreSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3);
            drill.Check("restore", false, "redis-server loads the RDB file", message: e.Message);
            return;
        }
        drill.RestoreSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3);
        drill.RestoredInto = server.Description;
        drill.Check("restore", true, "redis-server loads the RDB file", "loaded");
        if (facts?.Keys != null)
            drill.CompareCounts("keys", facts.Keys, await RedisKeyspace.CountAsync("127.0.0.1", server.Port, server.Password, ct),
                (source.Drill ?? new DrillConfig()).TolerancePercent, absentIsZero: true);
    }
}
