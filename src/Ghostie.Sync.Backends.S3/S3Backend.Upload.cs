using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Ghostie.Sync.Backends.S3.Internal;

namespace Ghostie.Sync.Backends.S3;

public partial class S3Backend
{
    /// <summary>S3 accepts at most 10,000 parts per object.</summary>
    private const int MaxParts = 10_000;

    /// <summary>Small objects start in a small buffer that grows only as far as needed.</summary>
    private const int InitialBufferBytes = 64 * 1024;

    /// <summary>Uploads <paramref name="content"/>: up to the multipart threshold in one PUT from a pooled buffer,
    /// larger objects as a multipart upload, one pooled part buffer at a time.</summary>
    /// <param name="name">The object name (validated).</param>
    /// <param name="content">The bytes, read to the end.</param>
    /// <param name="ifNoneMatch">"*" for create-only, or null.</param>
    /// <param name="ifMatch">The ETag the object must still have, or null.</param>
    /// <param name="cancellationToken">Cancels the upload; nothing is left behind.</param>
    /// <returns>False when a condition failed (nothing was written), else true.</returns>
    private protected async Task<bool> UploadAsync(string name, Stream content, string? ifNoneMatch, string? ifMatch, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        long? start = content.CanSeek ? content.Position : null;
        for (int round = 1; ; round++)
        {
            (Outcome outcome, string? why) = await UploadOnceAsync(name, content, ifNoneMatch, ifMatch, cancellationToken).ConfigureAwait(false);
            if (outcome != Outcome.Restart)
            {
                return outcome == Outcome.Stored;
            }

            // AWS: "On a 409 failure you should re-initiate the multipart upload with CreateMultipartUpload and
            // re-upload each part." That needs the bytes again: only a seekable stream can give them.
            if (start is null || round >= Math.Max(1, Options.Retry.MaxAttempts))
            {
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"The upload of '{name}' to {DisplayName} was not completed: {why}. Nothing was written{(start is null ? " (the content cannot be read a second time)" : $" after {round} uploads")}; write it again (sync again).",
                    isTransient: true);
            }

            Log.MultipartRestarted(Logger, DisplayName, name, why!);
            content.Position = start.Value;
        }
    }

    /// <summary>How one upload ended.</summary>
    private enum Outcome
    {
        /// <summary>The object is ours.</summary>
        Stored,

        /// <summary>The write's condition did not hold; nothing was written.</summary>
        ConditionFailed,

        /// <summary>The multipart upload was given up (a conflicting concurrent write, or its upload id is gone) while the
        /// condition may still hold: it must be started again from CreateMultipartUpload.</summary>
        Restart,
    }

    private async Task<(Outcome Outcome, string? Why)> UploadOnceAsync(string name, Stream content, string? ifNoneMatch, string? ifMatch, CancellationToken cancellationToken)
    {
        int threshold = Options.MultipartThresholdBytes;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Clamp(threshold, 1, InitialBufferBytes));
        try
        {
            int filled = 0;
            while (filled < threshold)
            {
                if (filled == buffer.Length)
                {
                    buffer = Grow(buffer, filled, Math.Min(threshold, buffer.Length * 2));
                }

                int read = await content.ReadAsync(buffer.AsMemory(filled, Math.Min(buffer.Length, threshold) - filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return (await PutSingleAsync(name, buffer, filled, ifNoneMatch, ifMatch, cancellationToken).ConfigureAwait(false) ? Outcome.Stored : Outcome.ConditionFailed, null);
                }

                filled += read;
            }

            // Exactly the threshold so far: one more byte decides between a single PUT and a multipart upload.
            byte[] one = new byte[1];
            if (await content.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0)
            {
                return (await PutSingleAsync(name, buffer, filled, ifNoneMatch, ifMatch, cancellationToken).ConfigureAwait(false) ? Outcome.Stored : Outcome.ConditionFailed, null);
            }

            int capacity = Math.Max(threshold, Options.PartSizeBytes);
            if (buffer.Length < capacity)
            {
                buffer = Grow(buffer, filled, capacity);
            }

            return await PutMultipartAsync(name, content, buffer, filled, one[0], ifNoneMatch, ifMatch, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static byte[] Grow(byte[] buffer, int filled, int size)
    {
        byte[] larger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, filled).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }

    private async Task<bool> PutSingleAsync(string name, byte[] buffer, int length, string? ifNoneMatch, string? ifMatch, CancellationToken cancellationToken)
    {
        string key = KeyPrefix + name;
        string? marker = ifNoneMatch is not null || ifMatch is not null ? NewWriteMarker() : null;
        int attempts = 0;
        bool stored = await RunAsync("S3 PUT " + name, async ct =>
        {
            attempts++;
            var request = new PutObjectRequest
            {
                BucketName = Bucket,
                Key = key,
                InputStream = new MemoryStream(buffer, 0, length, writable: false),
                AutoCloseStream = true,

                // A signed, unchunked body: s3rver would otherwise store the aws-chunked framing as the object.
                UseChunkEncoding = false,
                ContentType = "application/octet-stream",
                IfNoneMatch = ifNoneMatch,
                IfMatch = ifMatch,
            };
            if (marker is not null)
            {
                request.Metadata.Add(WriteMarkerKey, marker);
            }

            try
            {
                await Client.PutObjectAsync(request, ct).ConfigureAwait(false);
                return true;
            }
            catch (AmazonS3Exception e) when ((ifNoneMatch is not null || ifMatch is not null) && IsConditionFailure(e, ifMatch is not null))
            {
                return false;
            }
        }, cancellationToken).ConfigureAwait(false);

        if (!stored && attempts > 1)
        {
            // An earlier attempt may have stored the object and lost only its answer; then the 412 is our own write.
            // The write marker (random per upload) tells ours apart from another writer's, even with identical bytes.
            stored = await IsOurWriteAsync(name, marker, cancellationToken).ConfigureAwait(false);
        }

        return stored;
    }

    /// <summary>The user-metadata key (x-amz-meta-ghostie-write) of a conditional write's marker.</summary>
    private const string WriteMarkerKey = "x-amz-meta-ghostie-write";

    /// <summary>A random marker for one conditional upload (not a secret: it only recognises our own write).</summary>
    private static string NewWriteMarker() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>Whether the object now under <paramref name="name"/> is the one this upload (marked <paramref name="marker"/>) wrote.</summary>
    private async Task<bool> IsOurWriteAsync(string name, string? marker, CancellationToken cancellationToken)
    {
        if (marker is null)
        {
            return false;
        }

        string key = KeyPrefix + name;
        string? found = await RunAsync("S3 HEAD " + name, async ct =>
        {
            try
            {
                GetObjectMetadataResponse head = await Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = key }, ct).ConfigureAwait(false);
                return head.Metadata[WriteMarkerKey] ?? "";
            }
            catch (AmazonS3Exception e) when (IsMissingObject(e))
            {
                return null;
            }
        }, cancellationToken).ConfigureAwait(false);
        return string.Equals(found, marker, StringComparison.Ordinal);
    }

    /// <summary>412 Precondition Failed; with If-Match also 404 (the object to replace is gone), but never a missing bucket.</summary>
    private static bool IsConditionFailure(AmazonS3Exception e, bool ifMatch) =>
        e.StatusCode == HttpStatusCode.PreconditionFailed
        || (ifMatch && e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode is not "NoSuchBucket");

    private async Task<(Outcome Outcome, string? Why)> PutMultipartAsync(string name, Stream content, byte[] buffer, int filled, byte carry,
        string? ifNoneMatch, string? ifMatch, CancellationToken cancellationToken)
    {
        string key = KeyPrefix + name;
        int partSize = Options.PartSizeBytes;

        // Every multipart upload is marked, so a completion whose upload id is gone can tell whether it became the object.
        string marker = NewWriteMarker();
        InitiateMultipartUploadResponse started = await RunAsync("S3 start multipart " + name, ct =>
        {
            var request = new InitiateMultipartUploadRequest
            {
                BucketName = Bucket,
                Key = key,
                ContentType = "application/octet-stream",
            };
            request.Metadata.Add(WriteMarkerKey, marker);
            return Client.InitiateMultipartUploadAsync(request, ct);
        }, cancellationToken).ConfigureAwait(false);
        string uploadId = started.UploadId;
        var parts = new List<PartETag>();
        bool finished = false;
        try
        {
            int offset = 0;
            bool carried = true;
            bool end = false;
            while (true)
            {
                while (filled - offset >= partSize)
                {
                    parts.Add(await UploadPartAsync(name, key, uploadId, parts.Count + 1, buffer, offset, partSize, cancellationToken).ConfigureAwait(false));
                    offset += partSize;
                }

                // Keep the unsent tail at the start of the buffer, then the byte read to decide on multipart.
                buffer.AsSpan(offset, filled - offset).CopyTo(buffer);
                filled -= offset;
                offset = 0;
                if (carried)
                {
                    buffer[filled++] = carry;
                    carried = false;
                }

                if (end)
                {
                    break;
                }

                while (filled < partSize)
                {
                    int read = await content.ReadAsync(buffer.AsMemory(filled, partSize - filled), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        end = true;
                        break;
                    }

                    filled += read;
                }
            }

            if (filled > 0 || parts.Count == 0)
            {
                parts.Add(await UploadPartAsync(name, key, uploadId, parts.Count + 1, buffer, 0, filled, cancellationToken).ConfigureAwait(false));
            }

            int completions = 0;
            string? given = null;
            Outcome outcome = await RunAsync("S3 complete multipart " + name, async ct =>
            {
                completions++;
                try
                {
                    await Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                    {
                        BucketName = Bucket,
                        Key = key,
                        UploadId = uploadId,
                        PartETags = parts,
                        IfNoneMatch = ifNoneMatch,
                        IfMatch = ifMatch,
                    }, ct).ConfigureAwait(false);
                    return Outcome.Stored;
                }
                catch (AmazonS3Exception e) when ((ifNoneMatch is not null || ifMatch is not null) && IsConditionFailure(e, ifMatch is not null))
                {
                    return Outcome.ConditionFailed;
                }
                catch (AmazonS3Exception e) when (e.ErrorCode is "ConditionalRequestConflict" or "NoSuchUpload")
                {
                    // Not retried: after a 409 the upload must be started again (AWS), and a NoSuchUpload may be our
                    // own completion whose answer was lost, or an upload that vanished. The marker decides below.
                    given = e.ErrorCode == "NoSuchUpload"
                        ? "its multipart upload was gone at completion (NoSuchUpload)"
                        : "a concurrent conditional write conflicted with its completion (409 ConditionalRequestConflict)";
                    return Outcome.Restart;
                }
            }, cancellationToken).ConfigureAwait(false);
            if (outcome == Outcome.ConditionFailed && completions > 1
                && await IsOurWriteAsync(name, marker, cancellationToken).ConfigureAwait(false))
            {
                // As for a single PUT: the first completion may have made the object and lost only its answer.
                outcome = Outcome.Stored;
            }

            if (outcome == Outcome.Restart)
            {
                outcome = await AfterGivenUpCompletionAsync(name, marker, ifNoneMatch, ifMatch, cancellationToken).ConfigureAwait(false);
            }

            finished = outcome == Outcome.Stored; // a stored upload became the object: nothing to abort
            if (outcome == Outcome.Stored)
            {
                Log.MultipartCompleted(Logger, DisplayName, name, parts.Count);
            }

            return (outcome, given);
        }
        finally
        {
            if (!finished)
            {
                await AbortQuietlyAsync(name, key, uploadId).ConfigureAwait(false);
            }
        }
    }

    /// <summary>After a completion that was given up: the object is ours if it carries our marker (a completion whose
    /// answer was lost); else, when the write's condition no longer holds (another writer's object stands, or the
    /// object to replace changed), the answer is that the condition failed; otherwise the upload must start again.</summary>
    private async Task<Outcome> AfterGivenUpCompletionAsync(string name, string marker, string? ifNoneMatch, string? ifMatch, CancellationToken cancellationToken)
    {
        string key = KeyPrefix + name;
        (string ETag, string Marker)? found = await RunAsync("S3 HEAD " + name, async ct =>
        {
            try
            {
                GetObjectMetadataResponse head = await Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = key }, ct).ConfigureAwait(false);
                return ((string ETag, string Marker)?)(head.ETag ?? "", head.Metadata[WriteMarkerKey] ?? "");
            }
            catch (AmazonS3Exception e) when (IsMissingObject(e))
            {
                return null;
            }
        }, cancellationToken).ConfigureAwait(false);
        if (found is { } current && string.Equals(current.Marker, marker, StringComparison.Ordinal))
        {
            return Outcome.Stored;
        }

        if (ifNoneMatch is not null && found is not null)
        {
            return Outcome.ConditionFailed;
        }

        if (ifMatch is not null && (found is null || !string.Equals(found.Value.ETag, ifMatch, StringComparison.Ordinal)))
        {
            return Outcome.ConditionFailed;
        }

        return Outcome.Restart;
    }

    private async Task<PartETag> UploadPartAsync(string name, string key, string uploadId, int number, byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        if (number > MaxParts)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Object '{name}' needs more than {MaxParts} parts of {Options.PartSizeBytes} bytes; raise S3BackendOptions.PartSizeBytes.");
        }

        UploadPartResponse response = await RunAsync($"S3 upload part {number} of {name}", ct =>
            Client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = Bucket,
                Key = key,
                UploadId = uploadId,
                PartNumber = number,
                PartSize = count,
                InputStream = new MemoryStream(buffer, offset, count, writable: false),
                UseChunkEncoding = false,
            }, ct), cancellationToken).ConfigureAwait(false);
        return new PartETag(number, response.ETag);
    }

    /// <summary>At most this long is spent aborting a multipart upload that will not complete.</summary>
    private static readonly TimeSpan AbortBudget = TimeSpan.FromSeconds(10);

    /// <summary>One attempt timeout, at most <see cref="AbortBudget"/>.</summary>
    private TimeSpan CleanupLimit()
    {
        TimeSpan attempt = Options.Retry.AttemptTimeout;
        return attempt != Timeout.InfiniteTimeSpan && attempt < AbortBudget ? attempt : AbortBudget;
    }

    /// <summary>Aborts a multipart upload that will not complete (failure or cancellation), with its own time limit,
    /// since the caller's token may be the reason we are here: retries only within one attempt timeout, and at most
    /// <see cref="AbortBudget"/>, so a cancelled upload returns promptly even when the endpoint hangs. An abort that
    /// does not finish leaves parts for the bucket's AbortIncompleteMultipartUpload lifecycle rule.</summary>
    private async Task AbortQuietlyAsync(string name, string key, string uploadId)
    {
        using var limit = new CancellationTokenSource(CleanupLimit());
        try
        {
            await RunAsync("S3 abort multipart " + name, ct =>
                Client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = Bucket, Key = key, UploadId = uploadId }, ct),
                limit.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is GhostieSyncException or OperationCanceledException or AmazonServiceException)
        {
            Log.AbortFailed(Logger, DisplayName, name, e);
        }
    }

    /// <summary>Checks once whether the endpoint honours conditional writes: a create-only PUT of a fresh probe object
    /// must fail with 412 the second time, a PUT with a wrong If-Match must fail with 412 and one with the object's
    /// ETag must succeed, and a create-only completion of a multipart upload on the existing object must fail with 412
    /// (an endpoint may honour conditions on PUT and ignore them on CompleteMultipartUpload, which large objects use).
    /// The probe object's name is not an object name, so listings never show it, even if deleting it fails.</summary>
    private protected async Task<bool> ProbeConditionalWritesAsync(CancellationToken cancellationToken)
    {
        string key = KeyPrefix + ".ghostie-probe/" + Guid.NewGuid().ToString("N");
        async Task<(bool Stored, string? ETag)> PutProbeAsync(string? ifNoneMatch, string? ifMatch) =>
            await RunAsync("S3 conditional-write probe", async ct =>
            {
                try
                {
                    PutObjectResponse put = await Client.PutObjectAsync(new PutObjectRequest
                    {
                        BucketName = Bucket,
                        Key = key,
                        InputStream = new MemoryStream([0x67], writable: false),
                        UseChunkEncoding = false,
                        IfNoneMatch = ifNoneMatch,
                        IfMatch = ifMatch,
                    }, ct).ConfigureAwait(false);
                    return (true, put.ETag);
                }
                catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
                {
                    return (false, (string?)null);
                }
                catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.NotImplemented or HttpStatusCode.BadRequest)
                {
                    // The store rejects the header outright: treat as "not honoured" (the write did not happen).
                    return (true, (string?)null);
                }
            }, cancellationToken).ConfigureAwait(false);

        try
        {
            (bool created, string? etag) = await PutProbeAsync("*", null).ConfigureAwait(false);
            if (!created || string.IsNullOrEmpty(etag))
            {
                return false; // a fresh random key refused, or no ETag to replace with: nothing to build on
            }

            return !(await PutProbeAsync("*", null).ConfigureAwait(false)).Stored
                && !(await PutProbeAsync(null, "\"00000000000000000000000000000000\"").ConfigureAwait(false)).Stored
                && (await PutProbeAsync(null, etag).ConfigureAwait(false)).Stored
                && await ProbeConditionalCompletionAsync(key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                // Bounded like an abort: a probe object left behind is harmless, a creation that hangs is not.
                using var limit = new CancellationTokenSource(CleanupLimit());
                await RunAsync("S3 DELETE conditional-write probe", ct =>
                    Client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key }, ct), limit.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is GhostieSyncException or OperationCanceledException)
            {
                // Harmless: a one-byte object listings skip. Permission errors already surfaced through the PUTs.
            }
        }
    }

    /// <summary>Part of the probe: a one-part multipart upload onto the existing probe object, completed with
    /// If-None-Match: *, must be refused with 412. Whatever the answer, nothing is left open (aborted, bounded).</summary>
    private async Task<bool> ProbeConditionalCompletionAsync(string key, CancellationToken cancellationToken)
    {
        InitiateMultipartUploadResponse started = await RunAsync("S3 conditional-write probe (start multipart)", ct =>
            Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = Bucket, Key = key }, ct), cancellationToken).ConfigureAwait(false);
        bool completed = false;
        try
        {
            UploadPartResponse part = await RunAsync("S3 conditional-write probe (part)", ct =>
                Client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = Bucket,
                    Key = key,
                    UploadId = started.UploadId,
                    PartNumber = 1,
                    PartSize = 1,
                    InputStream = new MemoryStream([0x68], writable: false),
                    UseChunkEncoding = false,
                }, ct), cancellationToken).ConfigureAwait(false);
            return await RunAsync("S3 conditional-write probe (complete multipart)", async ct =>
            {
                try
                {
                    await Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                    {
                        BucketName = Bucket,
                        Key = key,
                        UploadId = started.UploadId,
                        PartETags = [new PartETag(1, part.ETag)],
                        IfNoneMatch = "*",
                    }, ct).ConfigureAwait(false);
                    completed = true; // the condition was ignored: the probe object was overwritten
                    return false;
                }
                catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
                {
                    return true;
                }
                catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.NotImplemented or HttpStatusCode.BadRequest)
                {
                    return false;
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (!completed)
            {
                // A refused completion leaves the upload open, and so does a failed one.
                await AbortQuietlyAsync("(probe)", key, started.UploadId).ConfigureAwait(false);
            }
        }
    }
}
