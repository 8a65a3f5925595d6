namespace BackupAgent.Drills;

/// <summary>
/// A private temporary directory (under TMPDIR, named backup-agent-drill-*) for what one drill restores;
/// deleted on dispose, whatever happened.
/// </summary>
public sealed class DrillDirectory : IDisposable
{
    public const string Prefix = "backup-agent-drill-";

    public string Path { get; } = Directory.CreateTempSubdirectory(Prefix).FullName;

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
    }
}
