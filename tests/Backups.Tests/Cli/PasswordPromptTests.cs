using System.Diagnostics;
using System.Text;
using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Cli;

/// <summary>
/// With no password flag or variable, the password is asked for as restic asks: on a terminal (a real
/// pseudo-terminal, util-linux's script) with restic's prompt and without echo; otherwise read from the first
/// line of standard input, and nothing there is restic's "an empty password is not a password".
/// </summary>
public sealed class PasswordPromptTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private RepositoryPair _repo = null!;

    public async Task InitializeAsync()
    {
        _repo = new LocalStore(_dir).New();
        await _repo.Restic.RunOkAsync("init");
        await _repo.Restic.RunOkAsync("backup", "-q", "--host", "prompted", _dir.Path);
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    private Dictionary<string, string> WithoutPassword() => new() { ["RESTIC_REPOSITORY"] = _repo.Repository };

    [Fact]
    public async Task A_terminal_is_asked_without_echo()
    {
        var info = new ProcessStartInfo("script", ["-qfec", $"'{Agent.Program}' snapshots", "/dev/null"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        info.Environment.Remove("RESTIC_PASSWORD");
        info.Environment.Remove("RESTIC_PASSWORD_FILE");
        info.Environment.Remove("RESTIC_PASSWORD_COMMAND");
        foreach (var (k, v) in WithoutPassword()) info.Environment[k] = v;
        using var process = Process.Start(info)!;
        var screen = new StringBuilder();
        var prompted = new TaskCompletionSource();
        var reading = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = await process.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (screen)
                {
                    screen.Append(buffer, 0, n);
                    if (screen.ToString().Contains("enter password for repository: ")) prompted.TrySetResult();
                }
            }
            prompted.TrySetResult();
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await prompted.Task.WaitAsync(timeout.Token);
        // Typed only once the prompt is there, so that the terminal's own echo (before the agent turns it off) is ruled out.
        await process.StandardInput.WriteAsync(Repositories.Password + "\r");
        await process.StandardInput.FlushAsync();
        await process.WaitForExitAsync(timeout.Token);
        await reading;
        var text = screen.ToString();
        Assert.True(process.ExitCode == 0, text);
        Assert.Contains("enter password for repository: ", text);
        Assert.DoesNotContain(Repositories.Password, text);
        Assert.Contains("prompted", text);
        Assert.Contains("1 snapshots", text);
    }

    [Fact]
    public async Task Standard_input_gives_the_password_when_it_is_not_a_terminal()
    {
        using var stdin = new MemoryStream(Encoding.UTF8.GetBytes(Repositories.Password + "\n"));
        var r = await Processes.RunAsync(Agent.Program, ["snapshots", "--json"], WithoutPassword(), stdin);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("prompted", r.StdoutText);

        var restic = await Processes.RunAsync("restic", ["--no-cache", "snapshots"], WithoutPassword());
        Assert.Contains("an empty password is not a password", restic.Stderr);
        var empty = await Processes.RunAsync(Agent.Program, ["snapshots"], WithoutPassword());
        Failure.AssertOneLine(empty, Failure.Usage, "an empty password is not a password");
    }
}
