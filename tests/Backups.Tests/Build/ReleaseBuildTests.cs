using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using Backups.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Backups.Tests.Build;

/// <summary>
/// Alone, after the other tests: the build takes both cores for a minute, and the start-up time is measured
/// on a quiet machine.
/// </summary>
[CollectionDefinition("release-build", DisableParallelization = true)]
public sealed class ReleaseBuildCollection;

/// <summary>Both release binaries, built once per test run by agent/build.sh: by tests/run.sh before the tests
/// (which then run that x64 binary, see <see cref="Agent.Program"/>), else here into a fresh directory.</summary>
public sealed class ReleaseBuildFixture : IAsyncLifetime
{
    private readonly TempDir _out = new();

    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>Where tests/run.sh had agent/build.sh put the binaries, its output in build.log beside them; null
    /// in a `dotnet test` of its own.</summary>
    public static string? Prebuilt { get; } = Environment.GetEnvironmentVariable("BACKUP_AGENT_RELEASE") is { Length: > 0 } dir ? dir : null;

    public string Output { get; private set; } = "";

    public string Binary(string rid) => Path.Combine(Prebuilt ?? _out.Path, rid, "backup-agent");

    public async Task InitializeAsync()
    {
        if (Prebuilt != null)
        {
            Output = await File.ReadAllTextAsync(Path.Combine(Prebuilt, "build.log"));
            return;
        }
        var result = await Processes.RunAsync("bash", [Path.Combine(RepositoryRoot, "agent", "build.sh"), _out.Path],
            workingDirectory: RepositoryRoot, timeout: TimeSpan.FromMinutes(20));
        Output = result.StdoutText + result.Stderr;
        result.EnsureSuccess("agent/build.sh");
    }

    public Task DisposeAsync()
    {
        _out.Dispose();
        return Task.CompletedTask;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "agent", "build.sh")))
                return dir.FullName;
        throw new InvalidOperationException($"no agent/build.sh above {AppContext.BaseDirectory}");
    }
}

[Collection("release-build")]
public sealed class ReleaseBuildTests(ReleaseBuildFixture build, ITestOutputHelper log) : IClassFixture<ReleaseBuildFixture>
{
    private const ushort X8664 = 62, AArch64 = 183;
    private static readonly Regex VersionLine = new(@"^backup-agent \d+\.\d+\.\d+ \(commit [0-9a-f]{8}, built \d{4}-\d\d-\d\d\) compiled with \.NET \S+ on linux/(x64|arm64)\n$");
    private static readonly string SystemdDir = Path.Combine(ReleaseBuildFixture.RepositoryRoot, "agent", "systemd");

    [Theory]
    [InlineData("linux-x64", X8664)]
    [InlineData("linux-arm64", AArch64)]
    public void Each_rid_is_one_native_executable_for_its_machine(string rid, ushort machine)
    {
        var bytes = File.ReadAllBytes(build.Binary(rid));
        Assert.Equal("\u007fELF"u8.ToArray(), bytes[..4]);
        Assert.Equal(2, bytes[4]); // ELFCLASS64
        Assert.Equal(1, bytes[5]); // little-endian
        Assert.Contains(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(16)), new ushort[] { 2, 3 }); // EXEC, or DYN (PIE)
        Assert.Equal(machine, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(18)));
        // Native AOT: nothing managed beside it to ship.
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(build.Binary(rid))!, "*.dll"));
        Assert.Matches($@"{rid} +\d+\.\d MiB", build.Output);

        // Amazon Linux 2023 has glibc 2.34: a build machine with a newer glibc must not raise the requirement.
        var glibc = Regex.Matches(Encoding.Latin1.GetString(bytes), @"GLIBC_(\d+)\.(\d+)")
            .Select(m => new Version(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value))).Max();
        Assert.True(glibc <= new Version(2, 34), $"{rid} needs glibc {glibc}");
    }

    /// <summary>The x64 binary runs. How fast it starts is the bench's business (tests/bench), not a test's.</summary>
    [Fact]
    public async Task X64_version_runs()
    {
        var result = await Processes.RunAsync(build.Binary("linux-x64"), ["--version"], timeout: TimeSpan.FromMinutes(1));
        result.EnsureSuccess("backup-agent --version");
        Assert.Matches(VersionLine, result.StdoutText);
        log.WriteLine($"agent/build.sh:\n{build.Output}");
    }

    [Fact]
    public async Task Arm64_version_runs_under_qemu()
    {
        // tests/run.sh installs qemu-user: without it this test fails rather than passing on a header check alone.
        var qemu = OnPath("qemu-aarch64") ?? OnPath("qemu-aarch64-static")
            ?? throw new Xunit.Sdk.XunitException("no qemu-aarch64 on PATH (Debian package qemu-user, which tests/run.sh installs)");
        // -L: the aarch64 loader and libc that libc6-dev-arm64-cross (installed by build.sh) brings.
        var result = await Processes.RunAsync(qemu, ["-L", "/usr/aarch64-linux-gnu", build.Binary("linux-arm64"), "--version"],
            timeout: TimeSpan.FromMinutes(1));
        result.EnsureSuccess("backup-agent --version under qemu");
        Assert.Matches(VersionLine, result.StdoutText);
    }

    [Fact]
    public async Task Systemd_units_are_valid_and_schedule_the_nightly_run()
    {
        var service = UnitSettings("backup-agent.service");
        var timer = UnitSettings("backup-agent.timer");
        var notify = UnitSettings("backup-agent-notify@.service");
        Assert.Equal("oneshot", service["Type"]);
        Assert.Equal("/usr/local/bin/backup-agent run --config /etc/backup-agent/config.json", service["ExecStart"]);
        Assert.Equal("-/etc/restic/env", service["EnvironmentFile"]);
        Assert.Equal("strict", service["ProtectSystem"]);
        Assert.Equal("true", service["NoNewPrivileges"]);
        Assert.Equal("true", service["PrivateTmp"]);
        Assert.Equal("idle", service["IOSchedulingClass"]);
        // %n is the failed unit's name: the notification says which unit failed.
        Assert.Equal("backup-agent-notify@%n.service", service["OnFailure"]);
        Assert.Equal("*-*-* 03:00:00 UTC", timer["OnCalendar"]);
        Assert.Equal("true", timer["Persistent"]);
        Assert.Equal("300", timer["RandomizedDelaySec"]);
        Assert.Equal("timers.target", timer["WantedBy"]);
        Assert.Equal("oneshot", notify["Type"]);

        // tests/run.sh installs systemd: without systemd-analyze the units would only be checked by their settings.
        var analyze = OnPath("systemd-analyze")
            ?? throw new Xunit.Sdk.XunitException("no systemd-analyze on PATH (Debian package systemd, which tests/run.sh installs)");
        // verify insists that ExecStart's program exists: point it at the binary just built, change nothing else.
        using var dir = new TempDir();
        foreach (var unit in Directory.GetFiles(SystemdDir, "backup-agent*"))
            await File.WriteAllTextAsync(Path.Combine(dir.Path, Path.GetFileName(unit)),
                (await File.ReadAllTextAsync(unit)).Replace("/usr/local/bin/backup-agent", build.Binary("linux-x64")));
        var result = await Processes.RunAsync(analyze, ["verify", "backup-agent.service", "backup-agent.timer", "backup-agent-notify@.service"],
            workingDirectory: dir.Path, timeout: TimeSpan.FromMinutes(1));
        // verify exits 0 on unknown keys and unparsable values, and only says so on stderr.
        Assert.True(result.ExitCode == 0 && result.Stderr.Trim() == "", $"systemd-analyze verify:\n{result.Stderr}");
    }

    /// <summary>Key=value lines of a unit file (the last one wins, as in systemd), without comments.</summary>
    private static Dictionary<string, string> UnitSettings(string file)
    {
        var settings = new Dictionary<string, string>();
        foreach (var line in File.ReadLines(Path.Combine(SystemdDir, file)).Select(l => l.Trim()))
        {
            if (line.Length == 0 || line[0] is '#' or ';' or '[') continue;
            var eq = line.IndexOf('=');
            settings[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }
        return settings;
    }

    private static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
}
