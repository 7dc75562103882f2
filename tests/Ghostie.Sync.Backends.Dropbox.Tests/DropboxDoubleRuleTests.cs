using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.Dropbox.Tests;

/// <summary>
/// One test per documented Dropbox rule the double implements and the client relies on, driven by raw HTTP (no client
/// code): if the double drifts from the documentation, these fail before the backend's tests can pass against it.
/// Sources are cited on <see cref="DropboxDouble"/> and at each route.
/// </summary>
public sealed class DropboxDoubleRuleTests : IAsyncLifetime
{
    private const string Token = "sl.doubleTOKEN-rules-0123456789";
    private DropboxDouble _double = null!;
    private HttpClient _http = null!;

    public Task InitializeAsync()
    {
        _double = new DropboxDouble(Token);
        _http = new HttpClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _double.DisposeAsync();
    }

    private sealed record Answer(HttpStatusCode Status, string Body, HttpResponseMessage Response)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement;

        /// <summary>The tag chain of a 409 error's structured "error" (following union members and "reason").</summary>
        public string Tags
        {
            get
            {
                var tags = new List<string>();
                JsonElement e = Json.GetProperty("error");
                while (e.ValueKind == JsonValueKind.Object && e.TryGetProperty(".tag", out JsonElement t))
                {
                    string tag = t.GetString()!;
                    tags.Add(tag);
                    e = e.TryGetProperty(tag, out JsonElement inner) && inner.ValueKind == JsonValueKind.Object ? inner
                        : e.TryGetProperty("reason", out JsonElement reason) ? reason : default;
                }

                return string.Join('/', tags);
            }
        }
    }

    private async Task<Answer> RpcAsync(string route, string json, string token = Token, Uri? host = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host ?? _double.ApiUri, "2/" + route))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        HttpResponseMessage response = await _http.SendAsync(request);
        return new Answer(response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    private async Task<Answer> ContentAsync(string route, string? arg, byte[]? body = null, string token = Token, string? range = null, Uri? host = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host ?? _double.ContentUri, "2/" + route));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }

        if (arg is not null)
        {
            request.Headers.TryAddWithoutValidation("Dropbox-API-Arg", arg);
        }

        if (range is not null)
        {
            request.Headers.TryAddWithoutValidation("Range", range);
        }

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        HttpResponseMessage response = await _http.SendAsync(request);
        return new Answer(response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    private Task<Answer> UploadAsync(string path, byte[] data, string mode = "\"add\"", bool strict = false, string? hash = null) =>
        ContentAsync("files/upload", $"{{\"path\":\"{path}\",\"mode\":{mode},\"autorename\":false,\"strict_conflict\":{(strict ? "true" : "false")}"
            + (hash is null ? "" : $",\"content_hash\":\"{hash}\"") + "}", data);

    private static string Rev(Answer answer) => answer.Json.GetProperty("rev").GetString()!;

    // --- Request format (HTTP documentation, JSON encoding page) ---

    [Fact]
    public async Task ContentEndpoint_WithoutDropboxApiArg_Is400PlainText()
    {
        Answer answer = await ContentAsync("files/upload", arg: null, body: [1]);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains("Dropbox-API-Arg", answer.Body, StringComparison.Ordinal);
        Assert.StartsWith("text/plain", answer.Response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DropboxApiArg_MustBeHeaderSafe_EscapesAccepted_RawDelRefused()
    {
        Answer escaped = await ContentAsync("files/upload", "{\"path\":\"/caf\\u00e9\",\"mode\":\"add\"}", [1]);
        Assert.Equal(HttpStatusCode.OK, escaped.Status);
        Assert.Equal("/café", escaped.Json.GetProperty("path_display").GetString());

        Answer raw = await ContentAsync("files/upload", "{\"path\":\"/x\u007f\",\"mode\":\"add\"}", [1]);
        Assert.Equal(HttpStatusCode.BadRequest, raw.Status);
        Assert.Null(_double.ReadFile("/x\u007f"));
    }

    [Fact]
    public async Task Hosts_ContentRoutesOnlyOnContentHost_RpcOnlyOnApiHost()
    {
        Answer upload = await ContentAsync("files/upload", "{\"path\":\"/a\"}", [1], host: _double.ApiUri);
        Answer list = await RpcAsync("files/list_folder", "{\"path\":\"\"}", host: _double.ContentUri);
        Assert.Equal(HttpStatusCode.BadRequest, upload.Status);
        Assert.Equal(HttpStatusCode.BadRequest, list.Status);
    }

    [Fact]
    public async Task Arguments_UnknownField_AndBareUpdateMode_Are400()
    {
        Answer unknown = await RpcAsync("files/list_folder", "{\"path\":\"\",\"recursiv\":true}");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
        Assert.Contains("recursiv", unknown.Body, StringComparison.Ordinal);

        // A Void member may be given as a bare string; update carries a Rev and may not.
        Answer bare = await UploadAsync("/u", [1], mode: "\"update\"");
        Assert.Equal(HttpStatusCode.BadRequest, bare.Status);
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync("/u", [1], mode: "{\".tag\":\"add\"}")).Status);
    }

    // --- Errors: 401 AuthError, 409 endpoint errors, 429 RateLimitError ---

    [Fact]
    public async Task Auth_InvalidExpiredAndMissingScope_Are401WithAuthErrorJson()
    {
        Answer invalid = await RpcAsync("files/list_folder", "{\"path\":\"\"}", token: "not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, invalid.Status);
        Assert.Equal("invalid_access_token", invalid.Tags);
        Assert.StartsWith("invalid_access_token/", invalid.Json.GetProperty("error_summary").GetString(), StringComparison.Ordinal);

        _double.AddToken("sl.readonly", "files.metadata.read", "files.content.read");
        Answer scope = await ContentAsync("files/upload", "{\"path\":\"/s\"}", [1], token: "sl.readonly");
        Assert.Equal(HttpStatusCode.Unauthorized, scope.Status);
        Assert.Equal("missing_scope", scope.Tags);
        Assert.Equal("files.content.write", scope.Json.GetProperty("error").GetProperty("required_scope").GetString());

        _double.ExpireToken(Token);
        Answer expired = await RpcAsync("files/list_folder", "{\"path\":\"\"}");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.Status);
        Assert.Equal("expired_access_token", expired.Tags);
    }

    [Fact]
    public async Task RateLimit_429_HasRetryAfter_JsonReasonOrPlainText()
    {
        _double.InjectRateLimit(1, "too_many_write_operations", 3);
        _double.InjectRateLimit(1, "too_many_requests", 5, json: false);

        Answer json = await UploadAsync("/r", [1]);
        Assert.Equal((HttpStatusCode)429, json.Status);
        Assert.Equal(TimeSpan.FromSeconds(3), json.Response.Headers.RetryAfter!.Delta);
        JsonElement error = json.Json.GetProperty("error");
        Assert.Equal("too_many_write_operations", error.GetProperty("reason").GetProperty(".tag").GetString());
        Assert.Equal(3, error.GetProperty("retry_after").GetInt32());

        Answer text = await UploadAsync("/r", [1]);
        Assert.Equal((HttpStatusCode)429, text.Status);
        Assert.Equal(TimeSpan.FromSeconds(5), text.Response.Headers.RetryAfter!.Delta);
        Assert.StartsWith("text/plain", text.Response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await UploadAsync("/r", [1])).Status);
    }

    [Fact]
    public async Task WriteContention_Is409TooManyWriteOperations_OnWritesOnly()
    {
        _double.InjectWriteContention(1);
        Assert.Equal(HttpStatusCode.OK, (await RpcAsync("files/list_folder", "{\"path\":\"\"}")).Status); // reads pass
        Answer upload = await UploadAsync("/w", [1]);
        Assert.Equal(HttpStatusCode.Conflict, upload.Status);
        Assert.Equal("path/too_many_write_operations", upload.Tags);
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync("/w", [1])).Status);
    }

    // --- WriteMode rules (files.stone union WriteMode, CommitInfo) ---

    [Fact]
    public async Task AddMode_AutorenameFalse_ConflictIsPathConflictFile_WithSummaryAndSessionId()
    {
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync("/k/1", [1])).Status);
        Answer conflict = await UploadAsync("/k/1", [2]);

        Assert.Equal(HttpStatusCode.Conflict, conflict.Status);
        Assert.Equal("path/conflict/file", conflict.Tags);
        Assert.StartsWith("path/conflict/file/", conflict.Json.GetProperty("error_summary").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("pid_upload_session:", conflict.Json.GetProperty("error").GetProperty("upload_session_id").GetString(), StringComparison.Ordinal);
        Assert.Equal(new byte[] { 1 }, _double.ReadFile("/k/1"));
    }

    [Fact]
    public async Task IdenticalContent_IsNoConflict_UnlessStrictConflict()
    {
        Answer first = await UploadAsync("/same", [7, 7]);
        Answer again = await UploadAsync("/same", [7, 7]);
        Assert.Equal(HttpStatusCode.OK, again.Status); // rule (c): nothing written, no conflict
        Assert.Equal(Rev(first), Rev(again));

        Answer strict = await UploadAsync("/same", [7, 7], strict: true);
        Assert.Equal(HttpStatusCode.Conflict, strict.Status);
        Assert.Equal("path/conflict/file", strict.Tags);
    }

    [Fact]
    public async Task UpdateMode_ReplacesOnlyTheGivenRev_StrictConflictsWhenGone()
    {
        string rev1 = Rev(await UploadAsync("/v", [1]));
        Assert.Matches("^[0-9a-f]{9,}$", rev1);
        Answer replaced = await UploadAsync("/v", [2], mode: $"{{\".tag\":\"update\",\"update\":\"{rev1}\"}}", strict: true);
        Assert.Equal(HttpStatusCode.OK, replaced.Status);
        Assert.NotEqual(rev1, Rev(replaced));

        Answer stale = await UploadAsync("/v", [3], mode: $"{{\".tag\":\"update\",\"update\":\"{rev1}\"}}", strict: true);
        Assert.Equal(HttpStatusCode.Conflict, stale.Status);
        Assert.Equal("path/conflict/file", stale.Tags);
        Assert.Equal(new byte[] { 2 }, _double.ReadFile("/v"));

        Assert.Equal(HttpStatusCode.OK, (await RpcAsync("files/delete_v2", "{\"path\":\"/v\"}")).Status);
        Answer gone = await UploadAsync("/v", [4], mode: $"{{\".tag\":\"update\",\"update\":\"{Rev(replaced)}\"}}", strict: true);
        Assert.Equal(HttpStatusCode.Conflict, gone.Status);
        Assert.Null(_double.ReadFile("/v"));
    }

    [Fact]
    public async Task Folders_AreCreatedForParents_AndAFolderInTheWayIsConflictFolder()
    {
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync("/p/q/r", [1], mode: "\"overwrite\"")).Status);
        Answer onFolder = await UploadAsync("/p/q", [1], mode: "\"overwrite\"");
        Assert.Equal("path/conflict/folder", onFolder.Tags);
        Answer underFile = await UploadAsync("/p/q/r/s", [1], mode: "\"overwrite\"");
        Assert.Equal("path/conflict/file_ancestor", underFile.Tags);
    }

    // --- content_hash (https://www.dropbox.com/developers/reference/content-hash) ---

    [Fact]
    public void ContentHash_EmptyFileHasNoBlock_AndBlocksAre4MB_AnySlicing()
    {
        // No block for an empty file: SHA-256 of the empty string (also files.stone's FileMetadata example).
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", DropboxContentHash.Of([]));

        byte[] data = new byte[DropboxContentHash.BlockSize * 2 + 12345];
        new Random(5).NextBytes(data);
        byte[] concatenated = [.. SHA256.HashData(data.AsSpan(0, 4_194_304)), .. SHA256.HashData(data.AsSpan(4_194_304, 4_194_304)), .. SHA256.HashData(data.AsSpan(8_388_608))];
        string reference = Convert.ToHexStringLower(SHA256.HashData(concatenated));

        using var sliced = new DropboxContentHash();
        for (int i = 0; i < data.Length; i += 1_000_003)
        {
            sliced.Append(data.AsSpan(i, Math.Min(1_000_003, data.Length - i)));
        }

        Assert.Equal(reference, sliced.Finish());
        Assert.NotEqual(Convert.ToHexStringLower(SHA256.HashData(data)), reference); // not a plain SHA-256
    }

    [Fact]
    public async Task Upload_ReturnsContentHash_AndRefusesAMismatchedOne()
    {
        byte[] data = Encoding.ASCII.GetBytes("ciphertext");
        Answer ok = await UploadAsync("/h", data, hash: DropboxContentHash.Of(data));
        Assert.Equal(DropboxContentHash.Of(data), ok.Json.GetProperty("content_hash").GetString());

        Answer bad = await UploadAsync("/h2", data, hash: DropboxContentHash.Of([1]));
        Assert.Equal(HttpStatusCode.Conflict, bad.Status);
        Assert.Equal("content_hash_mismatch", bad.Tags);
        Assert.Null(_double.ReadFile("/h2"));
    }

    // --- Upload sessions (files.stone upload_session/start, append:2, finish; UploadSessionLookupError) ---

    [Fact]
    public async Task Session_OffsetsMustMatch_IncorrectOffsetReportsCorrectOne_FinishCommits()
    {
        Answer start = await ContentAsync("files/upload_session/start", "{\"close\":false}", [1, 2, 3]);
        string id = start.Json.GetProperty("session_id").GetString()!;

        Answer wrong = await ContentAsync("files/upload_session/append_v2", $"{{\"cursor\":{{\"session_id\":\"{id}\",\"offset\":0}}}}", [4]);
        Assert.Equal(HttpStatusCode.Conflict, wrong.Status);
        Assert.Equal("incorrect_offset", wrong.Tags);
        Assert.Equal(3, wrong.Json.GetProperty("error").GetProperty("correct_offset").GetInt64());

        Assert.Equal(HttpStatusCode.OK, (await ContentAsync("files/upload_session/append_v2", $"{{\"cursor\":{{\"session_id\":\"{id}\",\"offset\":3}},\"content_hash\":\"{DropboxContentHash.Of([4, 5])}\"}}", [4, 5])).Status);
        Answer badHash = await ContentAsync("files/upload_session/append_v2", $"{{\"cursor\":{{\"session_id\":\"{id}\",\"offset\":5}},\"content_hash\":\"{DropboxContentHash.Of([9])}\"}}", [6]);
        Assert.Equal("content_hash_mismatch", badHash.Tags);

        Answer finishWrong = await ContentAsync("files/upload_session/finish", $"{{\"cursor\":{{\"session_id\":\"{id}\",\"offset\":4}},\"commit\":{{\"path\":\"/big\",\"mode\":\"add\"}}}}", []);
        Assert.Equal("lookup_failed/incorrect_offset", finishWrong.Tags);
        Assert.Equal(5, finishWrong.Json.GetProperty("error").GetProperty("lookup_failed").GetProperty("correct_offset").GetInt64());
        Assert.Null(_double.ReadFile("/big")); // nothing is visible before the finish

        Answer finish = await ContentAsync("files/upload_session/finish", $"{{\"cursor\":{{\"session_id\":\"{id}\",\"offset\":5}},\"commit\":{{\"path\":\"/big\",\"mode\":\"add\"}}}}", [6]);
        Assert.Equal(HttpStatusCode.OK, finish.Status);
        Assert.Equal(DropboxContentHash.Of([1, 2, 3, 4, 5, 6]), finish.Json.GetProperty("content_hash").GetString());
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, _double.ReadFile("/big"));

        Answer closed = await ContentAsync("files/upload_session/append_v2", $"{{\"cursor\":{{\"session_id\":\"{id}\",\"offset\":6}}}}", [7]);
        Assert.Equal("closed", closed.Tags);
        Answer unknown = await ContentAsync("files/upload_session/append_v2", "{\"cursor\":{\"session_id\":\"pid_upload_session:nope\",\"offset\":0}}", [7]);
        Assert.Equal("not_found", unknown.Tags);
    }

    [Fact]
    public async Task SessionFinish_WriteConflict_KeepsTheData_RetryWithEmptyBody()
    {
        await UploadAsync("/taken", [0]);
        string id = (await ContentAsync("files/upload_session/start", "{}", [1, 2])).Json.GetProperty("session_id").GetString()!;
        Answer conflict = await ContentAsync("files/upload_session/finish", $"{{\"cursor\":{{\"session_id\":\"{id}\",\"offset\":2}},\"commit\":{{\"path\":\"/taken\",\"mode\":\"add\"}}}}", []);
        Assert.Equal("path/conflict/file", conflict.Tags);

        Answer elsewhere = await ContentAsync("files/upload_session/finish", $"{{\"cursor\":{{\"session_id\":\"{id}\",\"offset\":2}},\"commit\":{{\"path\":\"/free\",\"mode\":\"add\"}}}}", []);
        Assert.Equal(HttpStatusCode.OK, elsewhere.Status);
        Assert.Equal(new byte[] { 1, 2 }, _double.ReadFile("/free"));
    }

    [Fact]
    public async Task DroppedAppendResponse_WasCarriedOut_RetryLearnsTheOffset()
    {
        string id = (await ContentAsync("files/upload_session/start", "{}", [1])).Json.GetProperty("session_id").GetString()!;
        _double.DropNextResponses(1);
        using (var fresh = new HttpClient()) // a new connection: the HTTP stack does not resend on it by itself
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_double.ContentUri, "2/files/upload_session/append_v2")) { Content = new ByteArrayContent([2, 3]) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            request.Headers.TryAddWithoutValidation("Dropbox-API-Arg", $"{{\"cursor\":{{\"session_id\":\"{id}\",\"offset\":1}}}}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            await Assert.ThrowsAnyAsync<Exception>(async () => await (await fresh.SendAsync(request)).Content.ReadAsByteArrayAsync());
        }

        Answer retry = await ContentAsync("files/upload_session/append_v2", $"{{\"cursor\":{{\"session_id\":\"{id}\",\"offset\":1}}}}", [2, 3]);
        Assert.Equal("incorrect_offset", retry.Tags);
        Assert.Equal(3, retry.Json.GetProperty("error").GetProperty("correct_offset").GetInt64());
    }

    // --- Downloads (content-download endpoint, Dropbox-API-Result, range requests, ReadPath rev:) ---

    [Fact]
    public async Task Download_ResultHeader_Range_RevPath_NotFound()
    {
        byte[] first = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        string rev1 = Rev(await UploadAsync("/d", first));
        await UploadAsync("/d", [9, 9], mode: "\"overwrite\"");

        Answer whole = await ContentAsync("files/download", "{\"path\":\"/d\"}");
        JsonElement result = JsonDocument.Parse(whole.Response.Headers.GetValues("Dropbox-API-Result").Single()).RootElement;
        Assert.Equal(2, result.GetProperty("size").GetInt64());
        Assert.Equal(DropboxContentHash.Of([9, 9]), result.GetProperty("content_hash").GetString());

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_double.ContentUri, "2/files/download"));
        request.Headers.TryAddWithoutValidation("Dropbox-API-Arg", $"{{\"path\":\"rev:{rev1}\"}}");
        request.Headers.TryAddWithoutValidation("Range", "bytes=90-");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using HttpResponseMessage partial = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(first[90..], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal("bytes 90-99/100", partial.Content.Headers.GetValues("Content-Range").Single());

        Answer missing = await ContentAsync("files/download", "{\"path\":\"/none\"}");
        Assert.Equal(HttpStatusCode.Conflict, missing.Status);
        Assert.Equal("path/not_found", missing.Tags);
    }

    [Fact]
    public async Task BrokenDownload_EndsEarly_CorruptedDownload_KeepsTheTrueHeader()
    {
        byte[] data = new byte[50_000];
        new Random(3).NextBytes(data);
        await UploadAsync("/b", data);

        _double.BreakNextDownloads(1, afterBytes: 10_000);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_double.ContentUri, "2/files/download"));
            request.Headers.TryAddWithoutValidation("Dropbox-API-Arg", "{\"path\":\"/b\"}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await response.Content.ReadAsByteArrayAsync();
        });

        _double.CorruptNextDownloads(1);
        using var corrupt = new HttpRequestMessage(HttpMethod.Post, new Uri(_double.ContentUri, "2/files/download"));
        corrupt.Headers.TryAddWithoutValidation("Dropbox-API-Arg", "{\"path\":\"/b\"}");
        corrupt.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using HttpResponseMessage served = await _http.SendAsync(corrupt);
        byte[] body = await served.Content.ReadAsByteArrayAsync();
        string header = JsonDocument.Parse(served.Headers.GetValues("Dropbox-API-Result").Single()).RootElement.GetProperty("content_hash").GetString()!;
        Assert.Equal(DropboxContentHash.Of(data), header);
        Assert.NotEqual(header, DropboxContentHash.Of(body));
    }

    [Fact]
    public async Task EmptyFiles_DoNotArmTheCorruptionFaults_ForLaterRequests()
    {
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync("/empty", [])).Status);
        Assert.Equal(HttpStatusCode.OK, (await ContentAsync("files/download", "{\"path\":\"/empty\"}")).Status);

        Answer upload = await UploadAsync("/after", [1, 2, 3]);
        Assert.Equal(DropboxContentHash.Of([1, 2, 3]), upload.Json.GetProperty("content_hash").GetString());
        Assert.Equal(new byte[] { 1, 2, 3 }, _double.ReadFile("/after"));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_double.ContentUri, "2/files/download"));
        request.Headers.TryAddWithoutValidation("Dropbox-API-Arg", "{\"path\":\"/after\"}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using HttpResponseMessage served = await _http.SendAsync(request);
        Assert.Equal(new byte[] { 1, 2, 3 }, await served.Content.ReadAsByteArrayAsync());
    }

    // --- Listing (list_folder, list_folder/continue, cursor, has_more, reset) ---

    [Fact]
    public async Task ListFolder_PagesByCursorUntilHasMoreFalse_EveryEntryOnce_ResetInvalidates()
    {
        for (int i = 0; i < 25; i++)
        {
            await UploadAsync($"/l/{i:d2}", [(byte)i]);
        }

        var files = new List<string>();
        int pages = 0;
        Answer page = await RpcAsync("files/list_folder", "{\"path\":\"\",\"recursive\":true,\"limit\":7}");
        while (true)
        {
            pages++;
            foreach (JsonElement entry in page.Json.GetProperty("entries").EnumerateArray())
            {
                if (entry.GetProperty(".tag").GetString() == "file")
                {
                    files.Add(entry.GetProperty("path_lower").GetString()!);
                }
            }

            if (!page.Json.GetProperty("has_more").GetBoolean())
            {
                break;
            }

            page = await RpcAsync("files/list_folder/continue", $"{{\"cursor\":\"{page.Json.GetProperty("cursor").GetString()}\"}}");
        }

        Assert.Equal(4, pages); // 25 files + folder /l = 26 entries, 7 per page
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"/l/{i:d2}").Order(StringComparer.Ordinal), files.Order(StringComparer.Ordinal));
        Assert.NotEqual(files.Order(StringComparer.Ordinal), files); // order is not promised: the client must sort

        Answer fresh = await RpcAsync("files/list_folder", "{\"path\":\"/l\",\"recursive\":true,\"limit\":5}");
        _double.ResetListCursors();
        Answer reset = await RpcAsync("files/list_folder/continue", $"{{\"cursor\":\"{fresh.Json.GetProperty("cursor").GetString()}\"}}");
        Assert.Equal(HttpStatusCode.Conflict, reset.Status);
        Assert.Equal("reset", reset.Tags);

        Answer missing = await RpcAsync("files/list_folder", "{\"path\":\"/nothing\"}");
        Assert.Equal("path/not_found", missing.Tags);
        Answer file = await RpcAsync("files/list_folder", "{\"path\":\"/l/01\"}");
        Assert.Equal("path/not_folder", file.Tags);
    }

    // --- get_metadata, delete_v2 ---

    [Fact]
    public async Task GetMetadata_TaggedFileOrFolder_NotFound()
    {
        string rev = Rev(await UploadAsync("/m/f", [1]));
        JsonElement file = (await RpcAsync("files/get_metadata", "{\"path\":\"/m/f\"}")).Json;
        Assert.Equal("file", file.GetProperty(".tag").GetString());
        Assert.Equal(rev, file.GetProperty("rev").GetString());
        Assert.Equal("folder", (await RpcAsync("files/get_metadata", "{\"path\":\"/m\"}")).Json.GetProperty(".tag").GetString());
        Assert.Equal("path/not_found", (await RpcAsync("files/get_metadata", "{\"path\":\"/m/g\"}")).Tags);
    }

    [Fact]
    public async Task Delete_NotFound_ParentRevGuards_FolderDeletesItsContents()
    {
        Assert.Equal("path_lookup/not_found", (await RpcAsync("files/delete_v2", "{\"path\":\"/x\"}")).Tags);

        string rev = Rev(await UploadAsync("/x", [1]));
        await UploadAsync("/x", [2], mode: "\"overwrite\"");
        Answer stale = await RpcAsync("files/delete_v2", $"{{\"path\":\"/x\",\"parent_rev\":\"{rev}\"}}");
        Assert.Equal(HttpStatusCode.Conflict, stale.Status);
        Assert.NotNull(_double.ReadFile("/x"));

        await UploadAsync("/f/1", [1]);
        await UploadAsync("/f/2", [1]);
        Assert.Equal("path_lookup/not_file", (await RpcAsync("files/delete_v2", "{\"path\":\"/f\",\"parent_rev\":\"0123456789\"}")).Tags);
        Answer folder = await RpcAsync("files/delete_v2", "{\"path\":\"/f\"}");
        Assert.Equal("folder", folder.Json.GetProperty("metadata").GetProperty(".tag").GetString());
        Assert.Null(_double.ReadFile("/f/1"));
        Assert.DoesNotContain(_double.Snapshot().Keys, k => k.StartsWith("/f", StringComparison.Ordinal));
    }
}
