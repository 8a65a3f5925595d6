using System.ComponentModel;
using Backups.Tests.Support;

namespace Backups.Tests.Functions;

/// <summary>
/// Debian's chromium, headless, as a mail client's rendering engine stands in: the DOM it builds from a page and a
/// screenshot of it. Missing chromium fails the test (tests/run.sh installs it), never skips it.
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    public const int Width = 1000, Height = 1200;

    // A profile of its own: tests running side by side would otherwise share (and lock) one.
    private readonly TempDir _profile = new();

    public async Task<string> DumpDomAsync(string htmlFile) =>
        (await RunAsync("--dump-dom", new Uri(htmlFile).AbsoluteUri)).StdoutText;

    public async Task<PngImage> ScreenshotAsync(string htmlFile)
    {
        var png = _profile.Combine("screenshot.png");
        await RunAsync($"--screenshot={png}", $"--window-size={Width},{Height}", "--hide-scrollbars", new Uri(htmlFile).AbsoluteUri);
        return PngImage.Decode(await File.ReadAllBytesAsync(png));
    }

    private async Task<ProcessResult> RunAsync(params string[] args)
    {
        try
        {
            // As root (CI containers) chromium refuses its sandbox; no GPU on these machines.
            return (await Processes.RunAsync("chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--force-device-scale-factor=1", "--force-color-profile=srgb", $"--user-data-dir={_profile.Combine("profile")}", .. args], timeout: TimeSpan.FromMinutes(1)))
                .EnsureSuccess("chromium");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException("chromium is not installed (tests/run.sh installs Debian's chromium)", e);
        }
    }

    public void Dispose() => _profile.Dispose();
}
