using System.Diagnostics;
using Backups.Core.Archiving;
using Backups.Core.Repository;
using Repo = Backups.Core.Repository.Repository;

namespace BackupAgent.Run;

/// <summary>Backs up a program's standard output as one file; a non-zero exit leaves no snapshot.</summary>
public static class SourceCommand
{
    public static async Task<BackupResult> BackUpAsync(Repo repo, IReadOnlyList<string> command, string filename, BackupOptions options,
        Action<int>? exited, CancellationToken ct)
    {
        if (command.Count == 0) throw new RepositoryException(ErrorKind.InvalidArgument, "the source command is empty");
        // Arguments as a list, never through a shell: nothing in them is interpreted.
        var psi = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new RepositoryException(ErrorKind.SourceFailed, $"cannot start '{command[0]}': {e.Message}");
        }
        using (process)
        {
            try
            {
                return await Backup.StdinAsync(repo, process.StandardOutput.BaseStream, filename, options with
                {
                    BeforeSnapshot = async () =>
                    {
                        await process.WaitForExitAsync(ct);
                        exited?.Invoke(process.ExitCode);
                        if (process.ExitCode != 0)
                            throw new RepositoryException(ErrorKind.SourceFailed, $"'{command[0]}' exited with status {process.ExitCode}; no snapshot was saved");
                    },
                }, ct);
            }
            finally
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
            }
        }
    }
}
