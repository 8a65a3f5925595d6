using System.Text.Json.Serialization.Metadata;
using Backups.Functions.Contracts;
using Backups.Functions.Handlers.Freshness;
using Backups.Functions.Handlers.Notify;
using Backups.Functions.Handlers.Offsite;
using Backups.Functions.Handlers.Retention;
using Backups.Functions.Handlers.Verify;
using Backups.Functions.Runtime;

namespace Backups.Functions.Handlers;

/// <summary>
/// Every function this bootstrap hosts, by the handler name configured on the Lambda function (_HANDLER).
/// Adding one is one line: its name, its handler's method and its contract types. The contracts are also what
/// the workflow's tests hold its Lambda states against.
/// </summary>
public static class FunctionCatalog
{
    public sealed record Entry(JsonTypeInfo Input, JsonTypeInfo Output, FunctionFactory Create);

    private static Entry Of<TInput, TOutput>(Func<FunctionEnvironment, Func<TInput, InvocationContext, Task<TOutput>>> handler,
        JsonTypeInfo<TInput> input, JsonTypeInfo<TOutput> output) =>
        new(input, output, env => LambdaFunction.Of(handler(env), input, output));

    public static readonly IReadOnlyDictionary<string, Entry> Entries = new Dictionary<string, Entry>(StringComparer.Ordinal)
    {
        ["freshness"] = Of<FreshnessInput, FreshnessResult>(env => new FreshnessFunction(env).CheckAsync, FunctionJson.Default.FreshnessInput, FunctionJson.Default.FreshnessResult),
        ["verifyPlan"] = Of<VerifyPlanInput, VerifyPlan>(env => new VerifyPlanFunction(env).PlanAsync, FunctionJson.Default.VerifyPlanInput, FunctionJson.Default.VerifyPlan),
        ["verify"] = Of<VerifyInput, VerifyResult>(env => new VerifyFunction(env).VerifyAsync, FunctionJson.Default.VerifyInput, FunctionJson.Default.VerifyResult),
        ["verifyMerge"] = Of<VerifyMergeInput, VerifyResult>(_ => VerifyMergeFunction.MergeAsync, FunctionJson.Default.VerifyMergeInput, FunctionJson.Default.VerifyResult),
        ["retention"] = Of<RetentionInput, RetentionResult>(env => new RetentionFunction(env).ApplyAsync, FunctionJson.Default.RetentionInput, FunctionJson.Default.RetentionResult),
        ["offsite"] = Of<OffsiteInput, OffsiteResult>(env => new OffsiteFunction(env).CopyAsync, FunctionJson.Default.OffsiteInput, FunctionJson.Default.OffsiteResult),
        ["notify"] = Of<NotifyInput, NotifyResult>(env => new NotifyFunction(env).NotifyAsync, FunctionJson.Default.NotifyInput, FunctionJson.Default.NotifyResult),
    };

    public static IReadOnlyDictionary<string, FunctionFactory> All => Entries.ToDictionary(e => e.Key, e => e.Value.Create, StringComparer.Ordinal);
}
