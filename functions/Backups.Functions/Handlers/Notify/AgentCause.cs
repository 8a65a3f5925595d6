using System.Text.Json;
using Backups.Functions.Contracts;

namespace Backups.Functions.Handlers.Notify;

/// <summary>The agent's run result inside a failure's cause (BackupAgent.SourcesFailed): which sources failed, and
/// each source's own error, duration and bytes.</summary>
public static class AgentCause
{
    /// <summary>Null when the cause is not the agent's result (another step's error text).</summary>
    public static AgentRunCause? Parse(string? cause)
    {
        if (cause == null || !cause.TrimStart().StartsWith('{')) return null;
        try
        {
            return JsonSerializer.Deserialize(cause, FunctionJson.Default.AgentRunCause);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
