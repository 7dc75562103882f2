using System.Diagnostics;
using System.Text;

namespace Ghostie.Sync.KnowledgeGraph.Tests;

public sealed class MemoryGraphFileTests
{
    private static readonly string[] Tricky =
    [
        "plain", "quote \" backslash \\ slash /", "new\nline\r\ttab\b\f", "\u0001\u001f\u007f", "é ü 日本語", "emoji 😀", "\u2028\u2029",
        "<script>&amp;</script>", "lone \ud800 surrogate", "",
    ];

    [Fact]
    public void Serialize_TrickyStrings_ByteIdenticalToWhatTheServerWrites()
    {
        // The oracle is node's own JSON.stringify in the memory server's saveGraph layout.
        var graph = new KnowledgeGraph(
            [new GraphEntity("Alice \"A\"", "person\n", Tricky), new GraphEntity("日本", "", [])],
            [new GraphRelation("Alice \"A\"", "日本", "visits 😀"), new GraphRelation("", "\u0000", "\\")]);
        string script = """
            const fs = require('fs');
            const g = JSON.parse(fs.readFileSync(0, 'utf8'));
            const lines = [
              ...g.entities.map(e => JSON.stringify({ type: "entity", name: e.name, entityType: e.entityType, observations: e.observations })),
              ...g.relations.map(r => JSON.stringify({ type: "relation", from: r.from, to: r.to, relationType: r.relationType })),
            ];
            process.stdout.write(lines.join("\n"));
            """;
        // The input travels with every character as a \uXXXX escape, so the lone surrogate reaches node intact.
        static string Q(string value) => "\"" + string.Concat(value.Select(c => $"\\u{(int)c:x4}")) + "\"";
        string input = "{\"entities\":[" + string.Join(",", graph.Entities.Select(e =>
                $"{{\"name\":{Q(e.Name)},\"entityType\":{Q(e.EntityType)},\"observations\":[{string.Join(",", e.Observations.Select(Q))}]}}"))
            + "],\"relations\":[" + string.Join(",", graph.Relations.Select(r =>
                $"{{\"from\":{Q(r.From)},\"to\":{Q(r.To)},\"relationType\":{Q(r.RelationType)}}}")) + "]}";
        byte[] expected = RunNode(script, input);

        byte[] actual = MemoryGraphFile.Serialize(graph);

        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(actual));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Parse_WhatSerializeWrote_SameGraph()
    {
        var graph = new KnowledgeGraph([new GraphEntity("a", "t", Tricky.Where(t => !t.Contains('\ud800', StringComparison.Ordinal)).ToArray())], [new GraphRelation("a", "b", "r")]);

        GraphFileContent parsed = MemoryGraphFile.Parse(MemoryGraphFile.Serialize(graph));

        Assert.Empty(parsed.KeptLines);
        Assert.Equal(GraphDevice.Describe(graph), GraphDevice.Describe(parsed.Graph));
        Assert.Equal(graph.Entities[0].Observations, parsed.Graph.Entities[0].Observations);
    }

    [Fact]
    public void Parse_MalformedAndForeignLines_KeptByteForByteWithTheirLineNumbers()
    {
        byte[] invalidUtf8 = [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'];
        byte[] file = [
            .. Encoding.UTF8.GetBytes(Lines.Entity("Alice", "person", "likes tea") + "\n"),
            .. Encoding.UTF8.GetBytes("{\"type\":\"entity\",\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[\"cut off\n"),
            .. Encoding.UTF8.GetBytes("   \n"),
            .. Encoding.UTF8.GetBytes("{\"type\":\"note\",\"text\":\"something else\"}\r\n"),
            .. invalidUtf8, (byte)'\n',
            .. Encoding.UTF8.GetBytes("{\"type\":\"entity\",\"name\":\"Carol\",\"entityType\":\"person\"}\n"),
            .. Encoding.UTF8.GetBytes("[1,2]\n"),
            .. Encoding.UTF8.GetBytes(Lines.Relation("Alice", "knows", "Bob")),
        ];

        GraphFileContent content = MemoryGraphFile.Parse(file);

        Assert.Equal(["entity Alice:person [likes tea]", "relation Alice-knows->Bob"], GraphDevice.Describe(content.Graph));
        Assert.Equal([2, 4, 5, 6, 7], content.KeptLines.Select(l => l.LineNumber));
        Assert.Equal("{\"type\":\"entity\",\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[\"cut off", Encoding.UTF8.GetString(content.KeptLines[0].Bytes.Span));
        Assert.Equal("{\"type\":\"note\",\"text\":\"something else\"}\r", Encoding.UTF8.GetString(content.KeptLines[1].Bytes.Span));
        Assert.Equal(invalidUtf8, content.KeptLines[2].Bytes.ToArray());
        Assert.Contains("not valid JSON", content.KeptLines[0].Problem, StringComparison.Ordinal);
        Assert.Contains("neither \"entity\" nor \"relation\"", content.KeptLines[1].Problem, StringComparison.Ordinal);
        Assert.Contains("observations", content.KeptLines[3].Problem, StringComparison.Ordinal);
        Assert.DoesNotContain(content.KeptLines, l => l.Problem.Contains("cut off", StringComparison.Ordinal) || l.Problem.Contains("something else", StringComparison.Ordinal));

        // Written back after the graph, unchanged.
        byte[] written = MemoryGraphFile.Serialize(content.Graph, content.KeptLines);
        GraphFileContent again = MemoryGraphFile.Parse(written);
        Assert.Equal(content.KeptLines.Select(l => l.Bytes.ToArray()), again.KeptLines.Select(l => l.Bytes.ToArray()));
    }

    [Fact]
    public void Parse_EntityOnTwoLines_OneEntityWithBothObservationsAndANote()
    {
        string file = string.Join("\n", Lines.Entity("Alice", "person", "a", "b"), Lines.Entity("Alice", "robot", "b", "c"));

        GraphFileContent content = MemoryGraphFile.Parse(Encoding.UTF8.GetBytes(file));

        Assert.Equal(["entity Alice:person [a, b, c]"], GraphDevice.Describe(content.Graph));
        string note = Assert.Single(content.Notes);
        Assert.Contains("line 2 repeats the entity of line 1", note, StringComparison.Ordinal);
    }

    private static byte[] RunNode(string script, string stdin)
    {
        var start = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-e");
        start.ArgumentList.Add(script);
        using Process process = Process.Start(start)!;
        process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        using var output = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(output);
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, errors);
        return output.ToArray();
    }
}
