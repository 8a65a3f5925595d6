using System.Text.Json.Serialization;
using Backups.Functions.Runtime;

namespace Backups.Functions.Contracts;

/// <summary>
/// Every document the functions read and write: the Step Functions workflow's data, so the names are a stable
/// contract. Members are camelCase; unknown members are ignored (a state may pass more than a function reads);
/// a missing required member or a value of the wrong type is an error naming its JSON path.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(FunctionError))]
[JsonSerializable(typeof(FreshnessInput))]
[JsonSerializable(typeof(FreshnessResult))]
[JsonSerializable(typeof(VerifyInput))]
[JsonSerializable(typeof(VerifyResult))]
[JsonSerializable(typeof(VerifyPlanInput))]
[JsonSerializable(typeof(VerifyPlan))]
[JsonSerializable(typeof(VerifyMergeInput))]
[JsonSerializable(typeof(RetentionInput))]
[JsonSerializable(typeof(RetentionResult))]
[JsonSerializable(typeof(OffsiteInput))]
[JsonSerializable(typeof(OffsiteResult))]
[JsonSerializable(typeof(NotifyInput))]
[JsonSerializable(typeof(NotifyResult))]
[JsonSerializable(typeof(AgentRunCause))]
[JsonSerializable(typeof(WebhookMessage))]
public sealed partial class FunctionJson : JsonSerializerContext;
