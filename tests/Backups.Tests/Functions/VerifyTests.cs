using Backups.Functions.Contracts;
using Backups.Functions.Handlers.Verify;
using Backups.Functions.Runtime;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Functions;

/// <summary>A restic-made repository of several packs (three sources of 6 MB each) for the Verify tests.</summary>
public sealed class VerifyRepository : IAsyncLifetime
{
    public SnapshotHistory History { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var now = DateTimeOffset.UtcNow;
        History = await SnapshotHistory.CreateAsync(
            ("app-db", now.AddHours(-3), 6_000_000), ("cache", now.AddHours(-2), 6_000_001), ("files", now.AddHours(-1), 6_000_002));
    }

    public Task DisposeAsync()
    {
        History.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class VerifyTests(VerifyRepository repository) : IClassFixture<VerifyRepository>
{
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static Task<VerifyResult> VerifyAsync(string repo, VerifyInput input, TimeProvider? clock = null, DateTimeOffset? deadline = null)
    {
        var variables = new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = repo, ["RESTIC_PASSWORD"] = Repositories.Password };
        var environment = new FunctionEnvironment(variables, clock);
        var context = SnapshotHistory.Invocation();
        return new VerifyFunction(environment).VerifyAsync(input, deadline == null ? context : new InvocationContext
        {
            RequestId = context.RequestId, Deadline = deadline.Value, CancellationToken = CancellationToken.None,
        });
    }

    private static int DataPacks(string repo) => Directory.GetFiles(Path.Combine(repo, "data"), "*", SearchOption.AllDirectories).Length;

    [Fact]
    public async Task A_deep_verification_reads_every_pack_of_a_healthy_repository()
    {
        var result = await VerifyAsync(repository.History.Repository, new VerifyInput { Deep = true });

        Assert.Equal(DataPacks(repository.History.Repository), result.Packs);
        Assert.Equal(result.Packs, result.PacksRead);
        Assert.Equal(0, result.PacksLeft);
        Assert.Equal(3, result.Snapshots);
        Assert.Equal(Directory.GetFiles(Path.Combine(repository.History.Repository, "data"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length), result.BytesRead);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public async Task The_nightly_share_rotates_so_that_a_cycle_reads_every_pack_once()
    {
        var day = new DateTimeOffset(2026, 11, 1, 3, 0, 0, TimeSpan.Zero);
        var read = 0;
        for (var night = 0; night < 4; night++)
            read += (await VerifyAsync(repository.History.Repository, new VerifyInput { CycleDays = 4 }, new FixedClock(day.AddDays(night)))).PacksRead;
        Assert.Equal(DataPacks(repository.History.Repository), read);
    }

    [Fact]
    public async Task A_night_with_no_time_left_reads_no_pack_and_says_how_many_wait()
    {
        var result = await VerifyAsync(repository.History.Repository, new VerifyInput { Deep = true }, deadline: DateTimeOffset.UtcNow.AddSeconds(30));

        Assert.Equal(0, result.PacksRead);
        Assert.Equal(result.Packs, result.PacksLeft);
    }

    [Fact]
    public async Task Damage_fails_with_a_catchable_name_and_names_the_pack()
    {
        using var copy = new TempDir();
        var repo = copy.Combine("repo");
        await Processes.RunAsync("cp", ["-a", repository.History.Repository, repo]);
        // The largest pack holds file data (trees are small): only reading it finds the damage.
        var pack = Directory.GetFiles(Path.Combine(repo, "data"), "*", SearchOption.AllDirectories).MaxBy(f => new FileInfo(f).Length)!;
        var bytes = await File.ReadAllBytesAsync(pack);
        bytes[bytes.Length / 3] ^= 0x10;
        await File.WriteAllBytesAsync(pack, bytes);

        var e = await Assert.ThrowsAsync<FunctionFailure>(() => VerifyAsync(repo, new VerifyInput { Deep = true }));
        Assert.Equal("Backups.RepositoryDamaged", e.ErrorType);
        Assert.Contains(Path.GetFileName(pack), e.Message);
        // The structure alone is sound: a verification that reads no data passes.
        Assert.Equal(0, (await VerifyAsync(repo, new VerifyInput { Slice = 1, Slices = 1 }, deadline: DateTimeOffset.UtcNow.AddSeconds(30))).PacksRead);
    }

    private static Task<VerifyPlan> PlanAsync(string repo, VerifyPlanInput input, long sliceBytes, TimeProvider? clock = null)
    {
        var variables = new Dictionary<string, string>
        {
            ["RESTIC_REPOSITORY"] = repo, ["RESTIC_PASSWORD"] = Repositories.Password,
            [VerifySettings.SliceBytesVariable] = sliceBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [VerifySettings.MaxConcurrencyVariable] = "3",
        };
        return new VerifyPlanFunction(new FunctionEnvironment(variables, clock)).PlanAsync(input, SnapshotHistory.Invocation());
    }

    private static long DataBytes(string repo) =>
        Directory.GetFiles(Path.Combine(repo, "data"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    [Fact]
    public async Task A_plan_splits_the_share_by_bytes_and_its_slices_merge_into_one_result_that_read_every_pack()
    {
        var repo = repository.History.Repository;
        var bytes = DataBytes(repo);

        var plan = await PlanAsync(repo, new VerifyPlanInput { Deep = true }, sliceBytes: bytes / 3 + 1);

        Assert.Equal(3, plan.Parts.Count);
        Assert.Equal((bytes, DataPacks(repo), 3, 3), (plan.BytesSelected, plan.PacksSelected, plan.Snapshots, plan.MaxConcurrency));
        var results = new List<VerifyResult>();
        foreach (var part in plan.Parts)
            results.Add(await VerifyAsync(repo, new VerifyInput { Slice = part.Slice, Slices = part.Slices, DataOnly = true }));
        // A slice reads data only: the plan checked the snapshots and trees.
        Assert.All(results, r => Assert.Equal(0, r.Snapshots));

        var merged = await VerifyMergeFunction.MergeAsync(new VerifyMergeInput { Plan = plan with { Results = results } }, SnapshotHistory.Invocation());
        Assert.Equal((DataPacks(repo), DataPacks(repo), 0, bytes, 3), (merged.PacksSelected, merged.PacksRead, merged.PacksLeft, merged.BytesRead, merged.Snapshots));
        Assert.Equal(["slice 1 of 3", "slice 2 of 3", "slice 3 of 3"], merged.Slices!.Select(s => s.Selection));
        Assert.Equal(results.Select(r => r.PacksRead), merged.Slices!.Select(s => s.PacksRead));
        await Assert.ThrowsAsync<InvalidInputException>(() =>
            VerifyMergeFunction.MergeAsync(new VerifyMergeInput { Plan = plan with { Results = results[..2] } }, SnapshotHistory.Invocation()));
    }

    [Fact]
    public async Task A_small_repository_is_one_slice_and_a_nights_rotation_is_split_within_its_day()
    {
        var repo = repository.History.Repository;
        var day = new DateTimeOffset(2026, 11, 3, 3, 0, 0, TimeSpan.Zero);
        var rotation = Backups.Core.Checking.PackSelection.Rotation(DateOnly.FromDateTime(day.UtcDateTime), 4);

        var small = await PlanAsync(repo, new VerifyPlanInput { CycleDays = 4 }, sliceBytes: DataBytes(repo), new FixedClock(day));
        Assert.Equal([new VerifyPart(rotation.Split(1)[0].Slice, 4)], small.Parts);
        Assert.Equal(rotation.Description, small.Selection);

        var split = await PlanAsync(repo, new VerifyPlanInput { CycleDays = 4 }, sliceBytes: 1, new FixedClock(day));
        // One byte per slice would be millions of branches: the plan stops at the most a Map state's results can carry,
        // or, for a share of fewer bytes, one slice per byte.
        Assert.Equal(Math.Clamp(split.BytesSelected, 1, VerifyPlanFunction.MaxSlices), split.Parts.Count);
        Assert.All(split.Parts, p => Assert.Equal(4 * split.Parts.Count, p.Slices));
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(4, 3)]
    [InlineData(2, null)]
    public async Task A_slice_out_of_range_is_invalid_input_naming_the_field(int slice, int? slices)
    {
        var e = await Assert.ThrowsAsync<InvalidInputException>(() => VerifyAsync(repository.History.Repository, new VerifyInput { Slice = slice, Slices = slices }));
        Assert.StartsWith("invalid input at $.slice", e.Message);
    }
}
