using Ghostie.Sync.Shared;

namespace Ghostie.Sync.Shared.Tests;

/// <summary>The naming and privacy helpers the remote vector tiers share (src/Shared/Vectors).</summary>
public sealed class RemoteVectorHelpersTests
{
    [Fact]
    public void KeyId_IsStable_DistinctPerKey_AndAVersion8Uuid()
    {
        Guid a = RemoteVectorNaming.KeyId("memory/1");

        Assert.Equal(a, RemoteVectorNaming.KeyId("memory/1"));
        Assert.NotEqual(a, RemoteVectorNaming.KeyId("memory/2"));
        Assert.NotEqual(a, RemoteVectorNaming.KeyId("Memory/1"));
        string text = RemoteVectorNaming.KeyIdText("memory/1");
        Assert.Equal('8', text[14]); // version nibble
        Assert.Contains(text[19], "89ab"); // RFC 9562 variant
        Assert.Equal(text, text.ToLowerInvariant());
    }

    [Fact]
    public void Pair_IsUnambiguous_WhateverTheNameAndValueHold()
    {
        Assert.NotEqual(RemoteVectorNaming.Pair("a=b", "c"), RemoteVectorNaming.Pair("a", "b=c"));
        Assert.Equal("4:kind=note", RemoteVectorNaming.Pair("kind", "note"));
    }

    [Fact]
    public void DataPolicy_ByDefault_SendsNothing_AndRefusesFiltersOnUnsentProperties()
    {
        var policy = new RemoteDataPolicy([], sendAll: false, "Qdrant", "QdrantVectorOptions.SendDataProperties");
        var data = new Dictionary<string, string> { ["text"] = "secret", ["category"] = "health" };

        Assert.True(policy.SendsNothing);
        Assert.Null(policy.Outgoing(data));
        var error = Assert.Throws<GhostieSyncException>(() => policy.EnsureFilterable(new Dictionary<string, string> { ["category"] = "health" }, "notes"));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void DataPolicy_SendsOnlyTheOptedInProperties_OrAllWhenAsked()
    {
        var some = new RemoteDataPolicy(["category"], sendAll: false, "Pinecone", "o");
        var all = new RemoteDataPolicy([], sendAll: true, "Pinecone", "o");
        var data = new Dictionary<string, string> { ["text"] = "secret", ["category"] = "health" };

        Assert.Equal(new Dictionary<string, string> { ["category"] = "health" }, some.Outgoing(data));
        Assert.Equal(data, all.Outgoing(data));
        some.EnsureFilterable(new Dictionary<string, string> { ["category"] = "x" }, "notes");
    }
}
