using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Backups.Core.Crypto;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Crypto;

/// <summary>Stock restic is the judge: we must open what it seals and it must open what we seal.</summary>
public class ResticCryptoCompatibilityTests
{
    private const string Password = "correct horse battery staple";

    private static CryptoKey UserKey(JsonElement keyFile, string password)
    {
        Assert.Equal("scrypt", keyFile.GetProperty("kdf").GetString());
        var derived = Scrypt.DeriveKey(
            Encoding.UTF8.GetBytes(password), keyFile.GetProperty("salt").GetBytesFromBase64(),
            keyFile.GetProperty("N").GetInt32(), keyFile.GetProperty("r").GetInt32(), keyFile.GetProperty("p").GetInt32(), 64);
        return new CryptoKey(derived[..32], derived[32..48], derived[48..]);
    }

    private static byte[] Unpack(byte[] plaintext)
    {
        if (plaintext[0] != 2)
            return plaintext;
        using var zstd = new ZstdSharp.Decompressor();
        return zstd.Unwrap(plaintext.AsSpan(1)).ToArray();
    }

    private static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexString(SHA256.HashData(data)).ToLowerInvariant();

    [Fact]
    public async Task Opens_what_restic_seals_and_restic_opens_what_we_seal()
    {
        using var dir = new TempDir();
        string repo = dir.Combine("repo");
        var restic = new Restic(repo, Password);
        await restic.RunOkAsync("init");

        // The key file: scrypt with restic's calibrated parameters, then the sealed master key.
        string keyPath = Assert.Single(Directory.GetFiles(Path.Combine(repo, "keys")));
        var keyFile = JsonDocument.Parse(File.ReadAllBytes(keyPath)).RootElement;
        var userKey = UserKey(keyFile, Password);
        var masterJson = JsonDocument.Parse(userKey.Open(keyFile.GetProperty("data").GetBytesFromBase64())).RootElement;
        var master = new CryptoKey(
            masterJson.GetProperty("encrypt").GetBytesFromBase64(),
            masterJson.GetProperty("mac").GetProperty("k").GetBytesFromBase64(),
            masterJson.GetProperty("mac").GetProperty("r").GetBytesFromBase64());

        // config is sealed, uncompressed JSON.
        var configPlain = master.Open(File.ReadAllBytes(Path.Combine(repo, "config")));
        Assert.Equal((byte)'{', configPlain[0]);
        var config = JsonDocument.Parse(configPlain).RootElement;
        Assert.Equal(2, config.GetProperty("version").GetInt32());
        Assert.Matches("^[0-9a-f]{64}$", config.GetProperty("id").GetString());

        // A backup gives us snapshots, an index and packs to open, blob by blob.
        var content = RandomNumberGenerator.GetBytes(3000);
        (await restic.RunAsync(["backup", "--stdin", "--stdin-filename", "data.bin"], new MemoryStream(content)))
            .EnsureSuccess("restic backup --stdin");

        string snapshotPath = Assert.Single(Directory.GetFiles(Path.Combine(repo, "snapshots")));
        var snapshotPlain = master.Open(File.ReadAllBytes(snapshotPath));
        var snapshot = JsonDocument.Parse(Unpack(snapshotPlain)).RootElement;
        Assert.Equal("/data.bin", snapshot.GetProperty("paths")[0].GetString());

        foreach (var index in Directory.GetFiles(Path.Combine(repo, "index")))
            Assert.True(JsonDocument.Parse(Unpack(master.Open(File.ReadAllBytes(index)))).RootElement.TryGetProperty("packs", out _));

        bool sawContent = false;
        int blobs = 0;
        foreach (var packPath in Directory.GetFiles(Path.Combine(repo, "data"), "*", SearchOption.AllDirectories))
        {
            var pack = File.ReadAllBytes(packPath);
            Assert.Equal(Path.GetFileName(packPath), Sha256Hex(pack));
            int headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(pack.AsSpan(pack.Length - 4));
            var header = master.Open(pack.AsSpan(pack.Length - 4 - headerLength, headerLength));
            int offset = 0;
            for (int at = 0; at < header.Length;)
            {
                byte type = header[at];
                int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(at + 1));
                bool compressed = type >= 2;
                int idAt = at + (compressed ? 9 : 5);
                string id = Convert.ToHexString(header, idAt, 32).ToLowerInvariant();
                at = idAt + 32;

                var plain = master.Open(pack.AsSpan(offset, length));
                if (compressed)
                {
                    using var zstd = new ZstdSharp.Decompressor();
                    plain = zstd.Unwrap(plain).ToArray();
                }
                Assert.Equal(id, Sha256Hex(plain));
                sawContent |= plain.AsSpan().SequenceEqual(content);
                offset += length;
                blobs++;
            }
        }
        Assert.True(blobs >= 2, "expected at least a data blob and a tree blob");
        Assert.True(sawContent, "the backed-up bytes were not among the blobs");

        // Reverse: a key file we derive and seal ourselves must let restic in with a new password...
        const string newPassword = "a password restic never saw";
        var salt = RandomNumberGenerator.GetBytes(64);
        var ourUserKey = Scrypt.DeriveKey(Encoding.UTF8.GetBytes(newPassword), salt, 1024, 8, 1, 64);
        var masterOut = new MemoryStream();
        using (var w = new Utf8JsonWriter(masterOut))
        {
            w.WriteStartObject();
            w.WriteStartObject("mac");
            w.WriteBase64String("k", master.MacK);
            w.WriteBase64String("r", master.MacR);
            w.WriteEndObject();
            w.WriteBase64String("encrypt", master.EncryptionKey);
            w.WriteEndObject();
        }
        var sealedMaster = new CryptoKey(ourUserKey[..32], ourUserKey[32..48], ourUserKey[48..]).Seal(masterOut.ToArray());
        var ourKeyFile = Encoding.UTF8.GetBytes(
            $$"""{"created":"{{DateTime.UtcNow:O}}","username":"test","hostname":"test","kdf":"scrypt","N":1024,"r":8,"p":1,"salt":"{{Convert.ToBase64String(salt)}}","data":"{{Convert.ToBase64String(sealedMaster)}}"}""");
        File.WriteAllBytes(Path.Combine(repo, "keys", Sha256Hex(ourKeyFile)), ourKeyFile);

        // ...and a snapshot re-sealed by us must read like the original.
        var resealed = master.Seal(snapshotPlain);
        File.WriteAllBytes(Path.Combine(repo, "snapshots", Sha256Hex(resealed)), resealed);

        var withOurKey = new Restic(repo, newPassword);
        var snapshots = await withOurKey.JsonAsync("snapshots");
        Assert.Equal(2, snapshots.GetArrayLength());
        Assert.All(snapshots.EnumerateArray(), s => Assert.Equal(
            snapshot.GetProperty("tree").GetString(), s.GetProperty("tree").GetString()));
        var dump = await withOurKey.RunOkAsync("dump", Sha256Hex(resealed), "/data.bin");
        Assert.Equal(content, dump.Stdout);
        await withOurKey.CheckAsync();
    }
}
