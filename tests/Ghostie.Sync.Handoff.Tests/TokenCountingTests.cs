namespace Ghostie.Sync.Handoff.Tests;

/// <summary>
/// Real token counts. The expected counts are OpenAI's own published tiktoken output, copied from the openai-cookbook
/// notebook examples/How_to_count_tokens_with_tiktoken.ipynb (sections 4 "Turn tokens into text" and 5 "Comparing
/// encodings", commit c81359cd): tiktoken is not installed here, so no count below was computed by this code base.
/// </summary>
public sealed class TokenCountingTests
{
    // (text, cl100k_base token ids, o200k_base token ids), as the notebook prints them.
    public static TheoryData<string, int[], int[]> Published => new()
    {
        { "tiktoken is great!", [83, 1609, 5963, 374, 2294, 0], [83, 8251, 2488, 382, 2212, 0] },
        { "antidisestablishmentarianism", [519, 85342, 34500, 479, 8997, 2191], [493, 129901, 376, 160388, 21203, 2367] },
        { "2 + 2 = 4", [17, 489, 220, 17, 284, 220, 19], [17, 659, 220, 17, 314, 220, 19] },
        { "お誕生日おめでとう", [33334, 45918, 243, 21990, 9080, 33334, 62004, 16556, 78699], [8930, 9697, 243, 128225, 8930, 17693, 4344, 48669] },
    };

    [Theory]
    [MemberData(nameof(Published))]
    public void DefaultCounters_PublishedStrings_MatchTiktokenO200k(string text, int[] cl100k, int[] o200k)
    {
        _ = cl100k;
        Assert.Equal(o200k.Length, new CompressionOptions().TokenCounter.CountTokens(text));
        Assert.Equal(o200k.Length, new HandoffResumeOptions().TokenCounter.CountTokens(text));
        Assert.Equal("o200k_base", new CompressionOptions().TokenCounter.Name);
    }

    [Theory]
    [MemberData(nameof(Published))]
    public void TiktokenCounters_PublishedStrings_MatchTokenIds(string text, int[] cl100k, int[] o200k)
    {
        Assert.Equal(cl100k, TiktokenTokenCounter.Cl100kBase.EncodeToIds(text));
        Assert.Equal(o200k, TiktokenTokenCounter.O200kBase.EncodeToIds(text));
        Assert.Equal(cl100k.Length, TiktokenTokenCounter.Cl100kBase.CountTokens(text));
        Assert.Equal(o200k.Length, TiktokenTokenCounter.O200kBase.CountTokens(text));
    }

    [Fact]
    public void TiktokenCounters_Names_AreTheEncodings()
    {
        Assert.Equal("o200k_base", TiktokenTokenCounter.O200kBase.Name);
        Assert.Equal("cl100k_base", TiktokenTokenCounter.Cl100kBase.Name);
        Assert.Same(TiktokenTokenCounter.O200kBase, TiktokenTokenCounter.ForEncoding("O200K_BASE"));
    }

    [Fact]
    public void ForEncoding_Unknown_ThrowsNamingIt()
    {
        var error = Assert.Throws<GhostieSyncException>(() => TiktokenTokenCounter.ForEncoding("p50k_edit"));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains("p50k_edit", error.Message, StringComparison.Ordinal);
        Assert.Contains("o200k_base", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CountTokens_EmptyAndNull_ZeroAndArgumentNull()
    {
        Assert.Equal(0, TiktokenTokenCounter.O200kBase.CountTokens(""));
        Assert.Throws<ArgumentNullException>(() => TiktokenTokenCounter.O200kBase.CountTokens(null!));
    }

    [Fact]
    public void DependencyInjection_DefaultCounter_IsO200k()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddGhostieSync(o => o.Home = "/tmp/x").AddHandoff();
        using var provider = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);
        var counter = (ITokenCounter)provider.GetService(typeof(ITokenCounter))!;
        Assert.Equal("o200k_base", counter.Name);
    }
}

public sealed class SummarizerDependencyInjectionTests
{
    [Fact]
    public void AddHandoff_WithMiniLMRegistered_SelectsSentencesWithIt_ElseWithTheLexicalDefault()
    {
        var withModel = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        Ghostie.Sync.Embeddings.MiniLM.MiniLMGhostieSyncBuilderExtensions.AddMiniLMEmbeddings(withModel.AddGhostieSync(o => o.Home = "/tmp/x").AddHandoff());
        var without = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        without.AddGhostieSync(o => o.Home = "/tmp/x").AddHandoff();

        using var a = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(withModel);
        using var b = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(without);

        var semantic = Assert.IsType<ExtractiveCompressor>(a.GetService(typeof(IContextCompressor)));
        var lexical = Assert.IsType<ExtractiveCompressor>(b.GetService(typeof(IContextCompressor)));
        Assert.Equal("sentence-transformers/all-MiniLM-L6-v2", semantic.EmbeddingModel);
        Assert.Equal("ghostie-hashed-ngram-v1-n3", lexical.EmbeddingModel);
    }
}
