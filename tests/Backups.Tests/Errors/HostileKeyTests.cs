using System.Security.Cryptography;
using Backups.Core.Backends;
using Backups.Core.Crypto;
using Backups.Core.Json;
using Backups.Core.Repositories;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Errors;

/// <summary>
/// Key files planted by someone who can write keys/: scrypt parameters that would take gigabytes or hours, a huge
/// file, more keys than restic tries. Opening never does that work: such a key is passed over (the good key still
/// opens the repository) or, when no key opens, named in one line. On S3, whose listing is sorted, so that the
/// planted keys ("0000...") are tried before the real one.
/// </summary>
[Collection("s3")]
public sealed class HostileKeyTests(S3rverFixture s3)
{
    [Fact]
    public async Task Keys_asking_for_too_much_are_passed_over_and_named_when_nothing_opens()
    {
        var repo = await RepositoryWithSnapshotAsync();
        string[] planted =
        [
            await PlantAsync(repo, 0, Hostile(1 << 30, 8, 1)),        // 1 TiB of memory
            await PlantAsync(repo, 1, Hostile(1 << 15, 8, 1 << 10)),  // 32 MiB lanes, a thousand of them: 32 GiB of work
            await PlantAsync(repo, 2, Hostile(16, 1 << 14, 1 << 15)), // r * p = 2^29: 64 GiB of lanes
            await PlantAsync(repo, 3, RandomNumberGenerator.GetBytes((int)Repository.MaxKeyFileSize + 1)),
        ];

        var list = await repo.Agent.RunAsync(["snapshots", "--json"]);
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Single(System.Text.Json.JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray());

        // A wrong password is still a wrong password (the real key was tried), with the planted key named beside it.
        var wrong = await repo.Agent.RunAsync(["snapshots"], extraEnv: new Dictionary<string, string> { ["RESTIC_PASSWORD"] = "not the password" });
        Failure.AssertOneLine(wrong, Failure.WrongPassword, "wrong password");
        Assert.Contains($"keys/{planted[0]}", wrong.Stderr);

        // Without the real key each planted one in turn is the error, named: not a wrong password, not hours of work.
        await RemoveAsync(repo, realKey: true, planted);
        foreach (var (key, i) in planted.Select((k, i) => (k, i)))
        {
            var r = await repo.Agent.RunAsync(["snapshots"]);
            Failure.AssertOneLine(r, Failure.Damaged, $"keys/{key}");
            Assert.Contains(i < 3 ? "scrypt" : "too big", r.Stderr);
            await RemoveAsync(repo, realKey: false, [key]);
        }
    }

    /// <summary>As restic: at most 20 key files are tried; keys that do not open, listed first, hide the right one.</summary>
    [Fact]
    public async Task At_most_twenty_keys_are_tried()
    {
        var repo = await RepositoryWithSnapshotAsync();
        // Cheap to derive, and their MAC fails as a key of another password does.
        for (var i = 0; i < Repository.MaxKeysTried - 1; i++) await PlantAsync(repo, i, Hostile(16, 1, 1));
        await repo.Agent.RunOkAsync("snapshots");

        await PlantAsync(repo, Repository.MaxKeysTried, Hostile(16, 1, 1));
        Failure.AssertOneLine(await repo.Agent.RunAsync(["snapshots"]), Failure.WrongPassword, $"first {Repository.MaxKeysTried} key files");
    }

    private static byte[] Hostile(int n, int r, int p) => RepositoryJson.Serialize(new KeyFile
    {
        Created = DateTimeOffset.UnixEpoch,
        N = n, R = r, P = p,
        Salt = RandomNumberGenerator.GetBytes(64),
        Data = RandomNumberGenerator.GetBytes(CryptoKey.Overhead + 100),
    }, RepositoryJson.Context.KeyFile);

    /// <summary>Stores a key file named "0000...{index}", listed before any real key (a random id).</summary>
    private async Task<string> PlantAsync(RepositoryPair repo, int index, byte[] bytes)
    {
        var name = index.ToString("x64");
        await using var backend = RepositoryLocation.Open(repo.Repository, s3.Options());
        await backend.SaveAsync(new FileHandle(FileKind.Key, name), bytes);
        return name;
    }

    /// <summary>Removes the given key files, or (<paramref name="realKey"/>) the one key that is not among them.</summary>
    private async Task RemoveAsync(RepositoryPair repo, bool realKey, IReadOnlyList<string> planted)
    {
        await using var backend = RepositoryLocation.Open(repo.Repository, s3.Options());
        var keys = new List<string>();
        await foreach (var (name, _) in backend.ListAsync(FileKind.Key)) keys.Add(name);
        var remove = realKey ? [Assert.Single(keys, k => !planted.Contains(k))] : planted;
        foreach (var name in remove) await backend.RemoveAsync(new FileHandle(FileKind.Key, name));
    }

    private async Task<RepositoryPair> RepositoryWithSnapshotAsync()
    {
        var repo = new S3Store(s3).New();
        await repo.Agent.RunOkAsync("init");
        using var input = new TestData(TestData.Kind.Text, 64 << 10, seed: 3);
        (await repo.Agent.RunAsync(["backup", "--stdin", "--stdin-filename", "data.txt"], input)).EnsureSuccess("backup --stdin");
        return repo;
    }
}
