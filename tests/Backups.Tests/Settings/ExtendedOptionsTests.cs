using BackupAgent.Run;
using Backups.Core.Backends;
using Backups.Core.Repositories;
using Backups.Core.Settings;
using Xunit;

namespace Backups.Tests.Settings;

/// <summary>restic's -o options as every opener of a repository reads them: flags, the functions' variable, the run
/// config. (The bound they set is exercised against s3rver in Backends/S3ConnectionsTests.)</summary>
public sealed class ExtendedOptionsTests
{
    private static readonly Dictionary<string, string> Repository = new()
    {
        [ResticEnvironment.Repository] = "s3:http://127.0.0.1:9/bucket/repo", [ResticEnvironment.Password] = "pw",
    };

    private static async Task<int?> ConnectionsAsync(RepositorySettings settings)
    {
        await using var backend = settings.OpenBackend();
        return backend.Connections;
    }

    [Fact]
    public async Task The_flag_wins_over_the_variable_key_by_key_and_restics_default_holds_otherwise()
    {
        Assert.Equal(S3Backend.DefaultConnections, await ConnectionsAsync(ResticEnvironment.Read(Repository)));
        var env = new Dictionary<string, string>(Repository) { [ExtendedOptions.Variable] = "s3.connections=3" };
        Assert.Equal(3, await ConnectionsAsync(ResticEnvironment.Read(env)));
        // Keys and values are trimmed and keys lower-cased, as restic reads them.
        Assert.Equal(7, await ConnectionsAsync(ResticEnvironment.Read(env, new RepositoryFlags(Options: [" S3.Connections = 7"]))));
        // A local folder sets no bound of its own.
        Assert.Null(await ConnectionsAsync(ResticEnvironment.Read(new Dictionary<string, string>(Repository) { [ResticEnvironment.Repository] = "/nowhere" })));
    }

    [Theory]
    [InlineData("s3.connections=2", "s3.connections=3", "given twice")]
    [InlineData("s3.region=eu", null, "not known")]
    [InlineData("s3.connections=-1", null, "at least 1")]
    public void Bad_options_are_configuration_errors(string first, string? second, string mentions)
    {
        var e = Assert.Throws<RepositoryException>(() => ExtendedOptions.None.With(second == null ? [first] : [first, second]));
        Assert.Equal(ErrorKind.ConfigError, e.Kind);
        Assert.Contains(mentions, e.Message);
    }

    [Fact]
    public void The_run_config_takes_the_same_pairs_and_names_where_a_bad_one_is()
    {
        var config = RunConfig.EmbeddedDefault();
        config.Options = ["s3.connections=4"];
        Assert.Equal(4, config.RepositorySettings(PasswordSource.Given("pw", "$.password")).Options.S3Connections);
        config.Options = ["s3.connections=four"];
        Assert.Equal("$.options", Assert.Throws<ConfigException>(config.Validate).Path);
    }
}
