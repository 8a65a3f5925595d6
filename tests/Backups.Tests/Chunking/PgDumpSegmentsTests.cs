using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Backups.Core.Backends;
using Backups.Core.Chunking;
using Backups.Core.Repositories;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Chunking;

/// <summary>Real pg_dump archives of a small shop database, before and after a night that appended rows to one table.</summary>
public sealed class ShopDumps : IAsyncLifetime
{
    public const string Database = "shop";
    public PostgresServer Postgres { get; private set; } = null!;
    /// <summary>`pg_dump -Fc` (gzip), night 1 and night 2.</summary>
    public byte[] Custom { get; private set; } = [];
    public byte[] CustomNight2 { get; private set; } = [];
    /// <summary>`pg_dump -Fc -Z0`.</summary>
    public byte[] Uncompressed { get; private set; } = [];
    public byte[] Plain { get; private set; } = [];
    public byte[] Tar { get; private set; } = [];
    /// <summary>The dump ids of the archive's data entries (tables and large objects), in archive order, as pg_restore lists them.</summary>
    public List<int> DataEntries { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        await Postgres.CreateDatabaseAsync(Database);
        // events: incompressible bodies, the first table in the archive; notes: compressible text; a large object.
        // Seeded, so that the archives and where chunks are cut in them are the same in every run.
        await Postgres.ExecAsync(Database, """
            SELECT setseed(0.25);
            CREATE TABLE events (id bigserial PRIMARY KEY, body bytea NOT NULL);
            INSERT INTO events (body) SELECT sha512(float8send(random())) || sha512(float8send(random())) || sha512(float8send(random()))
                FROM generate_series(1, 12000);
            CREATE TABLE notes (id int PRIMARY KEY, note text NOT NULL);
            INSERT INTO notes SELECT g, 'note ' || g || ' for order ' || (g * 7919 % 100003) || repeat(' lorem ipsum', 5) FROM generate_series(1, 30000) g;
            CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
            INSERT INTO users SELECT g, 'user' || g FROM generate_series(1, 100) g;
            SELECT lo_from_bytea(0, convert_to(repeat('large object ', 1000), 'UTF8'));
            """);
        Custom = await DumpAsync("--format=custom");
        Uncompressed = await DumpAsync("--format=custom", "--compress=0");
        Plain = await DumpAsync("--format=plain");
        Tar = await DumpAsync("--format=tar");
        var listing = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(listing, Custom);
            var toc = (await Processes.RunAsync(PostgresServer.Tool("pg_restore"), ["-l", listing])).EnsureSuccess("pg_restore -l").StdoutText;
            DataEntries = [.. Regex.Matches(toc, @"^(\d+); \d+ \d+ (?:TABLE DATA|BLOBS) ", RegexOptions.Multiline).Select(m => int.Parse(m.Groups[1].Value))];
        }
        finally
        {
            File.Delete(listing);
        }
        await Postgres.ExecAsync(Database, """
            SELECT setseed(0.5);
            INSERT INTO events (body) SELECT sha512(float8send(random())) || sha512(float8send(random())) || sha512(float8send(random()))
                FROM generate_series(1, 400);
            """);
        CustomNight2 = await DumpAsync("--format=custom");
    }

    private async Task<byte[]> DumpAsync(params string[] args)
    {
        using var output = new MemoryStream();
        (await Processes.RunAsync(PostgresServer.Tool("pg_dump"), [.. args, "--no-password", $"--dbname={Database}"], Postgres.ClientEnvironment, stdout: output))
            .EnsureSuccess("pg_dump");
        return output.ToArray();
    }

    public Task DisposeAsync() => Postgres.DisposeAsync().AsTask();
}

/// <summary>Where pg_dump archives are cut, and that a stream is never changed by being cut.</summary>
public sealed class PgDumpSegmentsTests(ShopDumps dumps) : IClassFixture<ShopDumps>, IDisposable
{
    private static readonly Polynomial TestPol = new(0x3DA3358B4DC173);
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_test_database_has_three_tables_and_a_large_object_with_data() =>
        Assert.Equal(4, dumps.DataEntries.Count);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Segments_begin_where_each_tables_data_begins(bool compressed)
    {
        var archive = compressed ? dumps.Custom : dumps.Uncompressed;
        var ends = await SegmentEndsAsync(archive, _ => 1 << 20);

        Assert.Equal(archive.Length, ends[^1]);
        // Every segment after the first (header and table of contents) is one data block: its type byte (1 for a
        // table, 3 for large objects) and its entry's dump id, in the order pg_restore lists them.
        var blocks = ends[..^1].Select(at => (Type: archive[at], Id: ArchiveInt(archive, at + 1))).ToList();
        Assert.All(blocks, b => Assert.True(b.Type is 1 or 3, $"block type {b.Type}"));
        Assert.Equal(dumps.DataEntries, blocks.Select(b => b.Id));
        Assert.Contains(blocks, b => b.Type == 3);
    }

    [Fact]
    public async Task Reads_of_any_size_find_the_same_segments()
    {
        var whole = await SegmentEndsAsync(dumps.Uncompressed, _ => 1 << 20);
        var random = new Random(7);
        Assert.Equal(whole, await SegmentEndsAsync(dumps.Uncompressed, _ => random.Next(1, 3000)));
        Assert.Equal(whole, await SegmentEndsAsync(dumps.Uncompressed, _ => 1));
    }

    public static TheoryData<string> OtherContent => ["plain", "tar", "random", "empty", "magic then garbage", "future version", "truncated archive"];

    [Theory]
    [MemberData(nameof(OtherContent))]
    public async Task Other_content_passes_through_unchanged(string kind)
    {
        var random = new Random(3);
        byte[] input = kind switch
        {
            "plain" => dumps.Plain,
            "tar" => dumps.Tar,
            "random" => RandomBytes(300_000, random),
            "empty" => [],
            "magic then garbage" => [.. "PGDMP"u8, .. RandomBytes(300_000, random)],
            "future version" => [.. dumps.Uncompressed[..6], 99, .. dumps.Uncompressed[7..]],
            _ => dumps.Uncompressed[..(dumps.Uncompressed.Length / 2)],
        };
        await using var segments = await PgDumpSegments.OpenAsync(new MemoryStream(input), default);
        var output = new MemoryStream();
        var buffer = new byte[4096];
        var ends = 0;
        while (await segments.ReadAsync(buffer.AsMemory(0, random.Next(1, buffer.Length))) is var n and > 0)
        {
            output.Write(buffer, 0, n);
            if (segments.AtSegmentEnd) ends++;
        }

        Assert.Equal(input, output.ToArray());
        if (kind == "truncated archive") Assert.InRange(ends, 1, dumps.DataEntries.Count);
        else Assert.Equal(0, ends);
        Assert.Equal(kind is "magic then garbage" or "future version" or "truncated archive" ? ChunkSizes.Fine : ChunkSizes.Restic, segments.ChunkSizes);
    }

    [Fact]
    public async Task Each_segment_is_chunked_as_a_stream_of_its_own()
    {
        var archive = dumps.Uncompressed;
        var ends = await SegmentEndsAsync(archive, _ => 1 << 20);

        var expected = new List<byte[]>();
        var start = 0;
        foreach (var end in ends)
        {
            expected.AddRange(await ChunksAsync(new MemoryStream(archive[start..end]), ChunkSizes.Fine));
            start = end;
        }
        var actual = await ChunksAsync(await PgDumpSegments.OpenAsync(new MemoryStream(archive), default), ChunkSizes.Fine);

        Assert.True(expected.Count > ends.Count, "some segment is longer than one chunk");
        Assert.Equal(expected, actual);
    }

    /// <summary>
    /// The night's change (rows appended to the first table) and the archive's new start time cost restic the
    /// chunk that holds the header and the start of the first table and the chunk that spans the table's old
    /// end; cut at the archive's parts, in finer chunks, the change costs us the table of contents and the
    /// table's new end. What is restored is byte for byte night 2's archive and pg_restore loads it.
    /// </summary>
    [Fact]
    public async Task A_night_that_appends_rows_to_one_table_stores_well_under_half_of_what_restic_stores()
    {
        // One known chunker polynomial for both, so that without the cuts both would store the very same chunks, and
        // so that the comparison is not a matter of where a random one happens to cut: over 65 random polynomials
        // these dumps gave ratios from 0.04 to 0.62.
        var (ours, restic) = await TwinRepositoriesAsync("");

        async Task<long> NightAsync(Func<Stream, Task> backup, string repository, byte[] dump)
        {
            var before = Repositories.DataBytes(repository);
            await backup(new MemoryStream(dump));
            return Repositories.DataBytes(repository) - before;
        }
        Task OursAsync(Stream dump) => ours.RunAsync(["backup", "--stdin", "--stdin-filename", "shop.dump", "--pg-dump-segments"], dump).ContinueWith(t => t.Result.EnsureSuccess("backup"));
        Task ResticAsync(Stream dump) => restic.RunAsync(["backup", "--stdin", "--stdin-filename", "shop.dump"], dump).ContinueWith(t => t.Result.EnsureSuccess("restic backup"));
        await NightAsync(OursAsync, ours.Repository, dumps.Custom);
        await NightAsync(ResticAsync, restic.Repository, dumps.Custom);

        var ourGrowth = await NightAsync(OursAsync, ours.Repository, dumps.CustomNight2);
        var resticGrowth = await NightAsync(ResticAsync, restic.Repository, dumps.CustomNight2);

        Assert.True(ourGrowth < resticGrowth * 0.5, $"night 2 added {ourGrowth} bytes to ours, {resticGrowth} to restic's");
        var ourRestic = new Restic(ours.Repository, Repositories.Password);
        await ourRestic.CheckAsync(readData: true);
        var restored = Path.Combine(_dir.Path, "restored.dump");
        await using (var file = File.Create(restored))
            (await ourRestic.RunAsync(["dump", "latest", "/shop.dump"], stdout: file)).EnsureSuccess("restic dump");
        Assert.Equal(dumps.CustomNight2, await File.ReadAllBytesAsync(restored));
        await dumps.Postgres.CreateDatabaseAsync("shop_restored");
        (await Processes.RunAsync(PostgresServer.Tool("pg_restore"), ["--no-owner", "--exit-on-error", "--dbname=shop_restored", restored], dumps.Postgres.ClientEnvironment))
            .EnsureSuccess("pg_restore");
        Assert.Equal(await dumps.Postgres.RowCountsAsync(ShopDumps.Database), await dumps.Postgres.RowCountsAsync("shop_restored"));
    }

    /// <summary>Two empty repositories, ours and restic's, that chunk with the same known polynomial.</summary>
    private async Task<(Agent Ours, Restic Restic)> TwinRepositoriesAsync(string prefix)
    {
        var ours = new Agent(Path.Combine(_dir.Path, prefix + "ours"), Repositories.Password);
        var restic = new Restic(Path.Combine(_dir.Path, prefix + "restic"), Repositories.Password,
            env: new Dictionary<string, string> { ["RESTIC_FROM_PASSWORD"] = Repositories.Password });
        await (await Repository.InitAsync(new LocalBackend(ours.Repository), Repositories.Password, polynomial: TestPol)).DisposeAsync();
        (await restic.RunAsync(["init", "--from-repo", ours.Repository, "--copy-chunker-params"])).EnsureSuccess("restic init --copy-chunker-params");
        return (ours, restic);
    }

    /// <summary>Without --pg-dump-segments, `backup --stdin` of the same archive is cut exactly where restic cuts it:
    /// with one chunker polynomial both repositories hold the very same data blobs.</summary>
    [Fact]
    public async Task Stdin_without_the_flag_chunks_a_dump_as_restic_does()
    {
        var (ours, restic) = await TwinRepositoriesAsync("plain-");
        (await ours.RunAsync(["backup", "--stdin", "--stdin-filename", "shop.dump"], new MemoryStream(dumps.Custom))).EnsureSuccess("backup");
        (await restic.RunAsync(["backup", "--stdin", "--stdin-filename", "shop.dump"], new MemoryStream(dumps.Custom))).EnsureSuccess("restic backup");

        async Task<List<string>> DataBlobsAsync(string repository)
        {
            var r = (await new Restic(repository, Repositories.Password).RunAsync(["list", "blobs"])).EnsureSuccess("restic list blobs");
            return r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("data ")).Order().ToList();
        }
        var theirs = await DataBlobsAsync(restic.Repository);
        Assert.NotEmpty(theirs);
        Assert.Equal(theirs, await DataBlobsAsync(ours.Repository));
    }

    /// <summary>The stream offsets at which segments end, reading with the given read sizes.</summary>
    private static async Task<List<int>> SegmentEndsAsync(byte[] archive, Func<int, int> readSize)
    {
        await using var segments = await PgDumpSegments.OpenAsync(new MemoryStream(archive), default);
        Assert.Equal(ChunkSizes.Fine, segments.ChunkSizes);
        var ends = new List<int>();
        var buffer = new byte[1 << 20];
        var at = 0;
        for (var i = 0; await segments.ReadAsync(buffer.AsMemory(0, readSize(i))) is var n and > 0; i++)
        {
            at += n;
            if (segments.AtSegmentEnd) ends.Add(at);
        }
        return ends;
    }

    private static async Task<List<byte[]>> ChunksAsync(Stream source, ChunkSizes sizes)
    {
        var chunks = new List<byte[]>();
        using var chunker = new Chunker(TestPol, source, sizes);
        while (await chunker.NextAsync() is { } chunk)
            using (chunk) chunks.Add(chunk.Data.ToArray());
        return chunks;
    }

    /// <summary>An archive integer as pg_dump writes it with 4-byte ints: a sign byte, then little-endian magnitude.</summary>
    private static int ArchiveInt(byte[] archive, int at)
    {
        var magnitude = BinaryPrimitives.ReadInt32LittleEndian(archive.AsSpan(at + 1, 4));
        return archive[at] == 0 ? magnitude : -magnitude;
    }

    private static byte[] RandomBytes(int length, Random random)
    {
        var data = new byte[length];
        random.NextBytes(data);
        return data;
    }
}
