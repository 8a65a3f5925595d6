using System.Text.Json;
using System.Text.Json.Nodes;
using Backups.Core.Json;

namespace Backups.Core.Snapshots;

public static class SnapshotJson
{
    public static JsonObject ToNode(Snapshot s) =>
        JsonSerializer.SerializeToNode(s, RepositoryJson.Context.Snapshot)!.AsObject();

    public static byte[] ToBytes(Snapshot s) => RepositoryJson.Serialize(s, RepositoryJson.Context.Snapshot);
}
