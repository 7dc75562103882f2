using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Ghostie.Sync.Backends.GoogleDrive.Internal;
using Ghostie.Sync.Shared;

namespace Ghostie.Sync.Backends.GoogleDrive;

/// <summary>Uploads (https://developers.google.com/drive/api/guides/manage-uploads): multipart for small objects,
/// resumable in 256 KiB-multiple chunks for large ones.</summary>
public sealed partial class GoogleDriveBackend
{
    private const string MultipartBoundary = "ghostie-drive-part-9d1c4a";

    /// <summary>One multipart request: a create, or the replacement of <paramref name="fileId"/>'s content. A create
    /// retried after an ambiguous failure first looks for its write id, so it never makes a second file.</summary>
    private async Task PutMultipartAsync(string name, string? fileId, string writeId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        bool sent = false;
        bool create = fileId is null;
        byte[] metadata = MetadataJson(name, create ? _parent : null, writeId);
        bool done = await RunAsync(create ? "CREATE" : "UPDATE", name, async ct =>
        {
            if (create && sent && await LandedAsync(name, writeId, ct).ConfigureAwait(false))
            {
                return true; // the earlier attempt landed; its answer was lost
            }

            sent = true;
            HttpResponseMessage response = await SendAsync(() =>
            {
                var body = new MultipartContent("related", MultipartBoundary);
                var json = new ByteArrayContent(metadata);
                json.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "UTF-8" };
                body.Add(json);
                body.Add(Bytes(data));
                return Request(create ? HttpMethod.Post : HttpMethod.Patch,
                    create ? "upload/drive/v3/files?uploadType=multipart&fields=id" : $"upload/drive/v3/files/{Uri.EscapeDataString(fileId!)}?uploadType=multipart&fields=id", body);
            }, ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                response.Dispose();
                return true;
            }

            HttpAttemptException failure = await FailureAsync(response, create ? "CREATE" : "UPDATE", ct).ConfigureAwait(false);
            return !create && IsNotFound(failure) ? false : throw failure;
        }, cancellationToken).ConfigureAwait(false);
        if (!done)
        {
            // The file was deleted by another device between the lookup and the update: create it instead.
            await PutMultipartAsync(name, null, writeId, data, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A resumable upload, streamed: the buffer holds the bytes from <c>bufferStart</c> that Google has not confirmed
    /// yet. Every chunk sent but the last is exactly <see cref="GoogleDriveBackendOptions.ChunkSize"/> (a multiple of
    /// 256 KiB). After a failed chunk, the session's status says how many bytes Google kept (308 and Range), the buffer
    /// drops those and is filled up again, and the upload goes on from there. The file appears only when the last chunk
    /// is accepted.
    /// </summary>
    private async Task PutResumableAsync(string name, string? fileId, string writeId, Stream content, byte[] buffer, int filled, CancellationToken cancellationToken)
    {
        Uri session = await StartSessionAsync(name, fileId, writeId, cancellationToken).ConfigureAwait(false);
        int chunk = _options.ChunkSize;
        long bufferStart = 0;
        bool exhausted = false;
        int lookahead = -1;
        while (true)
        {
            // Fill the buffer to one chunk, and find out whether the stream ends with it (one byte of lookahead).
            if (lookahead >= 0 && filled < chunk)
            {
                buffer[filled++] = (byte)lookahead;
                lookahead = -1;
            }

            if (!exhausted && filled < chunk)
            {
                int read = await ReadUpToAsync(content, buffer.AsMemory(filled, chunk - filled), cancellationToken).ConfigureAwait(false);
                filled += read;
                exhausted = filled < chunk;
            }

            if (!exhausted && lookahead < 0)
            {
                byte[] one = new byte[1];
                exhausted = await content.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0;
                lookahead = exhausted ? -1 : one[0];
            }

            bool final = exhausted && lookahead < 0;
            long? total = final ? bufferStart + filled : null;

            // The first read may hold more than one chunk (ResumableThreshold above ChunkSize): a non-final send is a whole
            // number of chunks, the rest stays in the buffer.
            int send = final ? filled : filled - (filled % chunk);
            (long received, bool complete) = await SendChunkAsync(name, session, buffer, bufferStart, send, total, cancellationToken).ConfigureAwait(false);
            if (complete)
            {
                return;
            }

            int confirmed = checked((int)(received - bufferStart));
            if (confirmed < 0 || confirmed > send)
            {
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"Google Drive reported {received} bytes received for the upload of '{name}' to {DisplayName}, which does not match what was sent; try again.", isTransient: true);
            }

            if (confirmed < filled)
            {
                Log.ResumingUpload(_logger, name, received);
            }

            Buffer.BlockCopy(buffer, confirmed, buffer, 0, filled - confirmed);
            filled -= confirmed;
            bufferStart = received;
        }
    }

    private async Task<Uri> StartSessionAsync(string name, string? fileId, string writeId, CancellationToken cancellationToken)
    {
        bool create = fileId is null;
        byte[] metadata = MetadataJson(name, create ? _parent : null, writeId);
        Uri? session = await RunAsync<Uri?>(create ? "CREATE (resumable)" : "UPDATE (resumable)", name, async ct =>
        {
            HttpResponseMessage response = await SendAsync(() =>
            {
                var json = new ByteArrayContent(metadata);
                json.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "UTF-8" };
                HttpRequestMessage request = Request(create ? HttpMethod.Post : HttpMethod.Patch,
                    create ? "upload/drive/v3/files?uploadType=resumable&fields=id" : $"upload/drive/v3/files/{Uri.EscapeDataString(fileId!)}?uploadType=resumable&fields=id", json);
                request.Headers.TryAddWithoutValidation("X-Upload-Content-Type", "application/octet-stream");
                return request;
            }, ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                using (response)
                {
                    return response.Headers.Location is { IsAbsoluteUri: true } location
                        ? location
                        : throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"Google Drive started an upload of '{name}' to {DisplayName} without a session URI; try again.", isTransient: true);
                }
            }

            HttpAttemptException failure = await FailureAsync(response, "CREATE (resumable)", ct).ConfigureAwait(false);
            return !create && IsNotFound(failure) ? null : throw failure;
        }, cancellationToken).ConfigureAwait(false);

        // The file was deleted between the lookup and the update: a new file instead.
        return session ?? await StartSessionAsync(name, null, writeId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends the buffer (bytes from <paramref name="start"/>) as one chunk; retried attempts first ask the session how
    /// far it got. Returns the bytes Google holds and whether the upload is complete.</summary>
    private Task<(long Received, bool Complete)> SendChunkAsync(string name, Uri session, byte[] buffer, long start, int count, long? total,
        CancellationToken cancellationToken)
    {
        int attempt = 0;
        string totalText = total?.ToString(CultureInfo.InvariantCulture) ?? "*";
        return RunAsync("UPLOAD chunk", name, async ct =>
        {
            long offset = start;
            if (attempt++ > 0)
            {
                // manage-uploads, resume an interrupted upload: an empty PUT with Content-Range: bytes */TOTAL.
                (long held, bool done) = await QueryAsync(name, session, totalText, ct).ConfigureAwait(false);
                if (done || held != start)
                {
                    return (held, done); // the caller drops what Google kept and refills the buffer
                }
            }

            int length = count - (int)(offset - start);
            HttpResponseMessage response = await SendAsync(() =>
            {
                var body = new ByteArrayContent(buffer, (int)(offset - start), length);
                body.Headers.TryAddWithoutValidation("Content-Range", length == 0
                    ? $"bytes */{totalText}"
                    : $"bytes {offset.ToString(CultureInfo.InvariantCulture)}-{(offset + length - 1).ToString(CultureInfo.InvariantCulture)}/{totalText}");
                return new HttpRequestMessage(HttpMethod.Put, session) { Content = body };
            }, ct).ConfigureAwait(false);
            return await ReadProgressAsync(name, response, "UPLOAD chunk", ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    private async Task<(long Received, bool Complete)> QueryAsync(string name, Uri session, string totalText, CancellationToken cancellationToken)
    {
        HttpResponseMessage response = await SendAsync(() =>
        {
            var body = new ByteArrayContent([]);
            body.Headers.TryAddWithoutValidation("Content-Range", "bytes */" + totalText);
            return new HttpRequestMessage(HttpMethod.Put, session) { Content = body };
        }, cancellationToken).ConfigureAwait(false);
        return await ReadProgressAsync(name, response, "UPLOAD status", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>200/201: complete. 308 Resume Incomplete: the Range header says how many bytes Google holds (none when
    /// absent). 404: the session expired.</summary>
    private async Task<(long Received, bool Complete)> ReadProgressAsync(string name, HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();

            // "If you receive a 404 Not Found response, the upload session has expired and the upload must be restarted
            // from the beginning": the bytes already read from the caller's stream cannot be read again here.
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"The upload session of '{name}' in {DisplayName} expired before the upload finished; nothing was written. Try again.", isTransient: true);
        }

        if (response.IsSuccessStatusCode)
        {
            response.Dispose();
            return (-1, true);
        }

        if ((int)response.StatusCode == 308)
        {
            using (response)
            {
                long received = 0;
                if (response.Headers.NonValidated.TryGetValues("Range", out HeaderStringValues values))
                {
                    string range = values.ToString();
                    int dash = range.LastIndexOf('-');
                    if (!range.StartsWith("bytes=0-", StringComparison.Ordinal) || !long.TryParse(range[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out long last))
                    {
                        throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"Google Drive answered an upload with an unreadable Range header; try again.", isTransient: true);
                    }

                    received = last + 1;
                }

                return (received, false);
            }
        }

        throw await FailureAsync(response, operation, cancellationToken).ConfigureAwait(false);
    }
}
