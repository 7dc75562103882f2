using System.Text.RegularExpressions;

namespace Ghostie.Sync.Tests;

/// <summary>docs/architecture.md must describe the code as it is: its dependency graph is the projects' references,
/// and every file or folder it names exists.</summary>
public sealed partial class ArchitectureDocTests
{
    private static readonly string Root = FindRoot();

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

    private static string Doc => File.ReadAllText(Path.Combine(Root, "docs", "architecture.md"));

    [Fact]
    public void DependencyGraph_IsTheProjectReferences_OfEverySrcAndSampleProject()
    {
        string mermaid = MermaidBlock().Match(Doc).Groups[1].Value;
        Dictionary<string, string> names = NodeDeclaration().Matches(mermaid).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var documented = Edge().Matches(mermaid).Select(m => $"{names[m.Groups[1].Value]} -> {names[m.Groups[2].Value]}").ToHashSet();

        var actual = new HashSet<string>();
        var projects = new HashSet<string>();
        foreach (string csproj in Directory.EnumerateFiles(Path.Combine(Root, "src"), "*.csproj", SearchOption.AllDirectories)
                     .Concat(Directory.EnumerateFiles(Path.Combine(Root, "samples"), "*.csproj", SearchOption.AllDirectories)))
        {
            string from = Path.GetFileNameWithoutExtension(csproj);
            projects.Add(from);
            foreach (Match reference in ProjectReference().Matches(File.ReadAllText(csproj)))
            {
                actual.Add($"{from} -> {Path.GetFileNameWithoutExtension(reference.Groups[1].Value.Replace('\\', '/'))}");
            }
        }

        Assert.Equal(actual.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
        Assert.Equal(projects.Order(StringComparer.Ordinal), names.Values.Order(StringComparer.Ordinal)); // every project is a node
    }

    [Fact]
    public void EveryPathTheDocNames_Exists()
    {
        var missing = new List<string>();
        foreach (Match m in CodePath().Matches(Doc))
        {
            string path = m.Groups[1].Value.TrimEnd('/');
            if (path.Contains('<', StringComparison.Ordinal) || path.Contains('*', StringComparison.Ordinal))
            {
                continue; // a pattern, not a path
            }

            string full = Path.Combine(Root, path);
            if (!File.Exists(full) && !Directory.Exists(full))
            {
                missing.Add(path);
            }
        }

        Assert.True(missing.Count == 0, "docs/architecture.md names paths that do not exist: " + string.Join(", ", missing));
        Assert.True(CodePath().Matches(Doc).Count > 20, "the path check found too few paths to be checking anything");
    }

    [GeneratedRegex(@"```mermaid\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex MermaidBlock();

    [GeneratedRegex(@"^\s*(\w+)\[""([^""]+)""\]", RegexOptions.Multiline)]
    private static partial Regex NodeDeclaration();

    [GeneratedRegex(@"^\s*(\w+) --> (\w+)\s*$", RegexOptions.Multiline)]
    private static partial Regex Edge();

    [GeneratedRegex(@"<ProjectReference\s+Include=""([^""]+)""")]
    private static partial Regex ProjectReference();

    [GeneratedRegex(@"`((?:src|samples|tests|docs)/[^`\s]+)`")]
    private static partial Regex CodePath();
}
