namespace Ghostie.Sync.Backends.GitHubGist.Internal;

/// <summary>One gist of the repository, with its files as last seen (names, sizes, raw URLs).</summary>
internal sealed class Shard(GistResource gist)
{
    public string Id { get; } = gist.Id;

    public DateTimeOffset CreatedAt { get; } = gist.CreatedAt;

    /// <summary>GitHub's updated_at as listed (whole seconds).</summary>
    public DateTimeOffset UpdatedAt { get; } = gist.UpdatedAt;

    /// <summary>True when the gist holds nothing but the repository marker.</summary>
    public bool MarkerOnly => Files.Count > 0 && Files.Keys.All(f => f == GistFormat.MarkerFileName);

    public Dictionary<string, GistFileResource> Files { get; private set; } = Copy(gist);

    public int Count => Files.Count;

    public long Bytes => Files.Values.Sum(f => f.Size);

    /// <summary>Records an update this process made (raw URLs of added files are unknown until the next listing).</summary>
    public void Apply(IEnumerable<string> deletions, IEnumerable<GistUpload> uploads)
    {
        foreach (string deletion in deletions)
        {
            Files.Remove(deletion);
        }

        foreach (GistUpload upload in uploads)
        {
            Files[upload.FileName] = new GistFileResource { FileName = upload.FileName, Size = upload.StoredLength };
        }
    }

    private static Dictionary<string, GistFileResource> Copy(GistResource gist)
    {
        var files = new Dictionary<string, GistFileResource>(StringComparer.Ordinal);
        foreach ((string key, GistFileResource? file) in gist.Files)
        {
            if (file is not null)
            {
                files[file.FileName ?? key] = file;
            }
        }

        return files;
    }
}

/// <summary>A version of an object: its record file in a shard.</summary>
internal sealed record ObjectVersion(string Name, long Generation, string? WriteId, Shard Shard, string FileName, GistFileResource File);

/// <summary>A chunk file in a shard.</summary>
internal sealed record ChunkFile(string WriteId, int Index, Shard Shard, string FileName);

/// <summary>
/// The repository as one listing of the account's gists shows it: the shards (gists whose description is
/// <c>ghostie-sync:TAG</c>), the object records in them (all versions; the current one has the highest generation,
/// ties broken by gist id) and the chunk files.
/// </summary>
internal sealed class GistDirectory
{
    private readonly Dictionary<string, List<ObjectVersion>> _objects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<ChunkFile>> _chunks = new(StringComparer.Ordinal);

    public GistDirectory(IEnumerable<GistResource> gists)
    {
        foreach (GistResource gist in gists.OrderBy(g => g.CreatedAt).ThenBy(g => g.Id, StringComparer.Ordinal))
        {
            var shard = new Shard(gist);
            Shards.Add(shard);
            foreach ((string fileName, GistFileResource file) in shard.Files)
            {
                ParsedFileName parsed = GistFormat.Parse(fileName);
                switch (parsed.Kind)
                {
                    case GistFileKind.Object:
                        Add(_objects, parsed.ObjectName, new ObjectVersion(parsed.ObjectName, parsed.Generation, parsed.WriteId, shard, fileName, file));
                        break;
                    case GistFileKind.Chunk:
                        Add(_chunks, parsed.WriteId!, new ChunkFile(parsed.WriteId!, parsed.ChunkIndex, shard, fileName));
                        break;
                }
            }
        }

        foreach (List<ObjectVersion> versions in _objects.Values)
        {
            versions.Sort((a, b) => a.Generation != b.Generation ? a.Generation.CompareTo(b.Generation) : string.CompareOrdinal(a.Shard.Id, b.Shard.Id));
        }
    }

    public List<Shard> Shards { get; } = [];

    public IEnumerable<string> ObjectNames => _objects.Keys;

    public IEnumerable<IReadOnlyList<ObjectVersion>> AllVersions => _objects.Values;

    public IEnumerable<IReadOnlyList<ChunkFile>> AllChunkSets => _chunks.Values;

    /// <summary>Every version of <paramref name="name"/>, oldest first.</summary>
    public IReadOnlyList<ObjectVersion> Versions(string name) => _objects.TryGetValue(name, out List<ObjectVersion>? versions) ? versions : [];

    public ObjectVersion? Current(string name) => _objects.TryGetValue(name, out List<ObjectVersion>? versions) ? versions[^1] : null;

    public IReadOnlyList<ChunkFile> Chunks(string writeId) => _chunks.TryGetValue(writeId, out List<ChunkFile>? chunks) ? chunks : [];

    public Shard? Find(string gistId) => Shards.Find(s => s.Id == gistId);

    private static void Add<T>(Dictionary<string, List<T>> map, string key, T value)
    {
        if (!map.TryGetValue(key, out List<T>? list))
        {
            map[key] = list = [];
        }

        list.Add(value);
    }
}
