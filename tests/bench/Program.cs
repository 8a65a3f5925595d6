using System.Globalization;

namespace Bench;

/// <summary>
/// Runs backup-agent and restic on the same inputs in the same run and prints each figure with its ratio.
/// Usage: Bench AGENT_BINARY [SIZE_MIB] [--case NAME]... [options]; see <see cref="Usage"/>.
/// Without --case every case runs. Figures come from GNU time (wall seconds, peak RSS), the size of the
/// repositories' data/ folders and what the programs report.
/// </summary>
public static class Program
{
    private static readonly string[] Cases = ["stdin", "concurrent", "nightly", "check", "prune", "tree", "restore", "s3", "index", "startup", "pitr"];

    public static async Task<int> Main(string[] args)
    {
        string? agent = null;
        long mib = 1024;
        var cases = new List<string>();
        var nightly = new NightlyBench.Options();
        var pruneFiles = 200_000;
        var tree = new TreeBench.Options();
        var connections = 5;
        var blobs = 2_000_000;
        var walMiB = 2048L;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--case":
                    var c = Value();
                    if (!Cases.Contains(c)) return Usage($"unknown case '{c}'");
                    cases.Add(c);
                    break;
                case "--scale": nightly = nightly with { Scale = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--nights": nightly = nightly with { Nights = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--rounds": nightly = nightly with { Rounds = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--files": pruneFiles = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--tree-files": tree = tree with { Files = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--tree-mib": tree = tree with { MiB = long.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--connections": connections = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--blobs": blobs = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--wal-mib": walMiB = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--more": nightly = nightly with { More = true }; break;
                case "--updates": nightly = nightly with { UpdatePercent = double.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case var a when a.StartsWith('-'): return Usage($"unknown option '{a}'");
                case var a when agent == null: agent = Path.GetFullPath(a); break;
                case var a: mib = long.Parse(a, CultureInfo.InvariantCulture); break;
            }
        }
        if (agent == null) return Usage("no agent binary given");
        if (cases.Count == 0) cases.AddRange(Cases);

        var work = Directory.CreateTempSubdirectory("backup-bench-").FullName;
        try
        {
            var inputs = new Measure.Inputs(work, mib);
            if (cases.Contains("stdin")) await StdinBench.RunAsync(agent, inputs, work);
            if (cases.Contains("concurrent")) await ConcurrentBench.RunAsync(agent, inputs, work);
            if (cases.Contains("nightly")) await NightlyBench.RunAsync(agent, work, nightly);
            if (cases.Contains("check")) await CheckBench.RunAsync(agent, inputs, work);
            if (cases.Contains("prune")) await PruneBench.RunAsync(agent, work, pruneFiles);
            if (cases.Contains("tree")) await TreeBench.RunAsync(agent, work, tree);
            if (cases.Contains("restore")) await RestoreBench.RunAsync(agent, inputs, work, tree);
            if (cases.Contains("s3")) await S3Bench.RunAsync(agent, inputs, work, tree, connections);
            if (cases.Contains("index")) await IndexBench.RunAsync(agent, work, blobs);
            if (cases.Contains("startup")) await StartupBench.RunAsync(agent, work);
            if (cases.Contains("pitr")) await PitrBench.RunAsync(agent, work, walMiB);
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"{problem}\nusage: Bench AGENT_BINARY [SIZE_MIB] [--case {string.Join('|', Cases)}]... [--scale N] [--nights N] " +
                                "[--updates PCT] [--rounds N] [--more] [--files N] [--tree-files N] [--tree-mib N] [--connections N] [--blobs N] [--wal-mib N]");
        return 2;
    }
}
