using BackupAgent.Cli;
using Backups.Core.Repositories;
using Backups.Core.Restoring;
using Backups.Core.Snapshots;
using Backups.Core.Trees;

namespace BackupAgent.Commands;

public sealed class DumpCommand : Command
{
    public override string Name => "dump";
    public override string Usage => "dump SNAPSHOT FILE: write a file from a snapshot to standard output";

    public override IReadOnlyList<Flag> Flags => SnapshotFilters;

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var what = Positional(args, 0, "snapshot id");
        var path = Positional(args, 1, "file to dump");
        await using var repo = await global.OpenRepositoryAsync(ct);
        // As restic: a prune (exclusive) must not delete packs under a running read.
        var (held, _) = await SettlingReadLock.WorkWhileSettlingAsync(await global.BeginReadLockAsync(repo, ct), async token =>
        {
            await repo.LoadIndexAsync(token);
            var snapshot = await FindSnapshotAsync(repo, args, what, output, token);
            var node = await TreeWalker.FindAsync(repo, snapshot.Tree, path, token);
            if (node.Type != Node.File) throw new RepositoryException(ErrorKind.NotFound, $"{path} is a {node.Type}, not a file (dump writes files)");
            var written = new CountingStream(output.Stdout);
            var started = System.Diagnostics.Stopwatch.StartNew();
            // Only when the file goes elsewhere: on the terminal the line would land inside the file's text.
            await using (Console.IsOutputRedirected
                             ? await output.ProgressAsync(() => ProgressLine.Status(started.Elapsed, null, written.Written, (long)node.Size))
                             : null)
                await ContentReader.CopyToAsync(repo, node.Content ?? [], written, token);
            await output.Stdout.FlushAsync(token);
            return written.Written;
        }, ct);
        await using var lockHeld = held;
        return ExitCodes.Ok;
    }
}
