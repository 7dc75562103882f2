using Ghostie.Sync.Crypto;

namespace Ghostie.Sync;

/// <summary>
/// What a storage backend holds of the repository layout (docs/format.md, "Storage names"), counted by kind: enough
/// to tell storage that holds nothing of a repository from one that holds a repository, whole or in part.
/// </summary>
/// <param name="KeyFiles">Objects under <c>keys/</c>.</param>
/// <param name="Epochs">Objects under <c>epochs/</c>.</param>
/// <param name="Heads">Objects under <c>h/</c> (device heads).</param>
/// <param name="Packs">Objects under <c>p/</c> (packs of memory versions).</param>
/// <param name="HandoffPackages">Objects under <c>x/</c> (conversation handoff packages).</param>
/// <param name="HandoffClaims">Objects under <c>xc/</c> (resume claims on handoff packages).</param>
/// <param name="VectorObjects">Objects under <c>v/</c> (synchronized vector collections).</param>
public sealed record RepositoryContents(int KeyFiles, int Epochs, int Heads, int Packs, int HandoffPackages, int HandoffClaims, int VectorObjects)
{
    /// <summary>The prefixes of the repository layout, with the singular and plural noun of what lives under each.</summary>
    private static readonly (string Prefix, string One, string Many)[] Layout =
    [
        (RepositoryKeys.KeyFilePrefix, "file under keys/ that is not a key file that opens", "files under keys/ that are not key files that open"),
        (RepositoryKeys.EpochPrefix, "epoch", "epochs"),
        ("h/", "head", "heads"),
        ("p/", "pack", "packs"),
        ("x/", "handoff package", "handoff packages"),
        ("xc/", "handoff claim", "handoff claims"),
        ("v/", "vector object", "vector objects"),
    ];

    /// <summary>Whether the backend holds no object of the repository layout at all (objects under other names do not count).</summary>
    public bool IsEmpty => KeyFiles + Epochs + Heads + Packs + HandoffPackages + HandoffClaims + VectorObjects == 0;

    /// <summary>
    /// Lists each prefix of the repository layout once (seven listings, no download) and counts what is there.
    /// Anything under a layout prefix counts, well-formed or not: the count errs on the side of "something is there".
    /// </summary>
    /// <param name="backend">The storage to look at.</param>
    /// <param name="cancellationToken">Cancels the listings.</param>
    /// <returns>The counts.</returns>
    public static async Task<RepositoryContents> ReadAsync(IStorageBackend backend, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var counts = new int[Layout.Length];
        for (int i = 0; i < Layout.Length; i++)
        {
            string prefix = Layout[i].Prefix;
            await foreach (string name in backend.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            {
                // "x/" also lists nothing of "xc/" (the slash ends the prefix), but a backend may list loosely: check.
                if (name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    counts[i]++;
                }
            }
        }

        return new RepositoryContents(counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6]);
    }

    /// <summary>What is there, in words, for example "3 heads, 12 packs and 1 epoch"; "nothing" when empty.</summary>
    /// <returns>The description.</returns>
    public string DescribeObjects()
    {
        int[] counts = [KeyFiles, Epochs, Heads, Packs, HandoffPackages, HandoffClaims, VectorObjects];
        // Heads and packs first: they are what a user recognizes as "the data".
        int[] order = [2, 3, 1, 4, 5, 6, 0];
        var parts = new List<string>();
        foreach (int i in order)
        {
            if (counts[i] > 0)
            {
                parts.Add(counts[i].ToString(System.Globalization.CultureInfo.InvariantCulture) + " " + (counts[i] == 1 ? Layout[i].One : Layout[i].Many));
            }
        }

        return parts.Count switch
        {
            0 => "nothing",
            1 => parts[0],
            _ => string.Join(", ", parts.Take(parts.Count - 1)) + " and " + parts[^1],
        };
    }
}
