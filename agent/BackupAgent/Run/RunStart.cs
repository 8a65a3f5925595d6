using Backups.Core.Settings;
using Repo = Backups.Core.Repositories.Repository;

namespace BackupAgent.Run;

/// <summary>
/// How `run` and `drill` begin: every secret of the chosen sources is resolved before anything runs (a
/// missing one fails the job, not a source at 3 am), then the config's repository is opened.
/// </summary>
public sealed record RunStart(Repo Repository, IReadOnlyDictionary<SourceConfig, string> SourcePasswords)
{
    public static async Task<RunStart> OpenAsync(RunConfig config, Secrets secrets, IEnumerable<(SourceConfig Source, int Index)> sources,
        bool createRepository, CancellationToken ct)
    {
        var password = await secrets.ResolveAsync(config.Password!, "$.password", ct);
        var sourcePasswords = new Dictionary<SourceConfig, string>();
        foreach (var (source, i) in sources)
            if (source.Password != null) sourcePasswords[source] = await secrets.ResolveAsync(source.Password, $"$.sources[{i}].password", ct);

        var settings = config.RepositorySettings(PasswordSource.Given(password, "$.password"));
        return new RunStart(await (createRepository ? settings.OpenOrInitAsync(ct) : settings.OpenAsync(ct)), sourcePasswords);
    }
}
