namespace Ghostie.Sync.Tests;

/// <summary>Reading whole objects and listings in tests.</summary>
internal static class TestReads
{
    public static async Task<byte[]?> ReadAllAsync(this IStorageBackend backend, string name)
    {
        await using Stream? stream = await backend.GetAsync(name);
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

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
