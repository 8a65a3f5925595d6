using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Backups.Functions.Handlers;
using Backups.Infra.Agent;
using Backups.Infra.Workflow;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Infra;

/// <summary>statemachine/backup.asl.json: valid ASL, and every Task bound to something the stack defines.</summary>
[Collection("cdk")]
public sealed partial class WorkflowDefinitionTests(SynthesizedStack stack) : IClassFixture<SynthesizedStack>
{
    private static readonly JsonObject Definition = JsonNode.Parse(BackupWorkflow.Definition())!.AsObject();

    private static IEnumerable<(string Name, JsonObject State)> States() =>
        Definition["States"]!.AsObject().Select(s => (s.Key, s.Value!.AsObject()));

    /// <summary>Every state, those a Map state runs for each item included.</summary>
    private static IEnumerable<(string Name, JsonObject State)> AllStates(JsonObject? states = null) =>
        (states ?? Definition["States"]!.AsObject()).SelectMany(s => new[] { (s.Key, s.Value!.AsObject()) }
            .Concat(s.Value!["ItemProcessor"]?["States"] is JsonObject inner ? AllStates(inner) : []));

    /// <summary>The handler a "${NameFunctionArn}" resource names: "name" with its first letter in lower case.</summary>
    private static string Handler(string resource)
    {
        var name = Placeholder().Match(resource).Groups[1].Value.Replace("FunctionArn", "");
        return char.ToLowerInvariant(name[0]) + name[1..];
    }

    [Fact]
    public async Task Asl_validator_accepts_the_definition()
    {
        var file = Path.Combine(Path.GetTempPath(), $"backup-{Guid.NewGuid():N}.asl.json");
        await File.WriteAllTextAsync(file, BackupWorkflow.Definition());
        try
        {
            var r = await Processes.RunAsync("node", [TestStack.Script("asl-validator", "dist", "bin", "asl-validator.js"), "--json-path", file]);
            Assert.True(r.ExitCode == 0, $"asl-validator: {r.StdoutText} {r.Stderr}");
            Assert.Contains("is valid", r.StdoutText);

            // The validator is not a rubber stamp: a Task without a Resource is refused.
            var broken = JsonNode.Parse(BackupWorkflow.Definition())!;
            broken["States"]!["VerifyPlan"]!.AsObject().Remove("Resource");
            await File.WriteAllTextAsync(file, broken.ToJsonString());
            Assert.NotEqual(0, (await Processes.RunAsync("node", [TestStack.Script("asl-validator", "dist", "bin", "asl-validator.js"), "--json-path", file])).ExitCode);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Every_placeholder_is_substituted_by_the_stack()
    {
        var placeholders = Placeholder().Matches(BackupWorkflow.Definition()).Select(m => m.Groups[1].Value).ToHashSet();
        var machine = Assert.Single(stack.Resources("AWS::StepFunctions::StateMachine")).Properties;
        var substituted = machine["DefinitionSubstitutions"]!.AsObject().Select(p => p.Key).ToHashSet();
        Assert.Equal(placeholders.Order(), substituted.Order());
    }

    [Fact]
    public void Every_task_resolves_to_a_function_or_the_agent_document_of_the_stack()
    {
        var machine = Assert.Single(stack.Resources("AWS::StepFunctions::StateMachine")).Properties;
        var substitutions = machine["DefinitionSubstitutions"]!.AsObject();
        var functions = stack.Resources("AWS::Lambda::Function").ToDictionary(f => f.Id, f => (string)f.Properties["Handler"]!);
        var document = Assert.Single(stack.Resources("AWS::SSM::Document")).Id;
        var tasks = AllStates().Where(s => (string?)s.State["Type"] == "Task").ToList();
        Assert.Equal(new[] { "Freshness", "LaunchBackup", "LaunchDrill", "NotifyFailure", "NotifySuccess", "Offsite", "Retention", "SilentCommand", "StartBackup", "StartDrill", "VerifyMerge", "VerifyPlan", "VerifySlice" },
            tasks.Select(t => t.Name).Order());

        foreach (var (name, state) in tasks)
        {
            var resource = (string)state["Resource"]!;
            var parameters = state["Parameters"]!;
            if (name.StartsWith("Launch"))
            {
                // Starts the agent and names the SecureString for its token, which is no command parameter.
                Assert.Equal("arn:aws:states:::aws-sdk:ssm:sendCommand", resource);
                Assert.Equal(document, (string?)Substitute(substitutions, (string)parameters["DocumentName"]!)["Ref"]);
                Assert.Equal("i-0123456789abcdef0", Substitute(substitutions, (string)parameters["InstanceIds"]![0]!).GetValue<string>());
                Assert.DoesNotContain("Task.Token", parameters.ToJsonString());
                var key = name["Launch".Length..].ToLowerInvariant();
                Assert.Equal($"States.Array($.tokenParameters.{key})", (string?)parameters["Parameters"]!["TokenParameter.$"]);
                Assert.Equal($"Start{name["Launch".Length..]}", (string?)state["Next"]);
                // Every document parameter the state passes is one the stack's document declares.
                var declared = Assert.Single(stack.Resources("AWS::SSM::Document")).Properties["Content"]!["parameters"]!.AsObject().Select(p => p.Key).ToHashSet();
                Assert.All(parameters["Parameters"]!.AsObject(), p => Assert.Contains(p.Key.Replace(".$", ""), declared));
                continue;
            }
            if (name.StartsWith("Start"))
            {
                // Writes the token to the one-time SecureString its Launch state named, and waits for the agent.
                Assert.Equal("arn:aws:states:::aws-sdk:ssm:putParameter.waitForTaskToken", resource);
                Assert.Equal($"$.tokenParameters.{name["Start".Length..].ToLowerInvariant()}", (string?)parameters["Name.$"]);
                Assert.Equal("SecureString", (string?)parameters["Type"]);
                Assert.Equal("$$.Task.Token", (string?)parameters["Value.$"]);
                Assert.False((bool)parameters["Overwrite"]!);
                Assert.True((int)state["HeartbeatSeconds"]! > 0 && (int)state["TimeoutSeconds"]! > (int)state["HeartbeatSeconds"]!);
                continue;
            }
            if (name == "SilentCommand")
            {
                // What became of the command of an agent that fell silent, on the same instance.
                Assert.Equal("arn:aws:states:::aws-sdk:ssm:getCommandInvocation", resource);
                Assert.Equal("$.silent.commandId", (string?)parameters["CommandId.$"]);
                Assert.Equal("i-0123456789abcdef0", Substitute(substitutions, (string)parameters["InstanceId"]!).GetValue<string>());
                continue;
            }
            var target = Substitute(substitutions, resource);
            var function = (string)target["Fn::GetAtt"]![0]!;
            Assert.True(functions.ContainsKey(function), $"{name} calls {function}, which the stack does not define");
            Assert.Equal(Handler(resource), functions[function]);
        }
    }

    [Fact]
    public void Every_step_keeps_its_result_under_its_own_key_and_every_failure_reaches_the_failure_email()
    {
        var results = new HashSet<string>();
        foreach (var (name, state) in States().Where(s => (string?)s.State["Type"] is "Task" or "Map"))
        {
            var path = (string)state["ResultPath"]!;
            Assert.StartsWith("$.", path);
            // Verify's plan, slices and merge are one step: they build its one result together.
            var step = name.StartsWith("Verify") ? "Verify" : name.Replace("Launch", "Start");
            Assert.True(results.Add(path) || name.StartsWith("Notify") || step == "Verify", $"{name} writes {path}, which another step also writes");

            var catches = state["Catch"]!.AsArray();
            var @catch = catches[^1]!;
            Assert.Equal(["States.ALL"], @catch["ErrorEquals"]!.AsArray().Select(e => (string)e!));
            if (name.StartsWith("Notify")) continue;
            var next = Definition["States"]![(string)@catch["Next"]!]!;
            if (name == "SilentCommand")
            {
                // Whatever the lookup's fate, the email names the step whose agent fell silent.
                Assert.Equal("$.silent.step", (string?)next["InputPath"]);
                Assert.Equal("NotifyFailure", (string?)next["Next"]);
                continue;
            }
            if (name.StartsWith("Start"))
            {
                // A silent agent first has its command's outcome looked up (SilentCommand), then fails its step.
                var silent = Assert.Single(catches.SkipLast(1))!;
                Assert.Equal(["States.HeartbeatTimeout"], silent["ErrorEquals"]!.AsArray().Select(e => (string)e!));
                var look = Definition["States"]![(string)silent["Next"]!]!;
                Assert.Equal(step, (string?)look["Parameters"]!["step"]);
                Assert.Equal($"$.launch.{step["Start".Length..].ToLowerInvariant()}.commandId", (string?)look["Parameters"]!["commandId.$"]);
                Assert.Equal("SilentCommand", (string?)look["Next"]);
            }
            else Assert.Single(catches);
            // Launching the agent is part of its step: the email names StartBackup or StartDrill.
            Assert.Equal(step, (string?)next["Result"]);
            Assert.Equal("NotifyFailure", (string?)next["Next"]);
        }
        foreach (var (name, state) in AllStates().Where(s => ((string?)s.State["Resource"])?.EndsWith("FunctionArn}") == true))
            Assert.True(state["Retry"]![0]!["ErrorEquals"]!.AsArray().Any(e => (string?)e == "Lambda.TooManyRequestsException"), $"{name} does not retry throttling");
        Assert.Equal("Failed", (string?)Definition["States"]!["NotifyFailure"]!["Next"]);
        Assert.Equal("Fail", (string?)Definition["States"]!["Failed"]!["Type"]);
    }

    [Fact]
    public void Every_lambda_step_passes_what_its_handler_reads_and_reads_back_what_it_returns()
    {
        var lambdaSteps = AllStates().Where(s => (string?)s.State["Type"] == "Task" && ((string)s.State["Resource"]!).EndsWith("FunctionArn}")).ToList();
        Assert.NotEmpty(lambdaSteps);
        var order = States().Select(s => s.Name).ToList();
        foreach (var (name, state) in lambdaSteps)
        {
            var handler = Handler((string)state["Resource"]!);
            Assert.True(FunctionCatalog.Entries.TryGetValue(handler, out var contract), $"{name} calls '{handler}', which the functions do not host");
            var input = Members(contract.Input);
            var passed = state["Parameters"]!.AsObject().Select(p => p.Key.Replace(".$", "")).ToList();
            Assert.All(passed, key => Assert.True(input.Contains(key), $"{name} passes '{key}', which {handler}'s input does not have"));
            foreach (var required in contract.Input.Properties.Where(p => p.IsRequired))
                Assert.Contains(required.Name, passed);

            // Whatever the states after this one read of its result (until another step writes the same key) is a
            // member of the handler's output. A step inside a Map state has its result collected by the Map.
            if (state["ResultPath"] is not { } resultPath) continue;
            var key = ((string)resultPath!)["$.".Length..];
            var output = Members(contract.Output);
            var readers = order.Skip(order.IndexOf(name) + 1).Select(n => Definition["States"]![n]!.AsObject())
                .TakeWhile(s => (string?)s["ResultPath"] != (string)resultPath!);
            foreach (var reader in readers)
                foreach (Match m in Regex.Matches(reader.ToJsonString(), $@"\$\.{key}\.(\w+)"))
                    Assert.True(output.Contains(m.Groups[1].Value), $"the workflow reads $.{key}.{m.Groups[1].Value}, which {handler} does not return");
        }
    }

    private static HashSet<string> Members(System.Text.Json.Serialization.Metadata.JsonTypeInfo type) => type.Properties.Select(p => p.Name).ToHashSet();

    /// <summary>A "${Name}" value after the stack's substitution (a CloudFormation expression, as JSON).</summary>
    private static JsonNode Substitute(JsonObject substitutions, string value)
    {
        var match = Placeholder().Match(value);
        Assert.True(match.Success && match.Value == value, $"'{value}' is not a placeholder");
        return substitutions[match.Groups[1].Value]!;
    }

    [Fact]
    public void Token_parameter_names_are_made_where_the_document_accepts_them()
    {
        var names = Definition["States"]!["Options"]!["Parameters"]!["tokenParameters"]!.AsObject();
        Assert.Equal(["backup.$", "drill.$"], names.Select(n => n.Key).Order());
        foreach (var (_, format) in names)
            Assert.Equal($"States.Format('{AgentCommand.TokenParameterPath}/{{}}', States.UUID())", (string?)format);
    }

    [GeneratedRegex(@"\$\{(\w+)\}")] private static partial Regex Placeholder();
}
