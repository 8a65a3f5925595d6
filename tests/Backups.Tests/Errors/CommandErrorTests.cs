using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Errors;

/// <summary>
/// Mistakes people make (wrong password, wrong repository, unknown snapshot or file, bad flag, failing source
/// command): each ends with its own exit code and one line on stderr, and leaves the repository as it was.
/// Written once, run on a local directory and on S3 (s3rver over HTTPS).
/// </summary>
public abstract class CommandErrorTests
{
    private const string WrongPassword = "not the password at all";

    protected abstract IRepositoryStore Store { get; }

    /// <summary>The directory holding the repository's stored files.</summary>
    protected abstract string FilesOf(RepositoryPair repo);

    [Fact]
    public async Task Wrong_password_is_refused()
    {
        var (repo, _) = await RepositoryWithSnapshotAsync();
        await FailsAndChangesNothingAsync(repo, ["snapshots"], Failure.WrongPassword, "wrong password",
            new Dictionary<string, string> { ["RESTIC_PASSWORD"] = WrongPassword });
    }

    [Fact]
    public async Task Missing_repository_is_reported()
    {
        var repo = Store.New();
        await FailsAndChangesNothingAsync(repo, ["snapshots"], Failure.RepositoryNotFound, "no repository");
        Assert.Empty(RepositoryFiles.Snapshot(FilesOf(repo)));
    }

    [Fact]
    public async Task Init_on_an_existing_repository_is_refused()
    {
        var (repo, _) = await RepositoryWithSnapshotAsync();
        await FailsAndChangesNothingAsync(repo, ["init"], Failure.AlreadyExists, "already exists");
        await repo.Restic.CheckAsync(readData: false);
    }

    [Fact]
    public async Task Init_with_an_empty_password_is_refused()
    {
        var repo = Store.New(password: "");
        await FailsAndChangesNothingAsync(repo, ["init"], Failure.Usage, "empty passwords are not allowed");
        Assert.Empty(RepositoryFiles.Snapshot(FilesOf(repo)));
    }

    [Theory]
    [InlineData("dump")]
    [InlineData("restore")]
    [InlineData("ls")]
    public async Task Unknown_snapshot_is_not_found(string command)
    {
        var (repo, _) = await RepositoryWithSnapshotAsync();
        var target = Path.Combine(Path.GetTempPath(), $"never-restored-{Guid.NewGuid():N}");
        string[] args = command switch
        {
            "dump" => ["dump", "deadbeef", "/data.bin"],
            "restore" => ["restore", "deadbeef", "--target", target],
            _ => [command, "deadbeef"],
        };
        await FailsAndChangesNothingAsync(repo, args, Failure.NotFound, "deadbeef");
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public async Task Unknown_file_in_dump_is_not_found()
    {
        var (repo, id) = await RepositoryWithSnapshotAsync();
        await FailsAndChangesNothingAsync(repo, ["dump", id, "/no-such-file.bin"], Failure.NotFound, "/no-such-file.bin");
    }

    [Fact]
    public async Task Unknown_flag_is_a_usage_error()
    {
        var (repo, _) = await RepositoryWithSnapshotAsync();
        await FailsAndChangesNothingAsync(repo, ["snapshots", "--no-such-flag"], Failure.Usage, "--no-such-flag");
    }

    [Fact]
    public async Task Failing_source_command_saves_no_snapshot()
    {
        var repo = Store.New();
        await repo.Agent.RunOkAsync("init");
        var r = await repo.Agent.RunAsync(
            ["backup", "--stdin-from-command", "--stdin-filename", "x", "--", "sh", "-c", "echo partial; exit 3"]);
        Failure.AssertOneLine(r, Failure.SourceFailed, "status 3");

        Assert.Empty((await repo.Restic.JsonAsync("snapshots")).EnumerateArray());
        // What was stored before the command's failure showed may stay (prune removes it), but no lock may.
        Assert.DoesNotContain(RepositoryFiles.Snapshot(FilesOf(repo)).Keys, f => f.StartsWith("locks/"));
        await repo.Restic.CheckAsync(readData: true);
    }

    /// <summary>A repository with one snapshot of a 1 MiB stdin stream named /data.bin; returns its id.</summary>
    private async Task<(RepositoryPair Repo, string SnapshotId)> RepositoryWithSnapshotAsync()
    {
        var repo = Store.New();
        await repo.Agent.RunOkAsync("init");
        using (var input = new TestData(TestData.Kind.Random, 1 << 20, seed: 5))
            (await repo.Agent.RunAsync(["backup", "--stdin", "--stdin-filename", "data.bin"], input)).EnsureSuccess("backup --stdin");
        var snapshot = Assert.Single((await repo.Restic.JsonAsync("snapshots")).EnumerateArray());
        // Else "the files did not change" would prove nothing.
        Assert.Contains(RepositoryFiles.Snapshot(FilesOf(repo)).Keys, f => f.StartsWith("config"));
        return (repo, snapshot.GetProperty("id").GetString()!);
    }

    private async Task FailsAndChangesNothingAsync(RepositoryPair repo, string[] args, int code, string mentions,
        Dictionary<string, string>? env = null)
    {
        var before = RepositoryFiles.Snapshot(FilesOf(repo));
        var r = await repo.Agent.RunAsync(args, extraEnv: env);
        Failure.AssertOneLine(r, code, mentions, WrongPassword);
        RepositoryFiles.AssertUnchanged(before, FilesOf(repo));
    }
}

public sealed class LocalCommandErrorTests : CommandErrorTests, IDisposable
{
    private readonly TempDir _dir = new();
    protected override IRepositoryStore Store { get; }
    public LocalCommandErrorTests() => Store = new LocalStore(_dir);
    protected override string FilesOf(RepositoryPair repo) => repo.Repository;
    public void Dispose() => _dir.Dispose();
}

[Collection("s3")]
public sealed class S3CommandErrorTests(S3rverFixture s3) : CommandErrorTests
{
    protected override IRepositoryStore Store { get; } = new S3Store(s3);
    protected override string FilesOf(RepositoryPair repo) => RepositoryFiles.S3Directory(s3, repo.Repository);
}
