using System.Globalization;
using Backups.Core.Backends;
using Backups.Core.Snapshots;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Retention;

[CollectionDefinition("retention")]
public sealed class RetentionCollection : ICollectionFixture<RetentionRepository>;

/// <summary>
/// One repository with several hundred snapshots over three years, built once for the retention suite: a few
/// real `restic backup --time` snapshots (written in Berlin, UTC and New York time), the rest written through
/// our engine sharing their tree. Times are irregular, clustered (several per hour and day), and crowd around
/// DST changes, New Year and ISO week boundaries; hosts, path sets (in both orders) and tags vary; one
/// snapshot lies in the future; the "calendar" host has dates where Go's AddDate differs from .NET's.
/// </summary>
public sealed class RetentionRepository : IAsyncLifetime
{
    /// <summary>The local zone for restic and the agent (TZ): it decides the --keep-within cut-offs.</summary>
    public const string Tz = "Europe/Berlin";
    public static readonly TimeZoneInfo Zone = TimeZoneInfo.FindSystemTimeZoneById(Tz);
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    private readonly TempDir _dir = new();
    private static readonly Dictionary<string, string> Env = new() { ["TZ"] = Tz };

    public string Path => _dir.Combine("repo");
    public string SourceA => _dir.Combine("src", "a");
    public string SourceB => _dir.Combine("src", "b");
    public Restic Restic => new(Path, Repositories.Password, env: Env);
    public Agent Agent => new(Path, Repositories.Password, env: Env);
    public List<Snapshot> Snapshots { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(SourceA);
        Directory.CreateDirectory(SourceB);
        await File.WriteAllTextAsync(System.IO.Path.Combine(SourceA, "a.txt"), "a");
        await File.WriteAllTextAsync(System.IO.Path.Combine(SourceB, "b.txt"), "b");
        await Restic.RunOkAsync("init");

        var random = new Random(20261122);
        var end = DateTimeOffset.UtcNow.AddHours(-2);
        var times = new SortedSet<long>();
        foreach (var t in Times(random, end.AddYears(-3), end))
        {
            var s = t.ToUnixTimeSeconds();
            while (!times.Add(s)) s++;
        }
        var all = times.Select(s => DateTimeOffset.FromUnixTimeSeconds(s)).ToList();
        // Real restic snapshots: every 25th time, four restic processes at once (backups lock non-exclusively).
        var real = all.Where((_, i) => i % 25 == 7).ToList();
        var realShapes = real.Select(t => (t, Describe(random))).ToList();
        await Parallel.ForEachAsync(realShapes, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (r, _) => await ResticBackupAsync(r.t, r.Item2));

        await using var repo = await Repo.OpenAsync(RepositoryLocation.Open(Path), Repositories.Password);
        var tree = (await repo.LoadSnapshotsAsync())[0].Tree;
        var engineTimes = all.Except(real).Select(t => (t, Describe(random))).ToList()
            .Concat(CalendarTimes().Select(t => (t, new Shape("calendar", [SourceA], null))))
            .Append((DateTimeOffset.UtcNow.AddDays(300), new Shape("web", [SourceA], ["daily"]))).ToList();
        await Parallel.ForEachAsync(engineTimes, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (e, ct) =>
            await repo.SaveSnapshotAsync(new Snapshot
            {
                Time = InZoneOf(e.Item2.Host, e.Item1), Tree = tree, Paths = e.Item2.Paths, Hostname = e.Item2.Host, Username = "backup",
                Tags = e.Item2.Tags,
            }, ct));
        Snapshots = await repo.LoadSnapshotsAsync();
    }

    private sealed record Shape(string Host, List<string> Paths, List<string>? Tags);

    private Shape Describe(Random random)
    {
        string[] hosts = ["db1", "db1", "web", "edge"];
        List<string>[] paths = [[SourceA], [SourceA], [SourceA, SourceB], [SourceB, SourceA]];
        List<string>?[] tags = [null, ["daily"], ["daily"], ["daily", "pg"], ["pg", "daily"], ["manual"]];
        return new Shape(hosts[random.Next(hosts.Length)], paths[random.Next(paths.Length)], tags[random.Next(tags.Length)]);
    }

    /// <summary>db1 and calendar keep Berlin time (the zone restic runs in), web UTC, edge New York time.</summary>
    private static DateTimeOffset InZoneOf(string host, DateTimeOffset t) => host switch
    {
        "db1" or "calendar" => TimeZoneInfo.ConvertTime(t, Zone),
        "edge" => TimeZoneInfo.ConvertTime(t, NewYork),
        _ => t.ToUniversalTime(),
    };

    private static string TzOf(string host) => host switch
    {
        "db1" or "calendar" => Tz,
        "edge" => "America/New_York",
        _ => "UTC",
    };

    private async Task ResticBackupAsync(DateTimeOffset t, Shape shape)
    {
        var local = InZoneOf(shape.Host, t).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var restic = new Restic(Path, Repositories.Password, env: new Dictionary<string, string> { ["TZ"] = TzOf(shape.Host) });
        List<string> args = ["backup", "--time", local, "--host", shape.Host, .. (shape.Tags ?? []).SelectMany(tag => new[] { "--tag", tag }), .. shape.Paths];
        (await restic.RunAsync(args)).EnsureSuccess("restic " + string.Join(' ', args));
    }

    private static IEnumerable<DateTimeOffset> Times(Random random, DateTimeOffset start, DateTimeOffset end)
    {
        var span = (end - start).TotalSeconds;
        var result = new List<DateTimeOffset>();
        // Clusters: several snapshots minutes to hours apart.
        for (var c = 0; c < 55; c++)
        {
            var t = start.AddSeconds(random.NextDouble() * span);
            for (var n = random.Next(1, 8); n > 0; n--, t = t.AddMinutes(random.Next(3, 95))) result.Add(t);
        }
        for (var year = start.Year; year <= end.Year; year++)
        {
            // Both DST changes in Europe (01:00 UTC on the last Sunday of March and October), every 25 minutes around them.
            foreach (var month in new[] { 3, 10 })
            {
                var change = LastSunday(year, month).AddHours(1);
                for (var m = -150; m <= 150; m += 25) result.Add(change.AddMinutes(m));
            }
            // New Year and the ISO week turn: once or twice a day from 27 December to 5 January, and around midnight.
            var newYear = new DateTimeOffset(year, 1, 1, 0, 0, 0, TimeSpan.Zero);
            for (var d = -5; d <= 4; d++)
                for (var k = random.Next(1, 3); k > 0; k--) result.Add(newYear.AddDays(d).AddMinutes(random.Next(0, 24 * 60)));
            for (var m = -150; m <= 90; m += 40) result.Add(newYear.AddMinutes(m));
        }
        // A nightly run every other day for the last four months.
        for (var t = end.AddMonths(-4); t < end; t = t.AddDays(2)) result.Add(t.AddMinutes(random.Next(0, 40)));
        return result.Where(t => t >= start && t <= end);
    }

    private static DateTimeOffset LastSunday(int year, int month)
    {
        var d = new DateTimeOffset(year, month, DateTime.DaysInMonth(year, month), 0, 0, 0, TimeSpan.Zero);
        return d.AddDays(-(int)d.DayOfWeek);
    }

    /// <summary>
    /// Newest on 31 March (summer time): a month back is 3 March 12:00 in Go (31 February normalized) at the
    /// winter offset; .NET's AddMonths would say 28 February, a fixed offset an hour later.
    /// </summary>
    private static IEnumerable<DateTimeOffset> CalendarTimes() =>
        new[] { "2025-03-31T12:00:00+02:00", "2025-03-03T12:30:00+01:00", "2025-03-03T11:30:00+01:00", "2025-03-02T12:00:00+01:00",
                "2025-03-01T12:00:00+01:00", "2025-02-28T13:00:00+01:00", "2025-01-31T12:00:00+01:00" }
            .Select(s => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture));

    /// <summary>A copy of the repository to change (forget for real, lock) without touching the shared one.</summary>
    public RepositoryPair Copy(TempDir into)
    {
        var target = FileTrees.CopyDirectory(Path, into.Combine("repo"));
        return new RepositoryPair(new Agent(target, Repositories.Password, env: Env), new Restic(target, Repositories.Password, env: Env), target);
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
