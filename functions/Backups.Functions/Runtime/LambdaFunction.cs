using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Backups.Functions.Runtime;

/// <summary>One function as the host runs it: the invocation's JSON in, the result's JSON out.</summary>
public interface ILambdaFunction
{
    Task<byte[]> InvokeAsync(byte[] input, InvocationContext context);
}

/// <summary>
/// Adapts a typed handler, one async method as Amazon.Lambda.Annotations would generate a wrapper for, to the
/// host: JSON through the source-generated contracts, input problems reported with the field's JSON path.
/// </summary>
public sealed class LambdaFunction<TInput, TOutput>(
    Func<TInput, InvocationContext, Task<TOutput>> handler, JsonTypeInfo<TInput> input, JsonTypeInfo<TOutput> output) : ILambdaFunction
{
    public async Task<byte[]> InvokeAsync(byte[] json, InvocationContext context)
    {
        TInput request;
        try
        {
            request = JsonSerializer.Deserialize(json, input) ?? throw new InvalidInputException("invalid input at $: the input is null");
        }
        catch (JsonException e)
        {
            // System.Text.Json appends " Path: $.x | LineNumber: ..." to its messages; the path goes first instead.
            var reason = e.Message.Split(" Path: ")[0];
            throw new InvalidInputException($"invalid input at {e.Path ?? "$"}: {reason}");
        }
        return JsonSerializer.SerializeToUtf8Bytes(await handler(request, context), output);
    }
}

public static class LambdaFunction
{
    public static ILambdaFunction Of<TInput, TOutput>(Func<TInput, InvocationContext, Task<TOutput>> handler,
        JsonTypeInfo<TInput> input, JsonTypeInfo<TOutput> output) => new LambdaFunction<TInput, TOutput>(handler, input, output);
}
