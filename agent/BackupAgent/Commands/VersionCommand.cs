using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core;

namespace BackupAgent.Commands;

/// <summary>restic's version, with the commit and the day of the build.</summary>
public sealed class VersionCommand : Command
{
    public override string Name => "version";
    public override string Usage => "version: print the version, commit and build of this program";

    public override Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        if (output.Json)
            output.JsonLine(new JsonObject
            {
                ["message_type"] = "version", ["version"] = ProgramInfo.Number, ["commit"] = ProgramInfo.Commit,
                ["build_date"] = ProgramInfo.BuildDate, ["runtime"] = Environment.Version.ToString(),
                ["os"] = "linux", ["arch"] = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            });
        else output.Line(ProgramInfo.Description);
        return Task.FromResult(ExitCodes.Ok);
    }
}
