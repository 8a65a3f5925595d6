namespace Backups.Tests.Support;

/// <summary>A fresh, empty repository location and the two programs pointed at it.</summary>
public sealed record RepositoryPair(Agent Agent, Restic Restic, string Repository);

/// <summary>Where test repositories live: a local directory or a bucket prefix on s3rver over HTTPS.</summary>
public interface IRepositoryStore
{
    RepositoryPair New(string password = Repositories.Password);
}

public static class Repositories
{
    public const string Password = "correct horse battery staple";

    /// <summary>What a local repository's packs take on disk: the bytes in its data/ folder.</summary>
    public static long DataBytes(string repository) =>
        new DirectoryInfo(Path.Combine(repository, "data")).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
}

public sealed class LocalStore(TempDir dir) : IRepositoryStore
{
    private int _count;

    public RepositoryPair New(string password = Repositories.Password)
    {
        var path = dir.Combine($"repo{Interlocked.Increment(ref _count)}");
        return new RepositoryPair(new Agent(path, password), new Restic(path, password), path);
    }
}

public sealed class S3Store(S3rverFixture s3) : IRepositoryStore
{
    public RepositoryPair New(string password = Repositories.Password)
    {
        var repo = s3.NewRepository();
        var env = new Dictionary<string, string>(s3.Env);
        return new RepositoryPair(new Agent(repo, password, s3.CaCertPath, env), new Restic(repo, password, s3.CaCertPath, env), repo);
    }
}
