using System.Text.Json.Serialization;
using BackupAgent.Run;

namespace BackupAgent.Drills;

/// <summary>Where a postgres drill restores.</summary>
public enum DrillTarget
{
    /// <summary>A database created on the source's own server and dropped afterwards (needs CREATEDB).</summary>
    [JsonStringEnumMemberName("temporary-database")] TemporaryDatabase,
    /// <summary>A cluster made with initdb in a temporary directory, on a free loopback port, stopped and deleted afterwards.</summary>
    [JsonStringEnumMemberName("temporary-cluster")] TemporaryCluster,
}

/// <summary>A source's "drill" settings in the run config.</summary>
public sealed class DrillConfig
{
    /// <summary>How far a restored row or key count may differ from the recorded one, in percent of the recorded one.</summary>
    [JsonPropertyName("tolerance_percent")] public double TolerancePercent { get; set; }
    [JsonPropertyName("target")] public DrillTarget Target { get; set; } = DrillTarget.TemporaryDatabase;
    /// <summary>The user's own queries on the restored database, e.g. "orders exist": SELECT count(*) FROM orders, min 1.</summary>
    [JsonPropertyName("checks")] public List<SqlCheck> Checks { get; set; } = [];
    /// <summary>paths sources: how many restored files are compared by size and SHA-256.</summary>
    [JsonPropertyName("sample_files")] public int SampleFiles { get; set; } = 20;

    public void Validate(string at, SourceKind kind)
    {
        if (TolerancePercent is < 0 or > 100 || double.IsNaN(TolerancePercent))
            throw new ConfigException($"{at}.tolerance_percent", "must be between 0 and 100");
        if (SampleFiles < 1) throw new ConfigException($"{at}.sample_files", "must be positive");
        if (kind != SourceKind.Postgres && Checks.Count > 0) throw new ConfigException($"{at}.checks", "SQL checks apply to postgres sources only");
        var names = new HashSet<string>();
        for (var i = 0; i < Checks.Count; i++)
        {
            var c = Checks[i];
            var where = $"{at}.checks[{i}]";
            if (string.IsNullOrWhiteSpace(c.Name)) throw new ConfigException($"{where}.name", "required");
            if (!names.Add(c.Name)) throw new ConfigException($"{where}.name", $"'{c.Name}' is used twice");
            if (string.IsNullOrWhiteSpace(c.Sql)) throw new ConfigException($"{where}.sql", "required: a query that returns one number");
            if (c.Min == null && c.Max == null) throw new ConfigException(where, "give min, max or both");
        }
    }
}

/// <summary>A query returning one number, which must lie within [min, max].</summary>
public sealed class SqlCheck
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("sql")] public string Sql { get; set; } = "";
    [JsonPropertyName("min")] public double? Min { get; set; }
    [JsonPropertyName("max")] public double? Max { get; set; }
}
