using Backups.Functions.Contracts;
using Backups.Functions.Handlers.Freshness;
using Backups.Functions.Handlers.Notify;
using Backups.Functions.Handlers.Verify;
using Backups.Functions.Runtime;

namespace Backups.Functions.Handlers;

/// <summary>
/// Every function this bootstrap hosts, by the handler name configured on the Lambda function (_HANDLER).
/// Adding one is one line: its name, its handler's method and its contract types.
/// </summary>
public static class FunctionCatalog
{
    public static readonly IReadOnlyDictionary<string, FunctionFactory> All = new Dictionary<string, FunctionFactory>(StringComparer.Ordinal)
    {
        ["freshness"] = env => LambdaFunction.Of(new FreshnessFunction(env).CheckAsync, FunctionJson.Default.FreshnessInput, FunctionJson.Default.FreshnessResult),
        ["verify"] = env => LambdaFunction.Of(new VerifyFunction(env).VerifyAsync, FunctionJson.Default.VerifyInput, FunctionJson.Default.VerifyResult),
        ["notify"] = env => LambdaFunction.Of(new NotifyFunction(env).NotifyAsync, FunctionJson.Default.NotifyInput, FunctionJson.Default.NotifyResult),
    };
}
