namespace Backups.Tests.Support;

/// <summary>tests/stack: the npm packages the tests run (s3rver, aws-ses-v2-local), installed by tests/run.sh.</summary>
public static class TestStack
{
    /// <summary>tests/stack of this checkout, found by walking up from the test binaries.</summary>
    public static string Directory { get; } = Find();

    /// <summary>A file of an installed package; a missing one fails loudly with the command that installs it.</summary>
    public static string Script(string package, params string[] path)
    {
        var script = Path.Combine([Directory, "node_modules", package, .. path]);
        if (!File.Exists(script))
            throw new InvalidOperationException($"{package} is not installed: run `npm install --no-audit --no-fund` in {Directory}");
        return script;
    }

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var stack = Path.Combine(dir.FullName, "tests", "stack");
            if (File.Exists(Path.Combine(stack, "package.json"))) return stack;
        }
        throw new InvalidOperationException($"no tests/stack/package.json above {AppContext.BaseDirectory}");
    }
}
