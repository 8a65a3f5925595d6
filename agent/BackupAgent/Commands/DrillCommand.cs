using System.Text.Json;
using BackupAgent.Cli;
using BackupAgent.Drills;
using BackupAgent.Run;
using Backups.Core.Repositories;

namespace BackupAgent.Commands;

public sealed class DrillCommand(IReadOnlyDictionary<string, string> environment) : Command
{
    public override string Name => "drill";
    public override string Usage =>
        "drill --config FILE [flags]: restore each source's latest snapshot somewhere throwaway, compare it with what the backup recorded, clean up";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        Flag.Valued("config", "FILE", "the run's config (repository, password, sources, checks)", "c"),
        Flag.Valued("source", "NAME", "drill only this source (repeatable)"),
        Flag.Switch("when-due", "drill only on the config's drill_cadence days"),
        Flag.Valued("task-token", "TOKEN", $"report to this Step Functions task (default: ${TaskReporter.TokenVariable})"),
    ];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var config = RunConfig.Load(args.Value("config") ?? throw new UsageException("drill needs --config FILE (the run's config)"));
        using var secrets = new Secrets(environment);
        var log = RunLog.For(output, secrets.Redactor);
        await using var reporter = await TaskReporter.StartAsync(args.Value("task-token"), environment, config.HeartbeatSeconds, secrets, log, ct);
        var skip = args.Has("when-due") ? DrillCadence.WhyNotToday(config.DrillCadence, DateTimeOffset.UtcNow) : null;

        Task<DrillResult> Job() => skip != null
            ? Task.FromResult(new DrillResult { Passed = true, Skipped = skip, Repository = config.Repository!, Started = DateTimeOffset.Now })
            : config.GuardAsync(() => new DrillRun(config, secrets, log).ExecuteAsync(args.Values("source"), ct));
        var result = reporter == null ? await Job()
            : await reporter.ReportAsync(Job, r => r.Passed, ErrorKind.DrillFailed, DrillJsonContext.Default.DrillResult, secrets);

        if (output.Json) output.Line(JsonSerializer.Serialize(result, DrillJsonContext.Default.DrillResult));
        else if (result.Skipped != null) output.Line($"no drill: {result.Skipped}");
        else
            foreach (var s in result.Sources)
                output.Line(s.Passed
                    ? $"{s.Name}: passed {s.Checks.Count} checks; restored {Size.Format(s.RestoreBytes ?? 0)} in {s.RestoreSeconds:0.0} s (snapshot {s.SnapshotId?[..8]})"
                    : $"{s.Name}: FAILED: {s.Error}");
        return result.Passed ? ExitCodes.Ok : ExitCodes.For(ErrorKind.DrillFailed);
    }
}
