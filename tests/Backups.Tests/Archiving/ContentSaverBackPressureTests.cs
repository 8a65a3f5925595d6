using Backups.Core;
using Backups.Core.Archiving;
using Backups.Core.Backends;
using Backups.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Archiving;

/// <summary>
/// A store that takes no packs holds the whole pipeline back: no more than the repository's pack uploads are ever
/// in flight, and the source is read no further than what the bounded stages hold (the packs being stored, the one
/// being filled, the chunks in the channels), however long the source.
/// </summary>
public sealed class ContentSaverBackPressureTests(ITestOutputHelper log) : IDisposable
{
    private const int MiB = 1 << 20;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_store_that_does_not_answer_stops_the_source_being_read_with_uploads_packs_in_flight(int uploads)
    {
        // Packs being stored and the one being filled (16 MiB each), plus chunks waiting in the channels
        // (at most 8 MiB each, about 1 MiB usually): far below the source's length.
        long bound = (uploads + 1) * 16L * MiB + 48 * MiB;
        var length = bound + 96 * MiB;
        var backend = new HeldBackend(new LocalBackend(_dir.Combine("repo")));
        await using var repo = await Repo.InitAsync(backend, Repositories.Password);
        repo.PackUploads = uploads;
        using var source = new TestData(TestData.Kind.Random, length, seed: uploads);
        await using var saver = new ContentSaver(repo, workers: 2, default);

        var queued = Task.Run(() => saver.QueueAsync(source, new SourceStats(), default));
        for (var i = 0; i < uploads; i++) await backend.CommitEntered.WaitAsync(TimeSpan.FromMinutes(2));

        // Wait until reading stops, or fail as soon as it passes the bound. No duration is asserted: a quiet
        // second only says when to look.
        var (last, quiet) = (-1L, 0);
        while (quiet < 10)
        {
            await Task.Delay(100);
            var now = source.Position;
            Assert.True(now <= bound, $"{now / MiB} MiB of the source read while {uploads} pack(s) waited for the store");
            Assert.False(queued.IsCompleted, "the whole source was read while the store took no pack");
            (last, quiet) = (now, now == last ? quiet + 1 : 0);
        }
        log.WriteLine($"uploads {uploads}: reading stopped at {last / (double)MiB:F1} MiB (bound {bound / MiB} MiB)");
        Assert.Equal(uploads, backend.InCommit);

        backend.Open();
        var (content, size) = await queued;
        var ids = await content;
        await saver.CompleteAsync();
        await repo.FlushAsync();
        Assert.Equal(length, size);
        Assert.Equal(uploads, backend.MostInCommit);
        Assert.True(backend.Committed >= length / (16 * MiB), $"{backend.Committed} packs");
        Assert.All(ids, id => Assert.True(repo.Index.Has(BlobType.Data, id)));
    }

    /// <summary>A local store whose pack commits wait until <see cref="Open"/>, counting how many wait at once.</summary>
    private sealed class HeldBackend(LocalBackend inner) : IBackend
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _inCommit, _most, _committed;

        public SemaphoreSlim CommitEntered { get; } = new(0);
        public int InCommit => Volatile.Read(ref _inCommit);
        public int MostInCommit => Volatile.Read(ref _most);
        public int Committed => Volatile.Read(ref _committed);

        public void Open() => _open.TrySetResult();

        public string Location => inner.Location;
        public Task SaveAsync(FileHandle file, ReadOnlyMemory<byte> data, CancellationToken ct = default) => inner.SaveAsync(file, data, ct);
        public async Task<IPendingFile> BeginAsync(FileKind kind, BlobType? packOf = null, CancellationToken ct = default) =>
            new HeldFile(this, await inner.BeginAsync(kind, packOf, ct));
        public Task<byte[]> LoadAsync(FileHandle file, long offset = 0, int length = 0, CancellationToken ct = default) => inner.LoadAsync(file, offset, length, ct);
        public Task<long?> StatAsync(FileHandle file, CancellationToken ct = default) => inner.StatAsync(file, ct);
        public IAsyncEnumerable<(string Name, long Size)> ListAsync(FileKind kind, CancellationToken ct = default) => inner.ListAsync(kind, ct);
        public Task RemoveAsync(FileHandle file, CancellationToken ct = default) => inner.RemoveAsync(file, ct);
        public Task CreateAsync(CancellationToken ct = default) => inner.CreateAsync(ct);
        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private sealed class HeldFile(HeldBackend backend, IPendingFile file) : IPendingFile
        {
            public long Length => file.Length;
            public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default) => file.WriteAsync(data, ct);

            public async Task CommitAsync(string name, CancellationToken ct = default)
            {
                var now = Interlocked.Increment(ref backend._inCommit);
                int most;
                while (now > (most = Volatile.Read(ref backend._most)) && Interlocked.CompareExchange(ref backend._most, now, most) != most) { }
                backend.CommitEntered.Release();
                try
                {
                    await backend._open.Task.WaitAsync(ct);
                    await file.CommitAsync(name, ct);
                    Interlocked.Increment(ref backend._committed);
                }
                finally
                {
                    Interlocked.Decrement(ref backend._inCommit);
                }
            }

            public ValueTask DisposeAsync() => file.DisposeAsync();
        }
    }
}
