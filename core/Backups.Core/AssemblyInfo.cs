// The engine runs on Linux only (the EC2 box, Lambda's provided.al2023): it uses statx, utimensat and Unix modes.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
