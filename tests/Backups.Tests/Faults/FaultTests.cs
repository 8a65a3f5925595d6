using System.Security.Cryptography;
using System.Text.Json;
using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Faults;

/// <summary>
/// The agent through a seeded fault proxy in front of the real s3rver: flaky answers are retried, a bit flipped on
/// the way is downloaded again instead of being called damage, and an outage longer than the old 10 s of retries
/// is ridden out. What was stored is then checked directly by restic.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class FaultTests(S3rverFixture s3) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A fresh repository, initialized through the proxy (before any fault is asked for).</summary>
    private async Task<(string Repository, Agent Agent)> InitAsync(FaultProxy proxy)
    {
        var repository = proxy.NewRepository();
        var agent = new Agent(repository, Repositories.Password, env: new Dictionary<string, string>(s3.Env));
        await agent.RunOkAsync("init");
        return (repository, agent);
    }

    private Restic ResticFor(FaultProxy proxy, string repository) => new(proxy.Direct(repository), Repositories.Password, s3.CaCertPath, new Dictionary<string, string>(s3.Env));

    [Fact]
    public async Task Backups_dumps_and_restores_succeed_through_flaky_storage()
    {
        await using var proxy = new FaultProxy(s3, seed: 1212);
        var (repository, agent) = await InitAsync(proxy);
        var tree = MakeTree(_dir.Combine("tree"), files: 2000, seed: 7);
        proxy.Rates = new FaultRates { ServerError = 0.05, ErrorAfterWork = 0.05, Reset = 0.05, Delay = 0.05, Truncate = 0.03, BitFlip = 0.02 };

        const long size = 6 << 20;
        using (var data = new TestData(TestData.Kind.Random, size, seed: 21))
            (await agent.RunAsync(["backup", "--stdin", "--stdin-filename", "stream.bin"], data)).EnsureSuccess("backup --stdin");
        await agent.RunOkAsync("backup", tree);

        var dumped = new HashingStream();
        (await agent.RunAsync(["dump", "latest", "/stream.bin", "--path", "/stream.bin"], stdout: dumped)).EnsureSuccess("dump");
        Assert.Equal(TestData.Sha256(TestData.Kind.Random, size, seed: 21), dumped.Sha256());
        var target = _dir.Combine("restored");
        await agent.RunOkAsync("restore", "latest", "--path", tree, "--target", target);
        AssertSameTree(tree, target + tree);

        Assert.True(proxy.InjectedTotal > 10, $"too few faults were injected to prove anything: {Describe(proxy)}");
        proxy.Rates = FaultRates.None;
        await ResticFor(proxy, repository).CheckAsync(readData: true);
    }

    [Fact]
    public async Task A_bit_flipped_on_the_way_is_downloaded_again_not_reported_as_damage()
    {
        await using var proxy = new FaultProxy(s3, seed: 3);
        var (repository, agent) = await InitAsync(proxy);
        const long size = 3 << 20;
        using (var data = new TestData(TestData.Kind.Random, size, seed: 22))
            (await agent.RunAsync(["backup", "--stdin", "--stdin-filename", "one.bin"], data)).EnsureSuccess("backup --stdin");

        proxy.FlipNextPackReads(1, minLength: 64 << 10);
        var dumped = new HashingStream();
        (await agent.RunAsync(["dump", "latest", "/one.bin"], stdout: dumped)).EnsureSuccess("dump with a flipped bit on the way");
        Assert.Equal(TestData.Sha256(TestData.Kind.Random, size, seed: 22), dumped.Sha256());

        proxy.FlipNextPackReads(1, minLength: 64 << 10);
        var check = await agent.RunAsync(["check", "--read-data", "--json"]);
        Assert.True(check.ExitCode == 0, $"check called a flip on the way damage ({check.ExitCode}): {check.StdoutText} {check.Stderr}");
        var report = JsonDocument.Parse(check.Stdout).RootElement;
        Assert.False(report.GetProperty("damaged").GetBoolean());
        Assert.Equal(1, report.GetProperty("packs_damaged_in_transit").GetInt32());
        Assert.Equal(2, proxy.Injected.GetValueOrDefault("BitFlip"));
    }

    /// <summary>A minute of 503s (six times the old retry budget of about 10 s), starting at the first pack upload and
    /// at the first pack read.</summary>
    [Fact]
    public async Task An_outage_during_a_backup_and_during_a_restore_is_ridden_out()
    {
        var outage = TimeSpan.FromSeconds(60);
        await using var proxy = new FaultProxy(s3, seed: 5);
        var (repository, agent) = await InitAsync(proxy);
        var tree = MakeTree(_dir.Combine("tree"), files: 40, seed: 8);

        proxy.OutageOnFirst("PUT", "/data/", outage);
        await agent.RunOkAsync("backup", tree);
        Assert.True(proxy.Injected.GetValueOrDefault("Outage") > 0, $"the outage did not happen: {Describe(proxy)}");

        proxy.OutageOnFirst("GET", "/data/", outage);
        var target = _dir.Combine("restored");
        await agent.RunOkAsync("restore", "latest", "--target", target);
        AssertSameTree(tree, target + tree);
        Assert.True(proxy.Injected.GetValueOrDefault("Outage") > 2, $"the second outage did not happen: {Describe(proxy)}");
        await ResticFor(proxy, repository).CheckAsync(readData: true);
    }

    private static string Describe(FaultProxy proxy) => string.Join(", ", proxy.Injected.Select(f => $"{f.Key} {f.Value}"));

    /// <summary>A tree of small files of seeded random content in a few directories.</summary>
    internal static string MakeTree(string root, int files, int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < files; i++)
        {
            var dir = Path.Combine(root, $"d{i % 7}", $"e{i % 3}");
            Directory.CreateDirectory(dir);
            var content = new byte[random.Next(0, 24 << 10)];
            random.NextBytes(content);
            File.WriteAllBytes(Path.Combine(dir, $"f{i}.bin"), content);
        }
        return root;
    }

    internal static void AssertSameTree(string expected, string actual)
    {
        Assert.Equal(Hashes(expected), Hashes(actual));
    }

    private static SortedDictionary<string, string> Hashes(string root) => new(
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f)))),
        StringComparer.Ordinal);
}
