using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Faults;

/// <summary>The fault tests wait out retries and outages; with an s3rver of their own they do so beside the other
/// S3 tests instead of after them.</summary>
[CollectionDefinition(Name)]
public sealed class FaultsCollection : ICollectionFixture<S3rverFixture>
{
    public const string Name = "s3-faults";
}
