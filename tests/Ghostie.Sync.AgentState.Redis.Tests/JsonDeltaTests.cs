using System.Text.Json.Nodes;
using Ghostie.Sync.AgentState.Redis.Internal;

namespace Ghostie.Sync.AgentState.Redis.Tests;

public sealed class JsonDeltaTests
{
    [Fact]
    public void Diff_ThenApply_RebuildsTheTarget_ForRandomEdits()
    {
        var random = new Random(20261206);
        for (int round = 0; round < 300; round++)
        {
            JsonNode from = RandomNode(random, 0);
            JsonNode to = Mutate(random, from.DeepClone(), 0);
            List<PatchOperation> ops = JsonDelta.Diff(from, to);
            JsonNode? rebuilt = JsonDelta.Apply(from, ops);
            Assert.True(JsonNode.DeepEquals(to, rebuilt), $"round {round}: {from.ToJsonString()} -> {to.ToJsonString()} rebuilt as {rebuilt?.ToJsonString()}");
            Assert.Equal(JsonDelta.Sha256(to), JsonDelta.Sha256(rebuilt!));
        }
    }

    [Fact]
    public void Diff_AppendedMessages_AreAppends_NotAReplacedArray()
    {
        JsonNode from = JsonNode.Parse("""{"m":[{"t":"a"},{"t":"b"}],"n":1}""")!;
        JsonNode to = JsonNode.Parse("""{"m":[{"t":"a"},{"t":"b"},{"t":"c"}],"n":1}""")!;
        PatchOperation op = Assert.Single(JsonDelta.Diff(from, to));
        Assert.Equal(("add", "/m/-"), (op.Op, op.Path));
    }

    [Fact]
    public void Sha256_IgnoresMemberOrder_ButNotValues()
    {
        string a = JsonDelta.Sha256(JsonNode.Parse("""{"a":1,"b":{"x":"1","y":[1,2]}}""")!);
        Assert.Equal(a, JsonDelta.Sha256(JsonNode.Parse("""{"b":{"y":[1,2],"x":"1"},"a":1}""")!));
        Assert.NotEqual(a, JsonDelta.Sha256(JsonNode.Parse("""{"a":1,"b":{"x":"1","y":[2,1]}}""")!));
        Assert.NotEqual(a, JsonDelta.Sha256(JsonNode.Parse("""{"a":"1","b":{"x":"1","y":[1,2]}}""")!));
    }

    [Theory]
    [InlineData("""[{"op":"remove","path":"/missing"}]""")]
    [InlineData("""[{"op":"replace","path":"/a/b","value":1}]""")]
    [InlineData("""[{"op":"move","path":"/a"}]""")]
    public void Apply_OperationThatDoesNotFit_IsRefused(string ops)
    {
        List<PatchOperation> parsed = JsonNode.Parse(ops)!.AsArray()
            .Select(o => new PatchOperation { Op = o!["op"]!.GetValue<string>(), Path = o["path"]!.GetValue<string>(), Value = o["value"]?.DeepClone() }).ToList();
        Assert.Throws<FormatException>(() => JsonDelta.Apply(JsonNode.Parse("""{"a":1}"""), parsed));
    }

    private static JsonNode RandomNode(Random random, int depth) => (depth > 2 ? random.Next(3) : random.Next(5)) switch
    {
        0 => JsonValue.Create(random.Next(100)),
        1 => JsonValue.Create("s/~" + random.Next(10)),
        2 => JsonValue.Create(random.Next(2) == 0),
        3 => new JsonArray([.. Enumerable.Range(0, random.Next(4)).Select(_ => RandomNode(random, depth + 1))]),
        _ => new JsonObject(Enumerable.Range(0, random.Next(4)).Select(i => KeyValuePair.Create("k" + i + (i == 1 ? "/~x" : ""), (JsonNode?)RandomNode(random, depth + 1)))),
    };

    private static JsonNode Mutate(Random random, JsonNode node, int depth)
    {
        switch (node)
        {
            case JsonObject obj when obj.Count > 0 && random.Next(3) > 0:
                string key = obj.ElementAt(random.Next(obj.Count)).Key;
                switch (random.Next(3))
                {
                    case 0: obj.Remove(key); break;
                    case 1: obj[key] = Mutate(random, obj[key]!.DeepClone(), depth + 1); break;
                    default: obj["new" + random.Next(5)] = RandomNode(random, depth + 1); break;
                }

                return obj;
            case JsonArray array when random.Next(2) == 0:
                array.Add(RandomNode(random, depth + 1)); // an append
                return array;
            default:
                return random.Next(4) == 0 ? node : RandomNode(random, depth);
        }
    }
}
