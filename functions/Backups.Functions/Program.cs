using System.Collections;
using System.Runtime.InteropServices;
using Backups.Functions.Handlers;
using Backups.Functions.Runtime;

namespace Backups.Functions;

public static class Program
{
    public static async Task<int> Main()
    {
        using var stop = new CancellationTokenSource();
        // Lambda sends SIGTERM when it shuts an environment down; the loop ends between invocations.
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        var variables = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
        using var environment = new FunctionEnvironment(variables);
        try
        {
            return await LambdaHost.RunAsync(FunctionCatalog.All, environment, Console.Error, stop.Token);
        }
        catch (Exception e)
        {
            // The Runtime API itself failed (Lambda restarts the environment): one line, no stack trace.
            await Console.Error.WriteLineAsync($"bootstrap: {ErrorNames.Of(e)}: {environment.Clean(e.Message)}");
            return 1;
        }
    }
}
