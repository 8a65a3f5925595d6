using System.Text.Json.Serialization;

namespace Backups.Core.Checking;

/// <summary>What a check found and how much it looked at. A healthy repository has no problems at all.</summary>
public sealed class CheckReport
{
    private readonly List<CheckProblem> _problems = [];
    private readonly Lock _lock = new();

    [JsonPropertyName("problems")]
    public IReadOnlyList<CheckProblem> Problems
    {
        get { lock (_lock) return _problems.ToList(); }
    }

    [JsonIgnore] public IEnumerable<CheckProblem> Errors => Problems.Where(p => p.Severity == ProblemSeverity.Error);
    [JsonIgnore] public IEnumerable<CheckProblem> Warnings => Problems.Where(p => p.Severity == ProblemSeverity.Warning);

    /// <summary>True when any error (not a warning) was found.</summary>
    [JsonPropertyName("damaged")] public bool IsDamaged => Errors.Any();

    [JsonPropertyName("errors")] public int ErrorCount => Errors.Count();
    [JsonPropertyName("warnings")] public int WarningCount => Warnings.Count();

    [JsonPropertyName("snapshots")] public int Snapshots { get; set; }
    [JsonPropertyName("trees")] public int Trees { get; set; }
    [JsonPropertyName("index_files")] public int IndexFiles { get; set; }
    [JsonPropertyName("packs")] public int Packs { get; set; }
    [JsonPropertyName("blobs")] public long Blobs { get; set; }

    /// <summary>Which packs were to be read in full (<see cref="PackSelection.Description"/>).</summary>
    [JsonPropertyName("read_selection")] public string ReadSelection { get; set; } = PackSelection.None.Description;
    [JsonPropertyName("packs_selected")] public int PacksSelected { get; set; }
    [JsonPropertyName("packs_read")] public int PacksRead { get; set; }
    /// <summary>Selected packs not read because the deadline came first (not an error).</summary>
    [JsonPropertyName("packs_left")] public int PacksLeft { get; set; }
    [JsonPropertyName("bytes_read")] public long BytesRead { get; set; }
    /// <summary>Packs that failed verification once but read right again: damaged on the way, not in the store.</summary>
    [JsonPropertyName("packs_damaged_in_transit")] public int PacksDamagedInTransit => Volatile.Read(ref _damagedInTransit);
    private int _damagedInTransit;

    internal void CountDamagedInTransit() => Interlocked.Increment(ref _damagedInTransit);

    internal void Add(ProblemSeverity severity, string? file, Id? blob, string message)
    {
        lock (_lock) _problems.Add(new CheckProblem(severity, file, blob, message));
    }

    internal void Error(string? file, Id? blob, string message) => Add(ProblemSeverity.Error, file, blob, message);
    internal void Warning(string? file, string message) => Add(ProblemSeverity.Warning, file, null, message);
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(CheckReport))]
public partial class CheckReportJson : JsonSerializerContext;
