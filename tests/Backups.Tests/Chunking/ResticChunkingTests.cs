using System.Security.Cryptography;
using System.Text;
using Backups.Core.Chunking;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Chunking;

/// <summary>The decisive check: restic itself, given the same bytes, stores exactly the blobs we cut.</summary>
public class ResticChunkingTests
{
    [Fact]
    public async Task Restic_stores_exactly_the_chunks_we_cut()
    {
        using var tmp = new TempDir();
        var restic = new Restic(tmp.Combine("repo"), "chunker-test");
        await restic.RunOkAsync("init");
        var config = await restic.JsonAsync("cat", "config");
        var pol = Polynomial.Parse(config.GetProperty("chunker_polynomial").GetString()!);

        var random = new byte[40 * 1024 * 1024];
        new Random(40).NextBytes(random);
        // Text-like data too: low entropy exercises the fingerprint differently from noise.
        var text = new StringBuilder();
        for (int i = 0; text.Length < 24 * 1024 * 1024; i++) text.Append($"{i}\trow {i * 7919 % 100_003}\t{(i % 17 == 0 ? "x" : "yy")}\n");
        var textBytes = Encoding.ASCII.GetBytes(text.ToString());

        var expected = new HashSet<string>();
        foreach (var data in new[] { random, textBytes })
        {
            (await restic.RunAsync(["backup", "--stdin", "--stdin-filename", "f"], stdin: new MemoryStream(data)))
                .EnsureSuccess("restic backup --stdin");
            using var chunker = new Chunker(pol, new MemoryStream(data, writable: false));
            while (await chunker.NextAsync() is { } chunk)
                using (chunk) expected.Add(Convert.ToHexStringLower(SHA256.HashData(chunk.Data.Span)));
        }

        var listed = (await restic.RunOkAsync("list", "blobs")).StdoutText
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .Where(parts => parts[0] == "data")
            .Select(parts => parts[1])
            .ToHashSet();
        Assert.True(expected.Count > 20, $"only {expected.Count} chunks");
        Assert.Equal(expected.Order(), listed.Order());
    }
}
