using Ghostie.Sync.Vectors.Local;

namespace Ghostie.Sync.Vectors.Tests;

/// <summary>Fixed-seed vector sets: uniform noise, and clusters (centre plus Gaussian noise) like real embeddings.</summary>
internal static class TestData
{
    public static float[][] Uniform(int count, int dim, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
    }

    public static float[][] Clustered(int count, int dim, int clusters, int seed, double noise = 0.9)
    {
        var random = new Random(seed);
        float[][] centres = Enumerable.Range(0, clusters).Select(_ => Normalize(Enumerable.Range(0, dim).Select(_ => (float)Gaussian(random)).ToArray())).ToArray();
        return Enumerable.Range(0, count).Select(_ =>
        {
            float[] centre = centres[random.Next(clusters)];
            double spread = noise / Math.Sqrt(dim) * (0.5 + random.NextDouble());
            return Normalize(centre.Select(c => (float)(c + Gaussian(random) * spread)).ToArray());
        }).ToArray();
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    public static float[] Normalize(float[] v)
    {
        double norm = Math.Sqrt(v.Sum(x => (double)x * x));
        return v.Select(x => (float)(x / norm)).ToArray();
    }

    public static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }

    /// <summary>The exact top-k keys by cosine similarity, computed naively in double precision.</summary>
    public static (string Key, double Score)[] BruteForce(float[][] vectors, float[] query, int k) =>
        vectors.Select((v, i) => (Key: Key(i), Score: Cosine(v, query))).OrderByDescending(p => p.Score).ThenBy(p => p.Key, StringComparer.Ordinal).Take(k).ToArray();

    public static string Key(int i) => "k" + i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    public static async Task<LocalVectorCollection> FillAsync(float[][] vectors, LocalVectorStoreOptions options, string name = "test", string model = "test-model", string keyPrefix = "")
    {
        var collection = LocalVectorCollection.Create(name, new EmbeddingModelInfo(model, vectors[0].Length), options);
        await collection.UpsertAsync(vectors.Select((v, i) => new VectorRecord(keyPrefix + Key(i), v, new Dictionary<string, string> { ["parity"] = (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture) })));
        return collection;
    }
}
