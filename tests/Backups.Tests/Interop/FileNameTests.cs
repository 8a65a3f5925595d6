using System.Text;
using Backups.Core.FileSystem;
using Backups.Core.Trees;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Interop;

/// <summary>
/// Every byte sequence a Linux file name can hold survives a round trip through either program: restic quotes
/// node names with Go's strconv.Quote, and so must we, in both directions.
/// </summary>
public sealed class FileNameTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly LocalStore _store;

    public FileNameTests() => _store = new LocalStore(_dir);

    public void Dispose() => _dir.Dispose();

    private static readonly byte[][] Names =
    [
        B("back\\slash"), B("quote\"d"), B("new\nline"), B("tab\there"), B("bell\a"), B("esc\u001b[0m"), B("del\u007f"),
        B("ret\r"), B("apostrophe'"), B("\\x41 looks escaped"), B("\\u0041"), B("%s and {0}"), B(" leading space"), B("-dash"),
        [0x62, 0x61, 0x64, 0xff, 0xfe], [0x80, 0x81], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80],
        B("café"), B("nb\u00a0sp"), B("line\u2028sep"), B("zero\u200dwidth"), B("emoji😀"), B("日本語"), B("tag\U000E0041"),
        B("private\uE000use"), B("plain"),
    ];

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>A tree holding every name above as a file, and as a directory holding a file of the same name.</summary>
    private string CreateSource()
    {
        var src = _dir.Combine("work", "src");
        Directory.CreateDirectory(src);
        foreach (var name in Names)
        {
            FileTrees.WriteFile(src, name, [.. name, .. name]);
            FileTrees.WriteFile(FileTrees.Subdirectory(src, [.. "d-"u8, .. name]), name, name);
        }
        return src;
    }

    [Fact]
    public async Task Names_we_store_are_checked_listed_and_restored_by_restic()
    {
        var src = CreateSource();
        var repo = _store.New();
        await repo.Agent.RunOkAsync("init");
        await repo.Agent.RunOkAsync("backup", src);

        await repo.Restic.CheckAsync(readData: true);
        // restic lists the directories above src first, then everything below it. Names with a newline span two
        // lines in both listings alike, so the sets of lines still match.
        var listed = FileTrees.Split((await repo.Restic.RunOkAsync("ls", "latest")).Stdout, (byte)'\n').SkipWhile(l => l != src).Skip(1);
        var expected = string.Join('\n', (await FileTrees.ListAsync(src)).Select(p => src + p)).Split('\n');
        Assert.Equal(expected.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));

        var target = _dir.Combine("by-restic");
        await repo.Restic.RunOkAsync("restore", "latest", "--target", target);
        await FileTrees.AssertSameAsync(src, target + src);
        var ours = _dir.Combine("by-us");
        await repo.Agent.RunOkAsync("restore", "latest", "--target", ours);
        await FileTrees.AssertSameAsync(src, ours + src);
    }

    [Fact]
    public async Task Names_restic_stores_are_listed_restored_and_dumped_here_as_restic_does()
    {
        var src = CreateSource();
        var repo = _store.New();
        await repo.Restic.RunOkAsync("init");
        await repo.Restic.RunOkAsync("backup", src);

        Assert.Equal((await repo.Restic.RunOkAsync("ls", "latest")).Stdout.SkipWhile(b => b != '\n'),
            (await repo.Agent.RunOkAsync("ls", "latest")).Stdout.SkipWhile(b => b != '\n'));
        var ours = _dir.Combine("by-us");
        await repo.Agent.RunOkAsync("restore", "latest", "--target", ours);
        await FileTrees.AssertSameAsync(src, ours + src);
        foreach (var name in new[] { "new\nline", "quote\"d", "back\\slash", "emoji😀" })
            Assert.Equal((await repo.Restic.RunOkAsync("dump", "latest", $"{src}/{name}")).Stdout,
                (await repo.Agent.RunOkAsync("dump", "latest", $"{src}/{name}")).Stdout);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a\"b\\c", "a\\\"b\\\\c")]
    [InlineData("\a\b\f\n\r\t\v", "\\a\\b\\f\\n\\r\\t\\v")]
    [InlineData("\u0001\u001f\u007f", "\\x01\\x1f\\x7f")]
    [InlineData("nb\u00a0sp\u00ad", "nb\\u00a0sp\\u00ad")]
    [InlineData("line\u2028para\u2029", "line\\u2028para\\u2029")]
    [InlineData("tag\U000E0041", "tag\\U000e0041")]
    [InlineData("private\uE000", "private\\ue000")]
    [InlineData("café 日本 😀 'ok'", "café 日本 😀 'ok'")]
    public void Quoting_matches_gos_strconv_quote(string name, string quoted)
    {
        Assert.Equal(quoted, NodeName.Quote(name));
        Assert.Equal(name, NodeName.Unquote(quoted));
    }

    [Fact]
    public void Bytes_that_are_not_utf8_are_quoted_one_by_one_and_read_back_exactly()
    {
        var name = FileName.Decode([0x61, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80]);
        Assert.Equal("a\\xff\\xc3(\\xed\\xa0\\x80", NodeName.Quote(name));
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(1, 12)];
            random.NextBytes(bytes);
            var decoded = FileName.Decode(bytes);
            Assert.Equal(bytes, FileName.Encode(decoded));
            Assert.Equal(bytes, FileName.Encode(NodeName.Unquote(NodeName.Quote(decoded))!));
        }
    }

    [Theory]
    [InlineData("a\"b")]
    [InlineData("a\nb")]
    [InlineData("trailing\\")]
    [InlineData("\\q")]
    [InlineData("\\'")]
    [InlineData("\\x4")]
    [InlineData("\\400")]
    [InlineData("\\ud800")]
    [InlineData("\\U00110000")]
    public void Text_that_is_not_go_syntax_is_refused(string quoted) => Assert.Null(NodeName.Unquote(quoted));

    [Fact]
    public void Octal_escapes_and_capital_hex_digits_read_as_go_reads_them() =>
        Assert.Equal("AB\u00e9", NodeName.Unquote("\\101\\x42\\u00E9"));
}
