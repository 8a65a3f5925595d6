using System.Security.Cryptography;
using Backups.Core.Backends;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Backends;

/// <summary>
/// What every <see cref="IBackend"/> must do, written once; each backend runs it through a subclass.
/// xunit makes a new instance (so a fresh, empty repository) for every test.
/// </summary>
public abstract class BackendContract : IAsyncLifetime
{
    protected IBackend Backend { get; private set; } = null!;

    protected abstract IBackend OpenEmptyRepository();

    public async Task InitializeAsync()
    {
        Backend = OpenEmptyRepository();
        await Backend.CreateAsync();
    }

    public virtual async Task DisposeAsync() => await Backend.DisposeAsync();

    internal static byte[] RandomBytes(int count) => RandomNumberGenerator.GetBytes(count);

    internal static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5 << 20)]
    [InlineData(17 << 20)]
    public async Task Saves_and_loads_exact_bytes(int size)
    {
        var data = RandomBytes(size);
        var file = new FileHandle(FileKind.Pack, NewId());
        await Backend.SaveAsync(file, data);
        Assert.Equal(data, await Backend.LoadAsync(file));
        Assert.Equal(size, await Backend.StatAsync(file));
    }

    [Fact]
    public async Task Config_lives_at_the_root()
    {
        var data = RandomBytes(155);
        await Backend.SaveAsync(FileHandle.Config, data);
        Assert.Equal(data, await Backend.LoadAsync(FileHandle.Config));
        Assert.Equal([("config", 155L)], await ToListAsync(Backend.ListAsync(FileKind.Config)));
    }

    [Fact]
    public async Task Loads_ranges()
    {
        var data = RandomBytes(1 << 20);
        var file = new FileHandle(FileKind.Pack, NewId());
        await Backend.SaveAsync(file, data);
        foreach (var (offset, length) in new[] { (0, 1), (0, 1 << 20), (1, 100), (12345, 54321), ((1 << 20) - 1, 1) })
            Assert.Equal(data[offset..(offset + length)], await Backend.LoadAsync(file, offset, length));
        // length 0: everything from the offset on
        Assert.Equal(data[1000..], await Backend.LoadAsync(file, 1000));
    }

    [Fact]
    public async Task Loads_ranges_into_a_callers_buffer()
    {
        var data = RandomBytes(1 << 20);
        var file = new FileHandle(FileKind.Pack, NewId());
        await Backend.SaveAsync(file, data);
        var buffer = new byte[(1 << 20) + 7];
        foreach (var (offset, length) in new[] { (0, 1 << 20), (12345, 54321), ((1 << 20) - 1, 1) })
        {
            await Backend.LoadIntoAsync(file, offset, buffer.AsMemory(7, length));
            Assert.Equal(data[offset..(offset + length)], buffer[7..(7 + length)]);
        }
        await Assert.ThrowsAsync<EndOfStreamException>(() => Backend.LoadIntoAsync(file, (1 << 20) - 10, buffer.AsMemory(0, 20)));
        await Assert.ThrowsAsync<FileNotFoundInBackendException>(() => Backend.LoadIntoAsync(new FileHandle(FileKind.Pack, NewId()), 0, buffer.AsMemory(0, 1)));
    }

    [Fact]
    public async Task Range_beyond_the_end_fails()
    {
        var file = new FileHandle(FileKind.Snapshot, NewId());
        await Backend.SaveAsync(file, RandomBytes(100));
        await Assert.ThrowsAsync<EndOfStreamException>(() => Backend.LoadAsync(file, 90, 20));
        await Assert.ThrowsAsync<EndOfStreamException>(() => Backend.LoadAsync(file, 200, 1));
    }

    [Fact]
    public async Task Missing_files()
    {
        var file = new FileHandle(FileKind.Index, NewId());
        Assert.Null(await Backend.StatAsync(file));
        var e = await Assert.ThrowsAsync<FileNotFoundInBackendException>(() => Backend.LoadAsync(file));
        Assert.Equal(file.ToString(), e.File);
        await Assert.ThrowsAsync<FileNotFoundInBackendException>(() => Backend.LoadAsync(file, 10, 10));
        Assert.Empty(await ToListAsync(Backend.ListAsync(FileKind.Index)));
    }

    [Fact]
    public async Task Overwrites_a_file()
    {
        var file = new FileHandle(FileKind.Lock, NewId());
        await Backend.SaveAsync(file, RandomBytes(10));
        var second = RandomBytes(20);
        await Backend.SaveAsync(file, second);
        Assert.Equal(second, await Backend.LoadAsync(file));
    }

    [Fact]
    public async Task Removes_files()
    {
        var kept = new FileHandle(FileKind.Pack, NewId());
        var removed = new FileHandle(FileKind.Pack, NewId());
        await Backend.SaveAsync(kept, RandomBytes(10));
        await Backend.SaveAsync(removed, RandomBytes(10));
        await Backend.RemoveAsync(removed);
        await Backend.RemoveAsync(new FileHandle(FileKind.Pack, NewId())); // absent: no error, as restic expects
        Assert.Null(await Backend.StatAsync(removed));
        await Assert.ThrowsAsync<FileNotFoundInBackendException>(() => Backend.LoadAsync(removed));
        Assert.Equal([kept.Name], (await ToListAsync(Backend.ListAsync(FileKind.Pack))).Select(f => f.Name));
    }

    /// <summary>More than one listing page (S3 gives 1000 keys a page), packs spread over data/xx/.</summary>
    [Fact]
    public async Task Lists_every_file_of_a_kind()
    {
        var packs = Enumerable.Range(0, 1100).ToDictionary(_ => NewId(), i => (long)(i % 7));
        var keys = Enumerable.Range(0, 3).ToDictionary(_ => NewId(), i => 100L + i);
        var snapshots = Enumerable.Range(0, 2).ToDictionary(_ => NewId(), i => 200L + i);
        var files = packs.Select(p => (new FileHandle(FileKind.Pack, p.Key), p.Value))
            .Concat(keys.Select(k => (new FileHandle(FileKind.Key, k.Key), k.Value)))
            .Concat(snapshots.Select(s => (new FileHandle(FileKind.Snapshot, s.Key), s.Value)))
            .Append((FileHandle.Config, 5L));
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (f, ct) => await Backend.SaveAsync(f.Item1, RandomBytes((int)f.Item2), ct));

        Assert.Equal(packs, (await ToListAsync(Backend.ListAsync(FileKind.Pack))).ToDictionary(f => f.Name, f => f.Size));
        Assert.Equal(keys, (await ToListAsync(Backend.ListAsync(FileKind.Key))).ToDictionary(f => f.Name, f => f.Size));
        Assert.Equal(snapshots, (await ToListAsync(Backend.ListAsync(FileKind.Snapshot))).ToDictionary(f => f.Name, f => f.Size));
        Assert.Empty(await ToListAsync(Backend.ListAsync(FileKind.Lock)));
    }

    [Fact]
    public async Task Create_is_idempotent()
    {
        var file = new FileHandle(FileKind.Key, NewId());
        await Backend.SaveAsync(file, RandomBytes(3));
        await Backend.CreateAsync();
        Assert.Equal(3, await Backend.StatAsync(file));
    }

    internal static async Task<List<(string Name, long Size)>> ToListAsync(IAsyncEnumerable<(string Name, long Size)> items)
    {
        var list = new List<(string, long)>();
        await foreach (var item in items) list.Add(item);
        return list;
    }
}

public sealed class LocalBackendContract : BackendContract
{
    private readonly TempDir _dir = new();

    protected override IBackend OpenEmptyRepository() => new LocalBackend(_dir.Combine("repo"));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _dir.Dispose();
    }
}

[Collection("s3")]
public sealed class S3BackendContract(S3rverFixture s3) : BackendContract
{
    protected override IBackend OpenEmptyRepository() => RepositoryLocation.Open(s3.NewRepository(), s3.Options());
}
