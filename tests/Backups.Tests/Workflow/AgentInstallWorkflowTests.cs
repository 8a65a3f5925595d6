using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Workflow;

/// <summary>
/// The SSM document's install step in the real workflow, run locally: on a box without the agent the document
/// downloads the published binary from S3 (s3rver) with signed requests, checks its SHA-256 against the one the stack
/// recorded, moves it into place and runs it; a box that has it downloads nothing; a binary with another checksum is
/// refused, and the execution fails with the install step's own error in its output and in the email.
/// </summary>
[Collection("cdk")]
public sealed class AgentInstallWorkflowTests(WorkflowStack stack) : IClassFixture<WorkflowStack>
{
    private static readonly JsonObject Quick = new() { ["drill"] = "skip", ["skipRetention"] = true, ["offsite"] = "skip" };

    private static string[] States(JsonObject report) => [.. report["states"]!.AsArray().Select(s => (string)s!)];

    /// <summary>
    /// A directory standing in for the box's /usr/local/bin, without backup-agent. When the tests run the
    /// framework-dependent agent (the release binary is one self-contained file), its other files are linked in
    /// here so that the downloaded program runs from this directory as it would from the box's.
    /// </summary>
    private string NewBox()
    {
        var box = stack.NewDirectory();
        foreach (var entry in Directory.EnumerateFileSystemEntries(AppContext.BaseDirectory))
            if (Path.GetFileName(entry) != Path.GetFileName(Agent.Program))
                File.CreateSymbolicLink(Path.Combine(box, Path.GetFileName(entry)), entry);
        return box;
    }

    /// <summary>Files the document wrote in the box besides the agent (a temporary download left behind).</summary>
    private static string[] Leftovers(string box, string agent) =>
        [.. Directory.EnumerateFiles(box).Where(f => f != agent && new FileInfo(f).LinkTarget == null)];

    [Fact]
    public async Task A_box_without_the_agent_gets_the_published_binary_and_a_box_that_has_it_downloads_nothing()
    {
        var agent = Path.Combine(NewBox(), "backup-agent");
        var document = stack.Document(agent);
        var repository = await stack.NewRepositoryAsync();

        var report = await stack.ExecuteAsync(Quick, repository, document: document);

        Assert.True((string?)report["status"] == "SUCCEEDED", report.ToJsonString());
        Assert.Equal(await File.ReadAllBytesAsync(Agent.Program), await File.ReadAllBytesAsync(agent));
        Assert.True(File.GetUnixFileMode(agent).HasFlag(UnixFileMode.UserExecute));
        Assert.Empty(Leftovers(Path.GetDirectoryName(agent)!, agent));
        // The installed program did the night's work.
        var snapshots = (await stack.Restic(repository).JsonAsync("snapshots")).EnumerateArray().ToList();
        Assert.Equal(["app-db", "cache"], snapshots.Select(s => s.GetProperty("tags")[0].GetString()).Order());

        // Next night the binary is already there: the document does not download (the URL now names nothing) and
        // leaves the file as it is.
        var installed = new FileInfo(agent).LastWriteTimeUtc;
        var again = await stack.ExecuteAsync(Quick, repository, document: document, agentUrl: stack.AgentUrl + "-gone");

        Assert.True((string?)again["status"] == "SUCCEEDED", again.ToJsonString());
        Assert.Equal(installed, new FileInfo(agent).LastWriteTimeUtc);
        Assert.Equal(4, (await stack.Restic(repository).JsonAsync("snapshots")).GetArrayLength());
    }

    [Fact]
    public async Task A_binary_with_another_sha256_is_refused_the_old_one_stays_and_the_email_gives_the_install_steps_error()
    {
        var agent = Path.Combine(NewBox(), "backup-agent");
        const string old = "#!/bin/sh\necho 'the old agent must not run' >&2\nexit 99\n";
        await File.WriteAllTextAsync(agent, old);
        var genuine = await File.ReadAllBytesAsync(Agent.Program);
        var tampered = (byte[])genuine.Clone();
        tampered[^1] ^= 0x01;
        var url = await stack.S3.PutObjectAsync($"agent/{Guid.NewGuid():N}/backup-agent", tampered);
        var repository = await stack.NewRepositoryAsync();

        var report = await stack.ExecuteAsync(Quick, repository, document: stack.Document(agent), agentUrl: url);

        Assert.Equal("FAILED", (string?)report["status"]);
        Assert.Equal("BackupAgent.CommandFailed", (string?)report["error"]);
        Assert.Equal(["Defaults", "Options", "LaunchBackup", "StartBackup", "BackupSilent", "SilentCommand", "SilentCommandFailed", "SilentCommandError", "SilentFailed", "NotifyFailure", "Failed"], States(report));
        var (want, got) = (Convert.ToHexStringLower(SHA256.HashData(genuine)), Convert.ToHexStringLower(SHA256.HashData(tampered)));
        var refusal = $"backup-agent install: {url} has SHA-256 {got}, not the {want} this document was deployed with; refusing to install it";
        Assert.Equal($"the command on the box exited with 3 before backup-agent reported: {refusal}\n", (string?)report["cause"]);
        // Nothing was installed and nothing ran: the old binary is intact, no temporary file is left, no snapshot made.
        Assert.Equal(old, await File.ReadAllTextAsync(agent));
        Assert.Empty(Leftovers(Path.GetDirectoryName(agent)!, agent));
        Assert.Equal(0, (await stack.Restic(repository).JsonAsync("snapshots")).GetArrayLength());

        var emails = await stack.Ses.StoredEmailsAsync();
        var email = Assert.IsType<JsonObject>(emails.LastOrDefault(e => ((string)e!["subject"]!).Contains($"StartBackup on {WorkflowStack.Host}")), exactMatch: false);
        var body = (string)email["body"]!["text"]!;
        Assert.Contains("Error: BackupAgent.CommandFailed", body);
        Assert.Contains(refusal, body);
    }
}
