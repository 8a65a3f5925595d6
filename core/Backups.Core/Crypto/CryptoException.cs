namespace Backups.Core.Crypto;

/// <summary>Stored data did not authenticate: the key is wrong or the bytes are damaged.</summary>
public sealed class CryptoException(string message) : Exception(message);
