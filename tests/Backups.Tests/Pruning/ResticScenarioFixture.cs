using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Pruning;

/// <summary>One prune scenario with restic-written data (v2) per test class; each test prunes its own copy.</summary>
public sealed class ResticScenarioFixture : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private PruneScenario? _scenario;

    public async Task InitializeAsync() =>
        _scenario = await PruneScenario.CreateAsync(new LocalStore(_dir).New(), _dir, PruneScenario.Writer.Restic, ourKey: true);

    /// <summary>A fresh copy of the scenario's repository under <paramref name="dir"/>.</summary>
    public PruneScenario Copy(TempDir dir) => _scenario!.CopyTo(dir.Combine($"copy-{Guid.NewGuid():N}"));

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
