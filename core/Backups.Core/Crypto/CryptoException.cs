using Backups.Core.Repositories;

namespace Backups.Core.Crypto;

/// <summary>Stored data did not authenticate: the key is wrong or the bytes are damaged (to a reader, damage).</summary>
public sealed class CryptoException(string message) : ClassifiedException(ErrorKind.Damaged, message);
