using Backups.Core.Checking;
using Backups.Core.Locks;
using Backups.Core.Repositories;
using Backups.Functions.Repositories;
using Backups.Functions.Runtime;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Functions.Handlers.Verify;

/// <summary>
/// One check of the repository under a non-exclusive lock, as `backup-agent check` runs it. Damage fails the
/// invocation with <see cref="DamagedError"/>, naming every damaged file, so a Catch routes it to the failure email.
/// </summary>
public sealed class LockedCheck(FunctionEnvironment environment)
{
    public static readonly string DamagedError = ErrorNames.For(ErrorKind.Damaged);
    // What the answer and the lock's removal need after the last pack: a pack read started just before the
    // deadline still has to finish.
    private static readonly TimeSpan ReadMargin = TimeSpan.FromSeconds(45);

    private readonly FunctionRepository _repository = new(environment);

    /// <summary>Checks with <paramref name="options"/> (its deadline and clock set here); <paramref name="alsoLocked"/>
    /// runs on the open repository under the same lock, after a check that found no damage.</summary>
    public async Task<CheckReport> RunAsync(CheckOptions options, InvocationContext context, Func<Repo, CancellationToken, Task>? alsoLocked = null)
    {
        await using var repo = await _repository.OpenAsync(context);
        await using (await RepositoryLock.AcquireAsync(repo, exclusive: false, context.CancellationToken))
        {
            var report = await Checker.CheckAsync(repo, options with
            {
                ReadDeadline = context.Deadline - ReadMargin,
                Clock = environment.Time,
            }, context.CancellationToken);
            if (report.IsDamaged)
                throw new FunctionFailure(DamagedError,
                    $"{report.ErrorCount} problem(s): " + string.Join("; ", report.Errors.Select(e => e.Message)));
            if (alsoLocked != null) await alsoLocked(repo, context.CancellationToken);
            return report;
        }
    }
}
