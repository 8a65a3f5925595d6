using Backups.Core.Repositories;

namespace Backups.Aws.Secrets;

/// <summary>A secret could not be resolved; the message names where it was looked for, never a value.</summary>
public sealed class SecretException(string problem) : ClassifiedException(ErrorKind.ConfigError, problem);
