using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Backups.Tests.Support;
using static Bench.Measure;

namespace Bench;

/// <summary>
/// Point-in-time recovery against pgBackRest (issue 13's Performance section). One PostgreSQL 15 cluster runs a
/// pgbench workload while its archive_command fails, so pg_wal keeps a backlog of WAL_MIB of `.ready` segments, with
/// a marker row halfway (its time is the restore target). The stopped cluster is copied twice and each copy archives
/// the identical backlog through one program: ours (`wal-push` to the resident archiver, as the README sets it up)
/// and pgBackRest (asynchronous archive-push, zstd, two processes), timed from the start until pg_stat_archiver has
/// the whole backlog archived. Then each takes a base backup (ours: the nightly `run` of the postgres-cluster
/// source) and restores to the marker's time (ours: `pitr --start`; pgBackRest: `restore --type=time`, then the
/// server is started until recovery ends), and the marker is checked in both outside the timing.
/// Deviation from the plan that asked for the base backups after the archiving: recovery to a time needs a base
/// backup from before it, so each program also takes one before the workload (both archiving the WAL meanwhile
/// through one archive_command), and the restore replays from there through half the backlog; the base backup after
/// the archiving is the one measured as "per base backup" (the first is printed too).
/// Both repositories are encrypted (ours always is; pgBackRest with aes-256-cbc), so both do the same kind of work.
/// </summary>
public static class PitrBench
{
    private const string Binary = "/usr/bin/pgbackrest";
    private const string Them = "pgBackRest";
    private const string Stanza = "bench";
    private const string Database = "app";
    private const string PgBin = PostgresServer.BinDirectory;
    /// <summary>pgbench's scale: 2,000,000 accounts, about 300 MiB on disk, what each base backup copies.</summary>
    private const int Scale = 20;
    private const double MiB = 1048576.0;

    /// <summary>What one program did with the backlog, its base backups and the restore.</summary>
    private sealed class Figures
    {
        public double ArchiveSeconds, ArchiveSumMiB, ArchiveLargestMiB, CallMedianMs, GrowthBytes;
        public int Calls, FailedCalls;
        public long FirstBaseBytes, SecondBaseBytes;
        public Timed? SecondBase;
        public double RestoreSeconds, RestoreCommandMiB, RestoreSumMiB;
    }

    public static async Task RunAsync(string agent, string work, long walMiB)
    {
        if (!Environment.IsPrivilegedProcess)
            throw new InvalidOperationException("the pitr case runs as root: PostgreSQL as postgres and our archiver as root, as the README deploys them");
        if (!File.Exists(Binary)) throw new InvalidOperationException($"{Binary} is missing (tests/bench/run.sh installs Debian's pgbackrest for this case)");
        Console.WriteLine();
        Console.WriteLine($"pitr: pgbench -s {Scale} producing {walMiB} MiB of WAL while archiving fails; each program archives the same backlog " +
                          "from a copy of the stopped cluster, takes a base backup and restores to a marker's time halfway through it");
        using var shared = new Shared();
        var agentDir = shared.Combine("agent");
        // The published agent lies in a directory only root may enter; PostgreSQL runs wal-push as postgres.
        await CopyDirectoryAsync(Path.GetDirectoryName(agent)!, agentDir);
        File.SetUnixFileMode(agentDir, (UnixFileMode)0b111_101_101);
        var ours = new Ours(Path.Combine(agentDir, Path.GetFileName(agent)), work, shared);
        var pgbr = await PgBackRest.CreateAsync(shared);

        // Setup: WAL before the first base backups is needed by no recovery, so until then PostgreSQL drops it.
        await using var pg = await PostgresServer.StartAsync("""
            archive_mode = on
            archive_command = 'true'
            """);
        var clock = Stopwatch.StartNew();
        await pg.CreateDatabaseAsync(Database);
        await pg.PgbenchInitAsync(Database, Scale);
        await pg.ExecAsync(Database, "CREATE TABLE marker (note text PRIMARY KEY)");
        await ours.InitAsync(pg);
        await pgbr.WriteConfigAsync(pg);
        await pgbr.RunAsync(pg, "stanza-create");
        var oursFigures = new Figures();
        var theirFigures = new Figures();
        await using (var archiver = await ours.StartArchiverAsync(pg))
        {
            await SetArchiveCommandAsync(pg, $"{ours.WalPush} && {pgbr.ArchivePush}");
            (_, oursFigures.FirstBaseBytes) = await GrowthAsync(ours.Repository, () => ours.BaseBackupAsync(pg));
            (_, theirFigures.FirstBaseBytes) = await GrowthAsync(pgbr.Repository, () => pgbr.RunAsync(pg, "--type=full", "backup"));
            await WaitArchivedAsync(pg, await pg.QueryScalarAsync("postgres", "SELECT pg_walfile_name(pg_switch_wal())"), [], archiver);
            await SetArchiveCommandAsync(pg, "false");
        }
        Console.WriteLine($"  setup: {clock.Elapsed.TotalSeconds:F0} s (pgbench -i, stanza-create, a base backup each with both archiving)");

        clock.Restart();
        var (target, written) = await WorkloadAsync(pg, walMiB << 20);
        var last = await pg.QueryScalarAsync("postgres", "SELECT pg_walfile_name(pg_switch_wal())");
        // The copies get their archive_command from postgresql.conf: ALTER SYSTEM's 'false' would override it.
        await pg.ExecAsync("postgres", "ALTER SYSTEM RESET archive_command");
        await pg.StopAsync();
        var backlog = Directory.GetFiles(Path.Combine(pg.DataDirectory, "pg_wal", "archive_status"), "*.ready")
            .Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal).ToList();
        var walBytes = backlog.Sum(n => new FileInfo(Path.Combine(pg.DataDirectory, "pg_wal", n)).Length);
        if (backlog.Count == 0 || string.CompareOrdinal(backlog[^1], last) < 0)
            throw new InvalidOperationException($"the backlog ({backlog.Count} segments) does not reach {last}, the last segment written");
        Console.WriteLine($"  workload: {clock.Elapsed.TotalSeconds:F0} s, {written / MiB:F0} MiB of WAL written, a backlog of {backlog.Count} segments " +
                          $"({walBytes / MiB:F0} MiB, {backlog[0]}..{backlog[^1]}); restore target {target}");

        await ArchiveAsync(pg, ours, oursFigures, backlog, walBytes);
        await ArchiveAsync(pg, pgbr, theirFigures, backlog, walBytes);
        await RestoreAsync(ours, oursFigures, target, shared);
        await RestoreAsync(pgbr, theirFigures, target, shared);
        Print(oursFigures, theirFigures, walBytes);
    }

    /// <summary>pgbench in short runs until <paramref name="bytes"/> of WAL are written; the marker row goes in
    /// halfway (the restore target is the time after its commit) and a later row at three quarters (which a recovery
    /// to the target must not have).</summary>
    private static async Task<(string Target, long Written)> WorkloadAsync(PostgresServer pg, long bytes)
    {
        var start = await pg.QueryScalarAsync("postgres", "SELECT pg_current_wal_lsn()");
        string? target = null;
        var later = false;
        while (true)
        {
            (await Processes.RunAsync(PostgresServer.Tool("pgbench"), ["-n", "-c", "2", "-j", "2", "-T", "2", Database], pg.ClientEnvironment))
                .EnsureSuccess("pgbench");
            var written = long.Parse(await pg.QueryScalarAsync("postgres", $"SELECT (pg_current_wal_lsn() - '{start}')::bigint"), CultureInfo.InvariantCulture);
            if (target == null && written >= bytes / 2)
            {
                await pg.ExecAsync(Database, "INSERT INTO marker VALUES ('target')");
                target = await pg.QueryScalarAsync(Database, "SELECT now()");
            }
            else if (target != null && !later && written >= bytes * 3 / 4)
            {
                await pg.ExecAsync(Database, "INSERT INTO marker VALUES ('later')");
                later = true;
            }
            if (written >= bytes && later) return (target!, written);
        }
    }

    /// <summary>Times one program archiving the backlog in its own copy of the cluster, then its base backup there.</summary>
    private static async Task ArchiveAsync(PostgresServer original, Tool tool, Figures figures, List<string> backlog, long walBytes)
    {
        var calls = tool.CallsLog;
        await using var copy = await original.CopyAsync($"archive_command = '{tool.ArchiveCommand}'");
        await tool.PrepareCopyAsync(copy);
        var before = DirectoryBytes(tool.Repository);
        var peak = ProcessPeak.Start(tool.IsMine);
        var clock = Stopwatch.StartNew();
        await using (var archiver = await tool.StartArchiverAsync(copy))
        {
            await copy.ResumeAsync();
            await WaitArchivedAsync(copy, backlog[^1], backlog, archiver);
            figures.ArchiveSeconds = clock.Elapsed.TotalSeconds;
            (figures.ArchiveSumMiB, figures.ArchiveLargestMiB) = await peak.StopAsync();
            figures.GrowthBytes = DirectoryBytes(tool.Repository) - before;
            (figures.CallMedianMs, figures.Calls, figures.FailedCalls) = Calls(calls);
            Console.WriteLine($"  {tool.Name}: archived {walBytes / MiB:F0} MiB in {figures.ArchiveSeconds:F1} s; " +
                              $"{figures.Calls} archive_command calls, {figures.FailedCalls} failed" +
                              (figures.FailedCalls > 0 ? $" (the last said: {File.ReadLines(calls + ".stderr").LastOrDefault()})" : ""));
            (figures.SecondBase, figures.SecondBaseBytes) = await GrowthAsync(tool.Repository, () => tool.BaseBackupAsync(copy));
        }
    }

    /// <summary>Restores each program's newest base backup before the target and replays to it; then, outside the
    /// timing, starts the result and reads the marker table.</summary>
    private static async Task RestoreAsync(Tool tool, Figures figures, string target, Shared shared)
    {
        var pgdata = shared.Combine("restored-" + tool.Name.ToLowerInvariant());
        var peak = ProcessPeak.Start(tool.IsMine);
        var clock = Stopwatch.StartNew();
        var restore = await tool.RestoreAsync(target, pgdata);
        figures.RestoreSeconds = clock.Elapsed.TotalSeconds;
        figures.RestoreCommandMiB = restore.RssMiB;
        (figures.RestoreSumMiB, _) = await peak.StopAsync();
        var markers = await QueryRecoveredAsync(pgdata, shared, "SELECT string_agg(note, ',' ORDER BY note) FROM marker");
        if (markers != "target")
            throw new InvalidOperationException($"{tool.Name}'s recovery to {target} has the marker rows '{markers}', not just 'target'; " +
                $"postgresql.auto.conf:\n{await File.ReadAllTextAsync(Path.Combine(pgdata, "postgresql.auto.conf"))}\n{restore.Stderr}\n{tool.ReplayLog}");
        Console.WriteLine($"  {tool.Name}: recovered to {target} in {figures.RestoreSeconds:F1} s; the marker row is there, the later one is not");
        await Processes.RunAsync("rm", ["-rf", pgdata]);
    }

    private static void Print(Figures ours, Figures them, long walBytes)
    {
        var walMiB = walBytes / MiB;
        var gib = walBytes / (MiB * 1024);
        Console.WriteLine();
        Console.WriteLine("archive_command is a bash wrapper that logs each call's start and end (both programs alike): the median is of those");
        Console.WriteLine("  calls while the backlog was archived. Peak RSS \"sum\": the program's processes together, sampled every 100 ms from");
        Console.WriteLine("  /proc (ours: the resident archiver and wal-push calls; pgBackRest: archive-push, its async process and workers);");
        Console.WriteLine("  \"largest\": the largest single process's VmHWM (ours: the archiver). Repository sizes: every file in it.");
        Console.WriteLine("  Restore: from the base backup before the workload through half the backlog; ours is `pitr --start` (its peak RSS");
        Console.WriteLine("  includes serving the replay's WAL), pgBackRest's is `restore --type=time`, the server started until recovery");
        Console.WriteLine("  ends and stopped; GNU time covers the restore command, the sum covers the replay too.");
        Header(Them);
        Row("WAL archiving MiB/s", walMiB / ours.ArchiveSeconds, walMiB / them.ArchiveSeconds, higherIsBetter: true, Them);
        Row("archive_command median ms", ours.CallMedianMs, them.CallMedianMs, higherIsBetter: false, Them);
        Row("archiving: peak RSS MiB, sum", ours.ArchiveSumMiB, them.ArchiveSumMiB, higherIsBetter: false, Them);
        Row("archiving: peak RSS MiB, largest", ours.ArchiveLargestMiB, them.ArchiveLargestMiB, higherIsBetter: false, Them);
        Row("repository MiB per GiB of WAL", ours.GrowthBytes / MiB / gib, them.GrowthBytes / MiB / gib, higherIsBetter: false, Them);
        Row("base backup 1 (before): MiB", ours.FirstBaseBytes / MiB, them.FirstBaseBytes / MiB, higherIsBetter: false, Them);
        Row("base backup 2 (after): MiB", ours.SecondBaseBytes / MiB, them.SecondBaseBytes / MiB, higherIsBetter: false, Them);
        Row("base backup 2: seconds", ours.SecondBase!.Seconds, them.SecondBase!.Seconds, higherIsBetter: false, Them);
        Row("base backup 2: peak RSS MiB", ours.SecondBase.RssMiB, them.SecondBase.RssMiB, higherIsBetter: false, Them);
        Row("restore to time: seconds", ours.RestoreSeconds, them.RestoreSeconds, higherIsBetter: false, Them);
        Row("restore: peak RSS MiB, command", ours.RestoreCommandMiB, them.RestoreCommandMiB, higherIsBetter: false, Them);
        Row("restore: peak RSS MiB, sum", ours.RestoreSumMiB, them.RestoreSumMiB, higherIsBetter: false, Them);
        string Met(bool met) => met ? "met" : "MISSED";
        Console.WriteLine("target: archiving throughput and restore time at least pgBackRest's " +
                          $"({Met(ours.ArchiveSeconds <= them.ArchiveSeconds)}, {Met(ours.RestoreSeconds <= them.RestoreSeconds)}), " +
                          $"storage at most pgBackRest's (WAL {Met(ours.GrowthBytes <= them.GrowthBytes)}, " +
                          $"base backup {Met(ours.SecondBaseBytes <= them.SecondBaseBytes)}), " +
                          $"wal-push median under 100 ms ({Met(ours.CallMedianMs < 100)})");
    }

    private static async Task<(Timed, long)> GrowthAsync(string repository, Func<Task<Timed>> step)
    {
        var before = DirectoryBytes(repository);
        var timed = await step();
        return (timed, DirectoryBytes(repository) - before);
    }

    private static long DirectoryBytes(string path) =>
        new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    /// <summary>The median duration of the successful calls the archive_command wrapper logged, the count and the failures.</summary>
    private static (double MedianMs, int Calls, int Failed) Calls(string log)
    {
        var calls = File.ReadAllLines(log).Select(l => l.Replace(',', '.').Split(' '))
            .Select(f => (Ms: (double.Parse(f[1], CultureInfo.InvariantCulture) - double.Parse(f[0], CultureInfo.InvariantCulture)) * 1000, Ok: f[2] == "0"))
            .ToList();
        var ok = calls.Where(c => c.Ok).ToList();
        if (ok.Count == 0) throw new InvalidOperationException($"no archive_command call succeeded ({log})");
        return (Median(ok, c => c.Ms), calls.Count, calls.Count - ok.Count);
    }

    private static async Task SetArchiveCommandAsync(PostgresServer pg, string command)
    {
        await pg.ExecAsync("postgres", $"ALTER SYSTEM SET archive_command = '{command.Replace("'", "''")}'");
        await pg.ExecAsync("postgres", "SELECT pg_reload_conf()");
        // The archiver process reads the new setting when it next wakes; a second lets it.
        await Task.Delay(1000);
    }

    /// <summary>Until pg_stat_archiver has archived <paramref name="last"/> and no segment of <paramref name="backlog"/>
    /// is still marked ready.</summary>
    private static async Task WaitArchivedAsync(PostgresServer pg, string last, List<string> backlog, IAsyncDisposable archiver)
    {
        var status = Path.Combine(pg.DataDirectory, "pg_wal", "archive_status");
        var deadline = DateTime.UtcNow + TimeSpan.FromHours(2);
        while (true)
        {
            var archived = await pg.QueryScalarAsync("postgres", "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
            if (string.CompareOrdinal(archived, last) >= 0 && !backlog.Any(n => File.Exists(Path.Combine(status, n + ".ready")))) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{last} was not archived within 2 hours (last archived: {archived}){(archiver is Resident r ? "; archiver said:\n" + r.Log : "")}");
            await Task.Delay(100);
        }
    }

    /// <summary>Starts a recovered data directory (archiving off), runs a query on "app", stops it.</summary>
    private static async Task<string> QueryRecoveredAsync(string pgdata, Shared shared, string sql)
    {
        var sockets = shared.Directory("s-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)), everyone: true);
        var port = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        (await AsPostgresAsync(PostgresServer.Tool("pg_ctl"), "start", "-D", pgdata, "-l", Path.Combine(sockets, "log"), "-w", "-t", "600",
            "-o", $"-k {sockets} -p {port} -c listen_addresses='' -c archive_mode=off")).EnsureSuccess("starting the recovered cluster");
        try
        {
            return (await AsPostgresAsync(PostgresServer.Tool("psql"), "-X", "-A", "-t", "-h", sockets, "-p", port, "-U", "postgres", "-d", Database, "-c", sql))
                .EnsureSuccess("querying the recovered cluster").StdoutText.Trim();
        }
        finally
        {
            await AsPostgresAsync(PostgresServer.Tool("pg_ctl"), "stop", "-D", pgdata, "-m", "immediate", "-w");
        }
    }

    private static Task<ProcessResult> AsPostgresAsync(string program, params string[] args) =>
        Processes.RunAsync("runuser", ["-u", "postgres", "--", program, .. args], workingDirectory: "/", timeout: TimeSpan.FromHours(2));

    private static Dictionary<string, string> PathEnvironment() =>
        new() { ["PATH"] = $"{PgBin}:{Environment.GetEnvironmentVariable("PATH")}" };

    /// <summary>
    /// A directory under /tmp that the postgres account can reach (the work directory is root's alone): the agent's
    /// copy, the archive_command wrapper and its logs, the archiver's socket, pgBackRest's repository and spool,
    /// the restored data directories. (The clusters themselves are the tests' PostgresServer, under /tmp too.)
    /// </summary>
    private sealed class Shared : IDisposable
    {
        public Shared()
        {
            System.IO.Directory.CreateDirectory(Path, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(Path, (UnixFileMode)0b111_101_101);
            Wrapper = Combine("archive.sh");
            File.WriteAllText(Wrapper, """
                #!/bin/bash
                # archive_command wrapper of the pitr bench: runs the command given after the log file and appends
                # "start end exit-code" (seconds since the epoch) of each call to the log, what the command said to LOG.stderr.
                log=$1; shift
                start=$EPOCHREALTIME
                "$@" 2>> "$log.stderr"
                rc=$?
                echo "$start $EPOCHREALTIME $rc" >> "$log"
                exit $rc

                """);
            File.SetUnixFileMode(Wrapper, (UnixFileMode)0b111_101_101);
            Calls = Directory("calls", everyone: true);
        }

        public string Path { get; } = System.IO.Path.Combine("/tmp", "backups-pitr-bench-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        public string Wrapper { get; }
        public string Calls { get; }

        public string Combine(string name) => System.IO.Path.Combine(Path, name);

        /// <param name="everyone">Writable by every account (the postgres account writes there); otherwise postgres's own.</param>
        public string Directory(string name, bool everyone)
        {
            var path = Combine(name);
            System.IO.Directory.CreateDirectory(path);
            if (everyone) File.SetUnixFileMode(path, (UnixFileMode)0b111_111_111);
            else
            {
                File.SetUnixFileMode(path, (UnixFileMode)0b111_000_000);
                using var chown = Process.Start("chown", ["postgres:postgres", path])!;
                chown.WaitForExit();
                if (chown.ExitCode != 0) throw new InvalidOperationException($"chown postgres {path} failed");
            }
            return path;
        }

        public void Dispose()
        {
            using var rm = Process.Start("rm", ["-rf", Path])!;
            rm.WaitForExit();
        }
    }

    /// <summary>What the bench does with either program.</summary>
    private abstract class Tool(string name, string callsLog, string repository)
    {
        public string Name { get; } = name;
        public string CallsLog { get; } = callsLog;
        public string Repository { get; } = repository;
        /// <summary>archive_command, through the timing wrapper.</summary>
        public abstract string ArchiveCommand { get; }
        /// <summary>Whether a process (by its arguments) is one of this program's.</summary>
        public abstract bool IsMine(string[] args);
        public virtual Task PrepareCopyAsync(PostgresServer copy) => Task.CompletedTask;
        /// <summary>The recovering server's log where the bench started it (pgBackRest's), for a failure's message.</summary>
        public virtual string ReplayLog => "";
        /// <summary>What must run besides PostgreSQL to archive (ours: the resident archiver).</summary>
        public abstract Task<IAsyncDisposable> StartArchiverAsync(PostgresServer pg);
        public abstract Task<Timed> BaseBackupAsync(PostgresServer pg);
        /// <summary>Restores into <paramref name="pgdata"/> and recovers to <paramref name="target"/>; returns the restore command's cost.</summary>
        public abstract Task<Timed> RestoreAsync(string target, string pgdata);
    }

    /// <summary>backup-agent as the README deploys it: the archiver as root, `wal-push` as postgres, `run`, `pitr`.</summary>
    private sealed class Ours(string program, string work, Shared shared)
        : Tool("ours", Path.Combine(shared.Calls, "ours.log"), Path.Combine(work, "pitr-repo"))
    {
        private readonly string _config = Path.Combine(work, "pitr.json");
        private readonly string _socket = shared.Combine("wal.sock");

        /// <summary>The plain command, as the README's archive_command (also the setup's, beside pgBackRest's).</summary>
        public string WalPush => $"{program} wal-push --socket {_socket} %p";
        public override string ArchiveCommand => $"{shared.Wrapper} {CallsLog} {WalPush}";
        public override bool IsMine(string[] args) => args[0] == program;

        public async Task InitAsync(PostgresServer pg)
        {
            await Measure.RunAsync([program, "--quiet", "init"], env: RepoEnvironment(Repository));
            await WriteConfigAsync(pg);
        }

        /// <summary>The archiver reads the repository and the source's name from the config, never the server's port
        /// (a copy has its own only once started): the config of an earlier server serves.</summary>
        public override async Task<IAsyncDisposable> StartArchiverAsync(PostgresServer pg) =>
            await Resident.StartAsync(program, ["archiver", "--config", _config, "--socket", _socket, "--pgdata", pg.DataDirectory], _socket);

        /// <summary>The nightly run of the postgres-cluster source; base_backup_every 1h makes the second one due minutes
        /// after the first (the cadence allows an hour's slack).</summary>
        public override async Task<Timed> BaseBackupAsync(PostgresServer pg)
        {
            await WriteConfigAsync(pg);
            var env = PathEnvironment();
            env["CLUSTER_PASSWORD"] = pg.Password;
            var run = await Measure.RunAsync([program, "--json", "run", "--config", _config], env: env);
            var result = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("sources")[0];
            if (!result.GetProperty("succeeded").GetBoolean() || result.TryGetProperty("skipped", out var skipped) && skipped.ValueKind == JsonValueKind.String)
                throw new InvalidOperationException($"our run took no base backup: {run.Stdout}");
            return run;
        }

        public override async Task<Timed> RestoreAsync(string target, string pgdata)
        {
            var timed = await Measure.RunAsync([program, "pitr", "--config", _config, "--to", target, "--pgdata", pgdata, "--start"], env: PathEnvironment());
            if (!timed.Stdout.Contains("recovered", StringComparison.Ordinal)) throw new InvalidOperationException($"pitr did not recover: {timed.Stdout}");
            return timed;
        }

        private Task WriteConfigAsync(PostgresServer pg) => File.WriteAllTextAsync(_config, $$"""
            { "repository": "{{Repository}}", "password": { "value": "{{Password}}" },
              "sources": [ { "name": "cluster", "kind": "postgres-cluster", "host": "{{pg.Host}}", "port": {{pg.Port}}, "user": "{{pg.User}}",
                             "password": { "env": "CLUSTER_PASSWORD" }, "base_backup_every": "1h" } ] }
            """);
    }

    /// <summary>pgBackRest from Debian: asynchronous archive-push with zstd and two processes, a local encrypted repository.</summary>
    private sealed class PgBackRest : Tool
    {
        private readonly Shared _shared;
        private readonly string _config, _spool, _locks, _logs;
        private readonly string _cipher = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        private string? _replayLog;

        /// <summary>The server log, which the server keeps open for writing.</summary>
        private static async Task<string> ReadSharedAsync(string path)
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return await new StreamReader(stream).ReadToEndAsync();
        }

        public override string ReplayLog => _replayLog != null && File.Exists(_replayLog) ? string.Join('\n', File.ReadLines(_replayLog).TakeLast(40)) : "";

        private PgBackRest(Shared shared, string home)
            : base(Them, Path.Combine(shared.Calls, "pgbackrest.log"), Path.Combine(home, "repo"))
        {
            _shared = shared;
            _config = Path.Combine(home, "pgbackrest.conf");
            _spool = Path.Combine(home, "spool");
            _locks = Path.Combine(home, "lock");
            _logs = Path.Combine(home, "log");
        }

        public static async Task<PgBackRest> CreateAsync(Shared shared)
        {
            var home = shared.Directory("pgbackrest", everyone: false);
            var tool = new PgBackRest(shared, home);
            foreach (var dir in new[] { tool.Repository, tool._spool, tool._locks, tool._logs })
                (await AsPostgresAsync("mkdir", "-m", "700", dir)).EnsureSuccess("mkdir " + dir);
            return tool;
        }

        public string ArchivePush => $"{Binary} --config={_config} --stanza={Stanza} archive-push %p";
        public override string ArchiveCommand => $"{_shared.Wrapper} {CallsLog} {ArchivePush}";
        public override bool IsMine(string[] args) => Path.GetFileName(args[0]) == "pgbackrest";

        /// <summary>The configuration names the cluster it archives (pg1-path); the port goes on each command line.</summary>
        public Task WriteConfigAsync(PostgresServer pg) => AsPostgresWriteAsync(_config, $"""
            [global]
            repo1-path={Repository}
            repo1-retention-full=2
            repo1-cipher-type=aes-256-cbc
            repo1-cipher-pass={_cipher}
            compress-type=zst
            process-max=2
            archive-async=y
            spool-path={_spool}
            lock-path={_locks}
            log-path={_logs}
            log-level-console=warn
            log-level-file=warn
            start-fast=y

            [{Stanza}]
            pg1-path={pg.DataDirectory}
            pg1-socket-path={pg.TempDirectory}
            pg1-user={pg.User}

            """);

        public override Task PrepareCopyAsync(PostgresServer copy) => WriteConfigAsync(copy);

        /// <summary>PostgreSQL starts archive-push, which starts its own asynchronous process: nothing else runs.</summary>
        public override Task<IAsyncDisposable> StartArchiverAsync(PostgresServer pg) => Task.FromResult<IAsyncDisposable>(new Nothing());

        public override Task<Timed> BaseBackupAsync(PostgresServer pg) => RunAsync(pg, "--type=full", "backup");

        public Task<Timed> RunAsync(PostgresServer pg, params string[] args) =>
            Measure.RunAsync(["runuser", "-u", "postgres", "--", Binary, $"--config={_config}", $"--stanza={Stanza}",
                $"--pg1-port={pg.Port}", .. args]);

        /// <summary>`restore --type=time` (it picks the newest backup before the target), then the server replays until
        /// the target and promotes; then it is stopped, as `pitr --start` does.</summary>
        public override async Task<Timed> RestoreAsync(string target, string pgdata)
        {
            _shared.Directory(Path.GetFileName(pgdata), everyone: false);
            var restore = await Measure.RunAsync(["runuser", "-u", "postgres", "--", Binary, $"--config={_config}", $"--stanza={Stanza}",
                $"--pg1-path={pgdata}", "--type=time", $"--target={target}", "--target-action=promote", "restore"]);
            var sockets = _shared.Directory("s-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)), everyone: true);
            _replayLog = Path.Combine(sockets, "log");
            (await AsPostgresAsync(PostgresServer.Tool("pg_ctl"), "start", "-D", pgdata, "-l", _replayLog, "-w", "-t", "3600",
                "-o", $"-k {sockets} -p {FreePort.Next()} -c listen_addresses=127.0.0.1 -c archive_mode=off"))
                .EnsureSuccess("recovering the restored cluster");
            // pg_ctl -w returns once the server accepts (read-only) connections, before the replay ends: the end is the
            // log's read-write "ready" line after promotion, as `pitr --start` waits for it.
            for (var log = ""; !log.Contains("database system is ready to accept connections", StringComparison.Ordinal); log = await ReadSharedAsync(_replayLog))
            {
                if (log.Contains("FATAL", StringComparison.Ordinal) || log.Contains("database system is shut down", StringComparison.Ordinal))
                    throw new InvalidOperationException($"pgBackRest's recovery failed:\n{ReplayLog}");
                await Task.Delay(100);
            }
            (await AsPostgresAsync(PostgresServer.Tool("pg_ctl"), "stop", "-D", pgdata, "-m", "fast", "-w", "-t", "120")).EnsureSuccess("stopping it");
            return restore;
        }

        /// <summary>Written by the postgres account, readable only by it (the file holds the cipher passphrase).</summary>
        private static async Task AsPostgresWriteAsync(string path, string content)
        {
            await File.WriteAllTextAsync(path, content);
            (await Processes.RunAsync("chown", ["postgres:postgres", path])).EnsureSuccess("chown " + path);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        private sealed class Nothing : IAsyncDisposable
        {
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    /// <summary>Our resident archiver, as its systemd unit runs it; ready once its socket exists. Its output is kept
    /// (the last lines) for a failure's message.</summary>
    private sealed class Resident : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Queue<string> _lines = new();

        private Resident(Process process) => _process = process;

        public string Log { get { lock (_lines) return string.Join('\n', _lines); } }

        public static async Task<Resident> StartAsync(string program, string[] args, string socket)
        {
            var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            var resident = new Resident(Process.Start(psi)!);
            resident._process.OutputDataReceived += (_, e) => resident.Keep(e.Data);
            resident._process.ErrorDataReceived += (_, e) => resident.Keep(e.Data);
            resident._process.BeginOutputReadLine();
            resident._process.BeginErrorReadLine();
            // The socket file appears when it is bound, a moment before the archiver listens: ready is a connection taken.
            for (var waited = 0; !CanConnect(socket); waited++)
            {
                if (resident._process.HasExited || waited > 600)
                {
                    await resident.DisposeAsync();
                    throw new InvalidOperationException($"the archiver did not start listening on {socket}:\n{resident.Log}");
                }
                await Task.Delay(100);
            }
            return resident;
        }

        private static bool CanConnect(string socket)
        {
            using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream,
                System.Net.Sockets.ProtocolType.Unspecified);
            try
            {
                probe.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(socket));
                return true;
            }
            catch (System.Net.Sockets.SocketException)
            {
                return false;
            }
        }

        private void Keep(string? line)
        {
            if (line == null) return;
            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > 50) _lines.Dequeue();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited) _process.Kill();
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
