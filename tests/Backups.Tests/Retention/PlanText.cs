using System.Text;
using System.Text.Json;
using Backups.Core.Retention;

namespace Backups.Tests.Retention;

/// <summary>
/// A forget decision as comparable text, one group after another (sorted by key; restic prints groups in map
/// order): each kept snapshot with its reasons and counters in order, then each removed one.
/// </summary>
public static class PlanText
{
    /// <summary>From restic's `forget --json` output (ours has the same shape). No output means no groups.</summary>
    public static string FromJson(string json)
    {
        if (json.Trim() == "") return "";
        var groups = new List<(string Key, string Body)>();
        foreach (var g in JsonDocument.Parse(json).RootElement.EnumerateArray())
        {
            var key = Key(g.GetProperty("host").GetString()!, Strings(g.GetProperty("paths")), Strings(g.GetProperty("tags")));
            var body = new StringBuilder();
            var keep = List(g.GetProperty("keep"));
            var reasons = List(g.GetProperty("reasons"));
            for (var i = 0; i < keep.Count; i++)
            {
                var counters = reasons[i].GetProperty("counters");
                int C(string name) => counters.TryGetProperty(name, out var v) ? v.GetInt32() : 0;
                Keep(body, keep[i].GetProperty("id").GetString()!, Strings(reasons[i].GetProperty("matches"))!,
                    new RemainingCounts(C("last"), C("hourly"), C("daily"), C("weekly"), C("monthly"), C("yearly")));
            }
            foreach (var r in List(g.GetProperty("remove"))) body.AppendLine($"  remove {r.GetProperty("id").GetString()}");
            groups.Add((key, body.ToString()));
        }
        return Join(groups);
    }

    public static string FromPlan(ForgetPlan plan) => Join(plan.Groups.Select(g =>
    {
        var body = new StringBuilder();
        foreach (var r in g.Reasons) Keep(body, r.Snapshot.Id.ToString(), r.Matches, r.Counters);
        foreach (var s in g.Remove) body.AppendLine($"  remove {s.Id}");
        return (Key(g.Key.Host, g.Key.Paths, g.Key.Tags), body.ToString());
    }).ToList());

    private static void Keep(StringBuilder body, string id, IReadOnlyList<string> matches, RemainingCounts c) =>
        body.AppendLine($"  keep {id} [{string.Join("; ", matches)}] {c.Last}/{c.Hourly}/{c.Daily}/{c.Weekly}/{c.Monthly}/{c.Yearly}");

    private static string Key(string host, IReadOnlyList<string>? paths, IReadOnlyList<string>? tags) =>
        $"group host={host} paths={(paths == null ? "null" : string.Join(",", paths))} tags={(tags == null ? "null" : string.Join(",", tags))}";

    private static string Join(List<(string Key, string Body)> groups) =>
        string.Concat(groups.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key + "\n" + g.Body));

    private static List<JsonElement> List(JsonElement e) => e.ValueKind == JsonValueKind.Null ? [] : e.EnumerateArray().ToList();

    private static List<string>? Strings(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.EnumerateArray().Select(x => x.GetString()!).ToList();
}
