using System.Text.RegularExpressions;

namespace Ghostie.Sync.Handoff.Tests;

/// <summary>
/// The package's public surface is deliberate: docs/architecture.md ("Handoff: the public surface") lists every public
/// type, and each public type has its own file named after it.
/// </summary>
public sealed partial class PublicSurfaceTests
{
    private static readonly string Root = FindRoot();
    private static readonly string Source = Path.Combine(Root, "src", "Ghostie.Sync.Handoff");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ghostie.Sync.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Ghostie.Sync.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void PublicTypes_AreTheOnesTheArchitectureDocLists()
    {
        string doc = File.ReadAllText(Path.Combine(Root, "docs", "architecture.md"));
        string section = Section().Match(doc).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(section), "docs/architecture.md has no 'Handoff: the public surface' section");
        List<string> documented = [.. TableRow().Matches(section)
            .SelectMany(row => TypeName().Matches(row.Groups[1].Value).Select(m => m.Groups[1].Value))];

        List<string> actual = [.. typeof(HandoffService).Assembly.GetExportedTypes().Select(t => t.Name)];

        Assert.Equal(actual.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EveryPublicType_HasItsOwnFile_NamedAfterIt()
    {
        var problems = new List<string>();
        var declaredIn = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(Source, "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                              && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            string stem = Path.GetFileName(file).Split('.')[0]; // HandoffService.Claim.cs is a part of HandoffService
            string relative = Path.GetRelativePath(Source, file);
            foreach (string type in PublicDeclaration().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value).Distinct())
            {
                (declaredIn.TryGetValue(type, out List<string>? files) ? files : declaredIn[type] = []).Add(relative);
                if (type != stem)
                {
                    problems.Add($"{relative} declares public {type}");
                }
            }
        }

        foreach (Type type in typeof(HandoffService).Assembly.GetExportedTypes().Where(t => !t.IsNested))
        {
            if (!declaredIn.ContainsKey(type.Name))
            {
                problems.Add($"no file declares public {type.Name} at column 0");
            }
        }

        Assert.True(declaredIn.Count > 50, $"the declaration pattern found only {declaredIn.Count} public types: it is not checking anything");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [GeneratedRegex(@"^## Handoff: the public surface\n(.*?)(?=^## |\z)", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex Section();

    /// <summary>A row of the surface table: "| area | `Type`, `Type` | why |" (the second cell).</summary>
    [GeneratedRegex(@"^\|[^|\n]*\|([^|\n]*)\|[^\n]*$", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    [GeneratedRegex(@"`(\w+)`")]
    private static partial Regex TypeName();

    [GeneratedRegex(@"^public\s+(?:(?:static|sealed|abstract|partial|readonly)\s+)*(?:class|struct|interface|enum|record(?:\s+struct|\s+class)?)\s+(\w+)", RegexOptions.Multiline)]
    private static partial Regex PublicDeclaration();
}
