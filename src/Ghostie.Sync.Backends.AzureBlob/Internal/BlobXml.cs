using System.Text;
using System.Xml;

namespace Ghostie.Sync.Backends.AzureBlob.Internal;

/// <summary>The XML the Blob service speaks: List Blobs pages, error bodies, and Put Block List bodies. Read with a
/// streaming <see cref="XmlReader"/> (no DTDs, no external entities).</summary>
internal static class BlobXml
{
    private static readonly XmlReaderSettings ReaderSettings = new()
    {
        Async = true,
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreWhitespace = true,
    };

    /// <summary>One page of a List Blobs answer.</summary>
    public sealed record ListPage(List<string> Names, string? NextMarker);

    /// <summary>Reads the blob names and the next marker of an <c>EnumerationResults</c> document.</summary>
    public static async Task<ListPage> ReadListPageAsync(Stream body, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        string? nextMarker = null;
        using XmlReader reader = XmlReader.Create(body, ReaderSettings);
        int depth = -1;
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (reader.NodeType != XmlNodeType.Element)
            {
                continue;
            }

            if (reader.Name == "Blob")
            {
                depth = reader.Depth;
            }
            else if (reader.Name == "Name" && depth >= 0 && reader.Depth == depth + 1)
            {
                // Names with characters XML cannot carry come percent-encoded, flagged Encoded="true".
                bool encoded = reader.GetAttribute("Encoded") == "true";
                string name = await reader.ReadElementContentAsStringAsync().ConfigureAwait(false);
                names.Add(encoded ? Uri.UnescapeDataString(name) : name);
                depth = -1;
            }
            else if (reader.Name == "NextMarker" && !reader.IsEmptyElement)
            {
                nextMarker = await reader.ReadElementContentAsStringAsync().ConfigureAwait(false);
            }
        }

        return new ListPage(names, string.IsNullOrEmpty(nextMarker) ? null : nextMarker);
    }

    /// <summary>The <c>Code</c> of an <c>Error</c> document, or null when the body is not one.</summary>
    public static string? ReadErrorCode(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            using var stream = new MemoryStream(body.ToArray(), writable: false);
            using XmlReader reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.Element && reader.Name == "Code")
                {
                    string code = reader.ReadElementContentAsString().Trim();
                    return code.Length is > 0 and <= 100 ? code : null;
                }
            }
        }
        catch (XmlException)
        {
            // Not XML (a proxy's HTML page, say): no service code.
        }

        return null;
    }

    /// <summary>The Put Block List body committing <paramref name="blockIds"/> in order.</summary>
    public static byte[] BlockList(IReadOnlyList<string> blockIds)
    {
        var xml = new StringBuilder(64 + (blockIds.Count * 40));
        xml.Append("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        foreach (string id in blockIds)
        {
            // Base64 ids need no XML escaping.
            xml.Append("<Latest>").Append(id).Append("</Latest>");
        }

        xml.Append("</BlockList>");
        return Encoding.UTF8.GetBytes(xml.ToString());
    }
}
