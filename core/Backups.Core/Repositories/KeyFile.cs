using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Backups.Core.Crypto;
using Backups.Core.Json;

namespace Backups.Core.Repositories;

/// <summary>keys/&lt;id&gt;: the master key, encrypted with a key derived from a password by scrypt.</summary>
public sealed class KeyFile
{
    [JsonPropertyName("created")] public DateTimeOffset Created { get; set; }
    [JsonPropertyName("username")] public string? Username { get; set; }
    [JsonPropertyName("hostname")] public string? Hostname { get; set; }
    [JsonPropertyName("kdf")] public string Kdf { get; set; } = "scrypt";
    [JsonPropertyName("N")] public int N { get; set; }
    [JsonPropertyName("r")] public int R { get; set; }
    [JsonPropertyName("p")] public int P { get; set; }
    [JsonPropertyName("salt")] public byte[] Salt { get; set; } = [];
    [JsonPropertyName("data")] public byte[] Data { get; set; } = [];

    // restic calibrates scrypt to ~0.5 s per machine; a fixed cost keeps the Lambda functions' cold start
    // predictable. Readers accept whatever stays within Scrypt's memory and work limits.
    private const int DefaultN = 1 << 15, DefaultR = 8, DefaultP = 1;

    /// <param name="username">The key's user (restic's `key add --user`); this process's user when null.</param>
    /// <param name="hostname">The key's host (restic's `key add --host`); this machine's name when null.</param>
    public static KeyFile Create(CryptoKey master, string password, string? username = null, string? hostname = null)
    {
        var key = new KeyFile
        {
            Created = DateTimeOffset.Now,
            Username = string.IsNullOrEmpty(username) ? Environment.UserName : username,
            Hostname = string.IsNullOrEmpty(hostname) ? Environment.MachineName : hostname,
            N = DefaultN, R = DefaultR, P = DefaultP,
            Salt = RandomNumberGenerator.GetBytes(64),
        };
        var userKey = key.DeriveUserKey(password);
        var json = RepositoryJson.Serialize(new MasterKeyJson
        {
            Mac = new MacKeyJson { K = master.MacK.ToArray(), R = master.MacR.ToArray() },
            Encrypt = master.EncryptionKey.ToArray(),
        }, RepositoryJson.Context.MasterKeyJson);
        key.Data = userKey.Seal(json);
        return key;
    }

    private CryptoKey DeriveUserKey(string password)
    {
        if (Kdf != "scrypt") throw new RepositoryException(ErrorKind.UnsupportedVersion, $"key derivation '{Kdf}' is not supported");
        var bytes = Scrypt.DeriveKey(Encoding.UTF8.GetBytes(password), Salt, N, R, P, 64);
        return new CryptoKey(bytes[..32], bytes[32..48], bytes[48..64]);
    }

    /// <summary>The master key, or null when the password does not open this key.</summary>
    public CryptoKey? TryOpen(string password, string file)
    {
        CryptoKey userKey;
        try
        {
            userKey = DeriveUserKey(password);
        }
        catch (ArgumentException e)
        {
            throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: {e.Message.Split(" (Parameter")[0]}", e);
        }
        if (Data.Length < CryptoKey.Overhead) throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: its data is too short");
        var plain = new byte[Data.Length - CryptoKey.Overhead];
        if (!userKey.TryOpen(Data, plain)) return null;
        var master = RepositoryJson.Deserialize(plain, RepositoryJson.Context.MasterKeyJson, file);
        if (master.Encrypt.Length != 32 || master.Mac.K.Length != 16 || master.Mac.R.Length != 16)
            throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: its master key has the wrong size");
        try
        {
            return new CryptoKey(master.Encrypt, master.Mac.K, master.Mac.R);
        }
        catch (ArgumentException e)
        {
            throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: {e.Message.Split(" (Parameter")[0]}", e);
        }
    }
}

public sealed class MasterKeyJson
{
    [JsonPropertyName("mac")] public MacKeyJson Mac { get; set; } = new();
    [JsonPropertyName("encrypt")] public byte[] Encrypt { get; set; } = [];
}

public sealed class MacKeyJson
{
    [JsonPropertyName("k")] public byte[] K { get; set; } = [];
    [JsonPropertyName("r")] public byte[] R { get; set; } = [];
}
