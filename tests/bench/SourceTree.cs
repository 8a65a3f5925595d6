namespace Bench;

/// <summary>
/// A generated directory tree of files with random (incompressible) content, 100 files a directory, sizes
/// spread uniformly from 0 to twice the average; made once, then changed in place as a case needs.
/// </summary>
public sealed class SourceTree
{
    private const int FilesPerDirectory = 100;
    private readonly List<string> _files = [];

    public string Root { get; }
    public long Bytes { get; private set; }
    public int Files => _files.Count;

    private SourceTree(string root) => Root = root;

    public static SourceTree Generate(string root, int files, long bytes, int seed = 11)
    {
        var tree = new SourceTree(root);
        var random = new Random(seed);
        var average = bytes / Math.Max(1, files);
        var buffer = new byte[(int)Math.Min(int.MaxValue, 2 * average + 1)];
        for (var i = 0; i < files; i++)
        {
            var dir = Path.Combine(root, $"d{i / (FilesPerDirectory * FilesPerDirectory):D3}", $"d{i / FilesPerDirectory % FilesPerDirectory:D2}");
            if (i % FilesPerDirectory == 0) Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, $"f{i:D7}.bin");
            var length = random.Next(buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            using (var file = File.Create(path)) file.Write(buffer, 0, length);
            tree._files.Add(path);
            tree.Bytes += length;
        }
        return tree;
    }

    /// <summary>Rewrites every n-th file (<paramref name="percent"/> of them) with new content of the same size.</summary>
    public int Change(double percent, int seed = 12)
    {
        var random = new Random(seed);
        var step = Math.Max(1, (int)Math.Round(100 / percent));
        var changed = 0;
        for (var i = step / 2; i < _files.Count; i += step)
        {
            var bytes = new byte[new FileInfo(_files[i]).Length];
            random.NextBytes(bytes);
            File.WriteAllBytes(_files[i], bytes);
            changed++;
        }
        return changed;
    }

    /// <summary>Files and bytes below <paramref name="directory"/>, to see that a restore wrote the whole tree.</summary>
    public static (int Files, long Bytes) Count(string directory)
    {
        var files = new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).ToList();
        return (files.Count, files.Sum(f => f.Length));
    }
}
