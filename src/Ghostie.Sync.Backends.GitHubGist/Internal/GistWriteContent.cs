using System.Net;
using System.Text;

namespace Ghostie.Sync.Backends.GitHubGist.Internal;

/// <summary>One file to write: its content is <see cref="Text"/> followed by base64url of <see cref="Binary"/>.</summary>
internal readonly record struct GistUpload(string FileName, string Text, ReadOnlyMemory<byte> Binary)
{
    public long StoredLength => Encoding.UTF8.GetByteCount(Text) + GistFormat.EncodedLength(Binary.Length);
}

/// <summary>
/// The JSON body of "create a gist" and "update a gist", written straight to the request stream: a multi-megabyte chunk
/// is encoded slice by slice, never held as one string. The length is known in advance (no chunked transfer encoding).
/// </summary>
internal sealed class GistWriteContent : HttpContent
{
    private readonly string? _description;
    private readonly bool _create;
    private readonly IReadOnlyList<string> _deletions;
    private readonly IReadOnlyList<GistUpload> _uploads;

    public GistWriteContent(string? description, bool create, IReadOnlyList<string> deletions, IReadOnlyList<GistUpload> uploads)
    {
        _description = description;
        _create = create;
        _deletions = deletions;
        _uploads = uploads;
        Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await WriteAsync(stream, Prefix(), cancellationToken).ConfigureAwait(false);
        bool first = true;
        foreach (string deletion in _deletions)
        {
            await WriteAsync(stream, (first ? "" : ",") + Quote(deletion) + ":null", cancellationToken).ConfigureAwait(false);
            first = false;
        }

        foreach (GistUpload upload in _uploads)
        {
            await WriteAsync(stream, (first ? "" : ",") + Quote(upload.FileName) + ":{\"content\":\"" + Escape(upload.Text), cancellationToken).ConfigureAwait(false);
            await GistFormat.WriteBase64UrlAsync(stream, upload.Binary, cancellationToken).ConfigureAwait(false);
            await WriteAsync(stream, "\"}", cancellationToken).ConfigureAwait(false);
            first = false;
        }

        await WriteAsync(stream, "}}", cancellationToken).ConfigureAwait(false);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = Encoding.UTF8.GetByteCount(Prefix()) + 2;
        bool first = true;
        foreach (string deletion in _deletions)
        {
            length += Encoding.UTF8.GetByteCount((first ? "" : ",") + Quote(deletion) + ":null");
            first = false;
        }

        foreach (GistUpload upload in _uploads)
        {
            length += Encoding.UTF8.GetByteCount((first ? "" : ",") + Quote(upload.FileName) + ":{\"content\":\"" + Escape(upload.Text))
                + GistFormat.EncodedLength(upload.Binary.Length) + 2;
            first = false;
        }

        return true;
    }

    private string Prefix()
    {
        var prefix = new StringBuilder("{");
        if (_description is not null)
        {
            prefix.Append("\"description\":").Append(Quote(_description)).Append(',');
        }

        if (_create)
        {
            prefix.Append("\"public\":false,");
        }

        return prefix.Append("\"files\":{").ToString();
    }

    private static Task WriteAsync(Stream stream, string text, CancellationToken cancellationToken) =>
        stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).AsTask();

    private static string Quote(string text) => "\"" + Escape(text) + "\"";

    /// <summary>JSON string escaping: quote, backslash and control characters.</summary>
    internal static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            switch (c)
            {
                case '"':
                    escaped.Append("\\\"");
                    break;
                case '\\':
                    escaped.Append("\\\\");
                    break;
                case '\n':
                    escaped.Append("\\n");
                    break;
                case < ' ':
                    escaped.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    break;
                default:
                    escaped.Append(c);
                    break;
            }
        }

        return escaped.ToString();
    }
}
