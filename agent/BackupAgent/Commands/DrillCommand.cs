using System.Text.Json;
using BackupAgent.Cli;
using BackupAgent.Drills;
using BackupAgent.Run;

namespace BackupAgent.Commands;

public sealed class DrillCommand(IReadOnlyDictionary<string, string> environment) : Command
{
    public override string Name => "drill";
    public override string Usage =>
        "drill --config FILE [--source NAME]...: restore each source's latest snapshot somewhere throwaway, compare it with what the backup recorded, clean up";
    public override IReadOnlyDictionary<string, string?> ValueFlags { get; } = new Dictionary<string, string?> { ["config"] = "c", ["source"] = null };

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var config = RunConfig.Load(args.Value("config") ?? throw new UsageException("drill needs --config FILE (the run's config)"));
        using var secrets = new Secrets(environment);
        var result = await new DrillRun(config, secrets, new RunLog(Console.Error, secrets.Redactor)).ExecuteAsync(args.Values("source"), ct);
        if (output.Json) output.Line(JsonSerializer.Serialize(result, DrillJsonContext.Default.DrillResult));
        else
            foreach (var s in result.Sources)
                output.Line(s.Passed
                    ? $"{s.Name}: passed {s.Checks.Count} checks; restored {Size.Format(s.RestoreBytes ?? 0)} in {s.RestoreSeconds:0.0} s (snapshot {s.SnapshotId?[..8]})"
                    : $"{s.Name}: FAILED: {s.Error}");
        return result.Passed ? ExitCodes.Ok : ExitCodes.DrillFailed;
    }
}
