using System.Text.Json.Nodes;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Infra;

/// <summary>The aws-cdk CLI from npm synthesizes the app, as `cdk deploy` would before deploying.</summary>
public sealed class CdkSynthTests
{
    private static string Cli => TestStack.Script("aws-cdk", "bin", "cdk");
    private static string App => $"dotnet {Path.Combine(AppContext.BaseDirectory, "Backups.Infra.dll")}";

    private static IEnumerable<string> ContextArgs(IDictionary<string, object> context) =>
        context.SelectMany(c => new[] { "-c", $"{c.Key}={c.Value}" });

    [Fact]
    public async Task Cdk_synth_writes_the_template_with_the_workflow_functions_and_buckets()
    {
        using var dir = new TempDir();
        var r = await Processes.RunAsync("node",
            [Cli, "synth", "--app", App, "--output", dir.Path, "--quiet", .. ContextArgs(SynthesizedStack.Context)],
            timeout: TimeSpan.FromMinutes(3));
        Assert.True(r.ExitCode == 0, $"cdk synth exited {r.ExitCode}: {r.Stderr}");

        var template = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(dir.Path, "Backups.template.json")))!;
        var types = template["Resources"]!.AsObject().Select(r => (string)r.Value!["Type"]!).ToList();
        Assert.Equal(3, types.Count(t => t == "AWS::S3::Bucket"));
        Assert.Equal(7, types.Count(t => t == "AWS::Lambda::Function"));
        Assert.Single(types, "AWS::StepFunctions::StateMachine");
        Assert.Single(types, "AWS::SSM::Document");
        Assert.Single(types, "AWS::Events::Rule");
        // The functions' code is the folder build.sh fills, packaged as an asset.
        Assert.Contains(Directory.GetDirectories(dir.Path), d => Path.GetFileName(d).StartsWith("asset.") && File.Exists(Path.Combine(d, "bootstrap")));
    }

    [Fact]
    public async Task Cdk_synth_without_a_required_context_value_fails_with_one_line_naming_it()
    {
        using var dir = new TempDir();
        var context = new Dictionary<string, object>(SynthesizedStack.Context);
        context.Remove("notifyTo");
        var r = await Processes.RunAsync("node", [Cli, "synth", "--app", App, "--output", dir.Path, "--quiet", .. ContextArgs(context)],
            timeout: TimeSpan.FromMinutes(3));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("backups infra: context value 'notifyTo' is required", r.Stderr);
    }

    [Fact]
    public async Task Cdk_synth_before_functions_build_says_in_one_line_what_to_run_without_a_stack_trace()
    {
        using var dir = new TempDir();
        var context = new Dictionary<string, object>(SynthesizedStack.Context) { ["functionsPath"] = dir.Combine("functions-not-built") };
        var r = await Processes.RunAsync("node", [Cli, "synth", "--app", App, "--output", dir.Combine("out"), "--quiet", .. ContextArgs(context)],
            timeout: TimeSpan.FromMinutes(3));
        Assert.NotEqual(0, r.ExitCode);
        var ours = Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("backups infra:"));
        Assert.Contains("run functions/build.sh from the repository root first", ours);
        Assert.DoesNotContain(r.Stderr.Split('\n'), l => l.TrimStart().StartsWith("at "));
        Assert.DoesNotContain("Exception", r.Stderr);
    }
}
