namespace Ghostie.Sync.Tests;

/// <summary>Whole listings in tests (whole objects: <see cref="Ghostie.Sync.Testing.StorageReads"/>).</summary>
internal static class TestReads
{
    public static async Task<List<string>> ToListAsync(this IAsyncEnumerable<string> source)
    {
        var list = new List<string>();
        await foreach (string item in source)
        {
            list.Add(item);
        }

        return list;
    }
}
