namespace Ghostie.Sync.Testing;

/// <summary>Reading whole objects and whole listings in tests.</summary>
public static class StorageReads
{
    /// <summary>Reads an object completely, or null when it is missing.</summary>
    /// <param name="backend">The backend.</param>
    /// <param name="name">The object name.</param>
    public static async Task<byte[]?> ReadAllAsync(this IStorageBackend backend, string name)
    {
        ArgumentNullException.ThrowIfNull(backend);
        await using Stream? stream = await backend.GetAsync(name);
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>Lists every name under a prefix into a list.</summary>
    /// <param name="backend">The backend.</param>
    /// <param name="prefix">The prefix.</param>
    public static async Task<List<string>> ListAllAsync(this IStorageBackend backend, string prefix)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var names = new List<string>();
        await foreach (string name in backend.ListAsync(prefix))
        {
            names.Add(name);
        }

        return names;
    }
}
