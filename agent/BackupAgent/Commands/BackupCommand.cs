using System.Diagnostics;
using BackupAgent.Run;
using Backups.Aws.Secrets;
using System.Globalization;
using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Archiving;
using Backups.Core.Filtering;
using Backups.Core.Repositories;

namespace BackupAgent.Commands;

public sealed class BackupCommand : Command
{
    public override string Name => "backup";
    public override string Usage =>
        "backup [flags] PATH... | --stdin | --stdin-from-command -- COMMAND [ARGS...]: back up files and directories, standard input or a command's output";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        Flag.Switch("stdin", "back up standard input"),
        Flag.Switch("stdin-from-command", "back up what the command after -- prints; no snapshot if it fails"),
        Flag.Valued("stdin-filename", "NAME", "the file name of the standard input in the snapshot (default: stdin)"),
        Flag.Valued("tag", "T[,T...]", "tag the new snapshot (repeatable)"),
        Flag.Valued("host", "HOST", "the host name saved in the snapshot (default: this host's)", "H"),
        Flag.Valued("exclude", "PATTERN", "leave out files and directories matching PATTERN (repeatable)", "e"),
        Flag.Valued("exclude-file", "FILE", "leave out what the patterns in FILE match, one a line (repeatable)"),
        Flag.Valued("iexclude", "PATTERN", "as --exclude, regardless of the case of names (repeatable)"),
        Flag.Valued("iexclude-file", "FILE", "as --exclude-file, regardless of the case of names (repeatable)"),
        Flag.Valued("exclude-if-present", "FILE[:HEADER]", "leave out the contents of directories holding FILE (that starts with HEADER) but FILE itself (repeatable)"),
        Flag.Switch("exclude-caches", "leave out the contents of directories tagged with a CACHEDIR.TAG (bford.info/cachedir)"),
        Flag.Switch("one-file-system", "stay on the file systems of the targets (mount points are kept, empty)", "x"),
        Flag.Valued("files-from", "FILE", "back up the paths and globs listed in FILE, one a line, # for comments; - for stdin (repeatable)"),
        Flag.Valued("files-from-verbatim", "FILE", "back up the paths listed in FILE, one a line, taken as written (repeatable)"),
        Flag.Valued("files-from-raw", "FILE", "back up the paths listed in FILE, each ended by a NUL byte (repeatable)"),
        Flag.Switch("dry-run", "read and chunk everything, report what would be added, write nothing", "n"),
        Flag.Valued("time", "TIME", "the snapshot's time instead of now (\"2026-01-31 03:00:00\")"),
        Flag.Valued("parent", "ID", "compare with this snapshot (default: the latest of this host and paths)"),
        Flag.Switch("force", "read every file again, also those unchanged since the parent", "f"),
        Flag.Switch("ignore-ctime", "a file whose ctime alone changed counts as unchanged"),
        Flag.Switch("ignore-inode", "a file whose inode alone changed counts as unchanged"),
        Flag.Switch("with-atime", "record each file's access time (by default its modification time stands in, as in restic)"),
        Flag.Switch("pg-dump-segments", "cut a pg_dump archive where its tables begin, for better deduplication"),
    ];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var options = new BackupOptions
        {
            Host = args.Value("host"),
            Tags = Tags.Parse(args.Values("tag")),
            Excludes = args.Values("exclude"),
            UnrecordedExcludes = ExcludeFile.Read(args.Values("exclude-file")),
            InsensitiveExcludes = [.. args.Values("iexclude"), .. ExcludeFile.Read(args.Values("iexclude-file"))],
            TagFiles = TagFiles(args),
            OneFileSystem = args.Has("one-file-system"),
            Time = args.Value("time") is { } t ? ParseTime(t) : null,
            Parent = args.Value("parent"),
            Force = args.Has("force"),
            PgDumpSegments = args.Has("pg-dump-segments"),
            Changes = new ChangeDetection(IgnoreCtime: args.Has("ignore-ctime"), IgnoreInode: args.Has("ignore-inode"), WithAtime: args.Has("with-atime")),
        };
        if (options.Force && options.Parent != null) throw new UsageException("--parent and --force exclude each other");
        var fromCommand = args.Has("stdin-from-command");
        var fromStdin = args.Has("stdin");
        if (fromCommand && fromStdin) throw new UsageException("--stdin and --stdin-from-command exclude each other");
        if (fromCommand && args.AfterDashes.Count == 0) throw new UsageException("--stdin-from-command needs a command after --");
        if (!fromCommand && args.AfterDashes.Count > 0) throw new UsageException("a command after -- needs --stdin-from-command");
        if ((fromStdin || fromCommand) && (args.Positional.Count > 0 || FilesFrom.Any(args)))
            throw new UsageException("paths cannot be combined with --stdin (nor --files-from)");
        // restic's rule for --files-from -, and for --stdin too: the first line of the data must not become the password.
        if ((FilesFrom.ReadsStdin(args) || fromStdin) && !global.PasswordGiven)
            throw new UsageException("unable to read password from stdin when data is to be read from stdin, use --password-file or $RESTIC_PASSWORD");
        var targets = fromStdin || fromCommand ? [] : Targets(args, output);
        if (!fromStdin && !fromCommand && targets.Count == 0) throw new UsageException("nothing to back up: give paths, --files-from, --stdin or --stdin-from-command");

        var dryRun = args.Has("dry-run");
        await using var repo = await global.OpenRepositoryAsync(ct, dryRun);
        var started = Stopwatch.StartNew();
        var stats = new SourceStats();
        options = options with { Stats = stats };
        BackupResult result;
        using var stopCounting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // The total (for a percentage and an ETA) is counted beside the backup, for a person watching only.
        if (output.ShowsProgress && !fromStdin && !fromCommand)
            _ = Task.Run(() =>
            {
                var absolute = Backup.AbsolutePaths(targets);
                stats.BytesTotal = SizeEstimate.Of(absolute, options.ExclusionsFor(absolute), stopCounting.Token);
            }, stopCounting.Token);
        await using (await output.ProgressAsync(() => ProgressLine.Status(started.Elapsed, stats.Files, stats.BytesRead, stats.BytesTotal)))
            result = await RunAsync(args, global, options, fromStdin, fromCommand, targets, repo, ct);
        await stopCounting.CancelAsync();

        foreach (var error in result.Stats.Errors) output.Message($"error: {error}");
        Report(result, started.Elapsed, dryRun, output);
        return result.Stats.Errors.Count > 0 ? ExitCodes.Incomplete : ExitCodes.Ok;
    }

    /// <summary>The --files-from lists' paths (those that do not exist skipped with a warning, as restic does), then the arguments.</summary>
    private static List<string> Targets(Arguments args, Output output)
    {
        var listed = FilesFrom.Read(args, warning => output.Message($"warning: {warning}"));
        foreach (var missing in listed.Where(t => !Exists(t))) output.Message($"warning: {missing} does not exist, skipping");
        return [.. listed.Where(Exists), .. args.Positional];
    }

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget != null;

    private static List<TagFile> TagFiles(Arguments args)
    {
        try
        {
            return [.. args.Values("exclude-if-present").Select(TagFile.Parse), .. args.Has("exclude-caches") ? [TagFile.CacheDirectory] : Array.Empty<TagFile>()];
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--exclude-if-present: {e.Message}");
        }
    }

    private static async Task<BackupResult> RunAsync(Arguments args, GlobalOptions global, BackupOptions options, bool fromStdin, bool fromCommand,
        List<string> targets, Repository repo, CancellationToken ct)
    {
        BackupResult result;
        if (fromCommand)
        {
            // The repository password is this process's only secret; the child must not echo it either.
            var redactor = new Redactor();
            redactor.Add(await global.PasswordAsync(ct));
            using var process = SourceProcess.Start(args.AfterDashes, new Dictionary<string, string>(), redactor);
            result = await Backup.StdinAsync(repo, process.Output, args.Value("stdin-filename") ?? "stdin",
                options with { BeforeSnapshot = () => process.EnsureSucceededAsync(timedOut: false, 0) }, ct);
        }
        else if (fromStdin)
        {
            PipeCapacity.Widen(0); // `pg_dump | backup-agent backup --stdin`
            await using var stdin = Console.OpenStandardInput(1 << 20);
            result = await Backup.StdinAsync(repo, stdin, args.Value("stdin-filename") ?? "stdin", options, ct);
        }
        else
            result = await Backup.PathsAsync(repo, targets, options, ct);
        return result;
    }

    private static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var t)
            ? t : throw new UsageException($"--time '{text}' is not a time (use e.g. \"2026-01-31 03:00:00\")");

    private static void Report(BackupResult r, TimeSpan elapsed, bool dryRun, Output output)
    {
        if (output.Json)
        {
            var summary = new JsonObject
            {
                ["message_type"] = "summary",
                ["data_blobs"] = r.Stats.BlobsAdded,
                ["data_added"] = r.Stats.BytesAdded,
                ["data_added_packed"] = r.Stats.BytesStored,
                ["files_unmodified"] = r.Stats.FilesUnchanged,
                ["dirs_new"] = r.Stats.DirsNew,
                ["dirs_changed"] = r.Stats.DirsChanged,
                ["dirs_unmodified"] = r.Stats.DirsUnmodified,
                ["total_files_processed"] = r.Stats.Files,
                ["total_dirs_processed"] = r.Stats.Directories,
                ["total_bytes_processed"] = r.Stats.BytesRead,
                ["total_duration"] = elapsed.TotalSeconds,
                ["snapshot_id"] = r.Snapshot.Id.ToString(),
                ["errors"] = r.Stats.Errors.Count,
            };
            // As restic: present only in a dry run.
            if (dryRun) summary["dry_run"] = true;
            output.JsonLine(summary);
            return;
        }
        output.Info($"{(dryRun ? "Would add" : "Added")} to the repository: {Size.Format(r.Stats.BytesAdded)} ({Size.Format(r.Stats.BytesStored)} stored)");
        output.Info($"processed {r.Stats.Files} files ({r.Stats.FilesUnchanged} unchanged since the parent snapshot), {Size.Format(r.Stats.BytesRead)} in {ProgressLine.Clock(elapsed)}");
        if (!dryRun) output.Info($"snapshot {r.Snapshot.Id.Short} saved");
    }
}
