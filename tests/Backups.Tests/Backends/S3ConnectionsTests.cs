using System.Security.Cryptography;
using Backups.Tests.Errors;
using Backups.Tests.Faults;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Backends;

/// <summary>
/// `-o s3.connections=N` bounds the requests in flight to the store, counted by a proxy in front of s3rver that
/// delays every answer (so that whatever can overlap does): a backup (which loads the index files and snapshots
/// several at a time) and a restore of content spread over several packs.
/// </summary>
[Collection("s3")]
public sealed class S3ConnectionsTests(S3rverFixture s3) : IDisposable
{
    private const int Parts = 6;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public async Task Requests_in_flight_never_exceed_the_connections_option(int connections)
    {
        await using var proxy = new FaultProxy(s3, seed: connections);
        var agent = new Agent(proxy.NewRepository(), Repositories.Password, env: new Dictionary<string, string>(s3.Env));
        await agent.RunOkAsync("init");
        var tree = _dir.Combine("tree");
        // One backup per part: each part's content lands in a pack of its own, and each backup adds an index file
        // and a snapshot that the next command loads.
        for (var part = 0; part < Parts; part++)
        {
            var dir = Directory.CreateDirectory(Path.Combine(tree, $"part-{part}")).FullName;
            for (var i = 0; i < 2; i++) await File.WriteAllBytesAsync(Path.Combine(dir, $"file-{i}"), RandomNumberGenerator.GetBytes(32 << 10));
            if (part < Parts - 1) await agent.RunOkAsync("backup", tree);
        }
        string[] option = ["-o", $"s3.connections={connections}"];
        proxy.Rates = new FaultRates { Delay = 1 };

        proxy.CountInFlightAnew();
        await agent.RunOkAsync([.. option, "backup", tree]);
        var backup = proxy.MostInFlight;

        proxy.CountInFlightAnew();
        var target = _dir.Combine("restored");
        await agent.RunOkAsync([.. option, "restore", "latest", "--target", target]);
        var restore = proxy.MostInFlight;

        Assert.InRange(backup, 1, connections);
        Assert.InRange(restore, 1, connections);
        // The bound is used, not only obeyed: more than two at a time where more than two are allowed.
        if (connections > 2) Assert.True(Math.Max(backup, restore) > 2, $"at most {Math.Max(backup, restore)} requests at once with {connections} allowed");
        else Assert.Equal(connections, restore);
        await FileTrees.AssertSameAsync(tree, target + tree);
    }

    [Theory]
    [InlineData("s3.connection=4", "s3.connection")]
    [InlineData("s3.connections=0", "s3.connections")]
    [InlineData("s3.connections=many", "s3.connections")]
    [InlineData("=4", "names no option")]
    public async Task Unknown_options_and_bad_values_are_refused_before_the_store_is_reached(string option, string mentions)
    {
        // No store answers here: a refusal must come before any attempt to reach it.
        var agent = new Agent("s3:http://127.0.0.1:9/bucket/repo", Repositories.Password, env: new Dictionary<string, string>(s3.Env));
        Failure.AssertOneLine(await agent.RunAsync(["-o", option, "snapshots"]), Failure.Usage, mentions);
    }
}
