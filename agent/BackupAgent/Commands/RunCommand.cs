using System.Text.Json;
using BackupAgent.Cli;
using BackupAgent.Run;

namespace BackupAgent.Commands;

public sealed class RunCommand : Command
{
    public override string Name => "run";
    public override string Usage => "run [--config FILE]: the nightly job (without --config: the embedded demo into ./.demo)";
    public override IReadOnlyDictionary<string, string?> ValueFlags { get; } = new Dictionary<string, string?> { ["config"] = "c" };

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var path = args.Value("config");
        var config = path == null ? RunConfig.EmbeddedDefault() : Load(path);
        var password = config.Password.Value
                       ?? (config.Password.File is { } f ? File.ReadAllText(f).TrimEnd('\r', '\n') : null)
                       ?? (config.Password.Env is { } e ? Environment.GetEnvironmentVariable(e) : null)
                       ?? throw new UsageException("config: password: give one of env, file or value");
        if (path == null) output.Message($"no --config: running the embedded demo (repository {config.Repository}, demo password)");
        var result = await NightlyRun.ExecuteAsync(config, password, createIfMissing: path == null, ct);
        output.Line(JsonSerializer.Serialize(result, RunJsonContext.Default.RunResult));
        return result.Succeeded ? ExitCodes.Ok : ExitCodes.SourceFailed;
    }

    private static RunConfig Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), RunJsonContext.Default.RunConfig)
                   ?? throw new UsageException($"{path}: empty config");
        }
        catch (JsonException e)
        {
            throw new UsageException($"{path}: invalid config at {e.Path}: {e.Message.Split('.')[0]}");
        }
        catch (IOException e)
        {
            throw new UsageException($"cannot read config {path}: {e.Message}");
        }
    }
}
