using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.GoogleDrive.Tests;

/// <summary>
/// One test per documented Drive v3 rule the client relies on, run against <see cref="DriveDouble"/> with a bare
/// HttpClient (no backend code), so the double is checked against the documentation on its own. The pages are cited
/// on the double's rules (tests/Ghostie.Sync.Testing/Doubles/GoogleDrive/DriveDouble.cs).
/// </summary>
public sealed class DriveDoubleRuleTests : IAsyncLifetime
{
    private const string Token = "ya29.rule-test-TOKEN-0123456789";
    private DriveDouble _drive = null!;
    private HttpClient _http = null!;

    public Task InitializeAsync()
    {
        _drive = new DriveDouble(Token);
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = _drive.BaseUri };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _drive.DisposeAsync();
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private static (string Reason, string Domain, string Message) Error(JsonElement body)
    {
        JsonElement first = body.GetProperty("error").GetProperty("errors")[0];
        return (first.GetProperty("reason").GetString()!, first.GetProperty("domain").GetString()!, body.GetProperty("error").GetProperty("message").GetString()!);
    }

    private async Task<JsonElement> CreateAsync(string name, byte[] content, string parent = "appDataFolder", string? appPropertiesJson = null)
    {
        HttpResponseMessage response = await SendMultipartAsync(name, content, parent, appPropertiesJson);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await JsonAsync(response);
    }

    private async Task<HttpResponseMessage> SendMultipartAsync(string name, byte[] content, string parent = "appDataFolder", string? appPropertiesJson = null)
    {
        string metadata = $"{{\"name\":{JsonSerializer.Serialize(name)},\"parents\":[\"{parent}\"]{(appPropertiesJson is null ? "" : ",\"appProperties\":" + appPropertiesJson)}}}";
        var multipart = new MultipartContent("related", "b0undary");
        multipart.Add(new StringContent(metadata, Encoding.UTF8, "application/json"));
        var media = new ByteArrayContent(content);
        media.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        multipart.Add(media);
        return await _http.PostAsync("upload/drive/v3/files?uploadType=multipart&fields=id,name,size,createdTime,appProperties", multipart);
    }

    private async Task<List<string>> ListNamesAsync(string query, string spaces = "appDataFolder")
    {
        HttpResponseMessage response = await _http.GetAsync($"drive/v3/files?spaces={spaces}&q={Uri.EscapeDataString(query)}&fields=nextPageToken,files(id,name)&pageSize=1000");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await JsonAsync(response)).GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()!)];
    }

    [Fact]
    public async Task BadToken_Is401AuthError_WithTheDocumentedBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "drive/v3/files?spaces=appDataFolder");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "ya29.not-a-token");
        HttpResponseMessage response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        (string reason, string domain, string message) = Error(await JsonAsync(response));
        Assert.Equal(("authError", "global", "Invalid Credentials"), (reason, domain, message));
    }

    [Fact]
    public async Task RevokedToken_Is401_FromThenOn()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("drive/v3/files?spaces=appDataFolder")).StatusCode);
        _drive.RevokeToken(Token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.GetAsync("drive/v3/files?spaces=appDataFolder")).StatusCode);
    }

    [Fact]
    public async Task MissingFile_Is404NotFound_NamingTheId()
    {
        HttpResponseMessage get = await _http.GetAsync("drive/v3/files/1nope?alt=media");
        HttpResponseMessage delete = await _http.DeleteAsync("drive/v3/files/1nope");

        foreach (HttpResponseMessage response in new[] { get, delete })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            (string reason, _, string message) = Error(await JsonAsync(response));
            Assert.Equal("notFound", reason);
            Assert.Equal("File not found: 1nope.", message);
        }
    }

    [Fact]
    public async Task CreateInAMissingFolder_Is404()
    {
        HttpResponseMessage response = await SendMultipartAsync("x", [1], parent: "1missingFolder");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("File not found: 1missingFolder.", Error(await JsonAsync(response)).Message);
    }

    [Fact]
    public async Task AppDataFolder_IsListedOnlyWithItsSpace_AndNeedsItsScope()
    {
        await CreateAsync("p/a", [1, 2]);

        Assert.Equal(["p/a"], await ListNamesAsync("'appDataFolder' in parents"));
        Assert.Empty(await ListNamesAsync("trashed = false", spaces: "drive"));

        _drive.AddToken("ya29.only-drive-file", DriveDouble.DriveFileScope);
        using var request = new HttpRequestMessage(HttpMethod.Get, "drive/v3/files?spaces=appDataFolder");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "ya29.only-drive-file");
        HttpResponseMessage response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("insufficientPermissions", Error(await JsonAsync(response)).Reason);
    }

    [Fact]
    public async Task TwoFilesWithOneName_AreBothKept()
    {
        JsonElement first = await CreateAsync("h/dev", [1]);
        JsonElement second = await CreateAsync("h/dev", [2]);

        Assert.NotEqual(first.GetProperty("id").GetString(), second.GetProperty("id").GetString());
        Assert.Equal(["h/dev", "h/dev"], await ListNamesAsync("name = 'h/dev' and trashed = false"));
    }

    [Fact]
    public async Task Listing_PagesWithNextPageToken_AbsentOnTheLastPage()
    {
        for (int i = 0; i < 7; i++)
        {
            _drive.SeedFile("appDataFolder", $"k/{i}", [(byte)i]);
        }

        var names = new List<string>();
        string? token = null;
        int pages = 0;
        do
        {
            JsonElement page = await JsonAsync(await _http.GetAsync($"drive/v3/files?spaces=appDataFolder&pageSize=3&fields=nextPageToken,files(name){(token is null ? "" : "&pageToken=" + Uri.EscapeDataString(token))}"));
            names.AddRange(page.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()!));
            token = page.TryGetProperty("nextPageToken", out JsonElement next) ? next.GetString() : null;
            pages++;
        }
        while (token is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"k/{i}").Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Listing_MayGiveAnEmptyPageBeforeTheEnd()
    {
        _drive.SeedFile("appDataFolder", "k/1", [1]);
        _drive.EmptyFirstPages = true;

        JsonElement page = await JsonAsync(await _http.GetAsync("drive/v3/files?spaces=appDataFolder&fields=nextPageToken,files(name)"));

        Assert.Equal(0, page.GetProperty("files").GetArrayLength());
        Assert.True(page.TryGetProperty("nextPageToken", out _));
    }

    [Theory]
    [InlineData("pageSize=0", "pageSize")]
    [InlineData("pageSize=1001", "pageSize")]
    [InlineData("pageToken=forged", "pageToken")]
    [InlineData("q=name%20~%20'x'", "q")]
    public async Task Listing_RejectsBadParameters_With400Invalid(string parameter, string location)
    {
        HttpResponseMessage response = await _http.GetAsync("drive/v3/files?spaces=appDataFolder&" + parameter);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement error = (await JsonAsync(response)).GetProperty("error").GetProperty("errors")[0];
        Assert.Equal("invalid", error.GetProperty("reason").GetString());
        Assert.Equal(location, error.GetProperty("location").GetString());
    }

    [Fact]
    public async Task Listing_WithoutFields_GivesOnlyTheDefaultFields()
    {
        _drive.SeedFile("appDataFolder", "k/1", [1, 2, 3]);

        JsonElement file = (await JsonAsync(await _http.GetAsync("drive/v3/files?spaces=appDataFolder"))).GetProperty("files")[0];

        Assert.True(file.TryGetProperty("id", out _));
        Assert.False(file.TryGetProperty("size", out _));
        Assert.False(file.TryGetProperty("createdTime", out _));
    }

    [Fact]
    public async Task Sizes_AreJsonStrings_AndTimesAreRfc3339()
    {
        JsonElement file = await CreateAsync("k/s", new byte[1234]);

        Assert.Equal("1234", file.GetProperty("size").GetString());
        Assert.True(DateTimeOffset.TryParse(file.GetProperty("createdTime").GetString(), out _));
    }

    [Fact]
    public async Task Query_EscapesQuotesWithABackslash()
    {
        await CreateAsync("it's", [1]);
        Assert.Equal(["it's"], await ListNamesAsync("name = 'it\\'s'"));
    }

    [Fact]
    public async Task AppProperties_AreStored_Searchable_AndLimitedTo124Bytes()
    {
        JsonElement file = await CreateAsync("k/m", [1], appPropertiesJson: "{\"ghostieWrite\":\"w-123\"}");
        Assert.Equal("w-123", file.GetProperty("appProperties").GetProperty("ghostieWrite").GetString());
        Assert.Equal(["k/m"], await ListNamesAsync("appProperties has { key='ghostieWrite' and value='w-123' }"));
        Assert.Empty(await ListNamesAsync("appProperties has { key='ghostieWrite' and value='w-999' }"));

        HttpResponseMessage tooLong = await SendMultipartAsync("k/n", [1], appPropertiesJson: $"{{\"k\":\"{new string('v', 124)}\"}}");
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
    }

    private async Task<Uri> StartSessionAsync(long? total, string? fileId = null)
    {
        using var request = new HttpRequestMessage(fileId is null ? HttpMethod.Post : HttpMethod.Patch,
            fileId is null ? "upload/drive/v3/files?uploadType=resumable&fields=id,size" : $"upload/drive/v3/files/{fileId}?uploadType=resumable&fields=id,size")
        {
            Content = new StringContent(fileId is null ? "{\"name\":\"big\",\"parents\":[\"appDataFolder\"]}" : "{}", Encoding.UTF8, "application/json"),
        };
        if (total is long t)
        {
            request.Headers.Add("X-Upload-Content-Length", t.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        HttpResponseMessage response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.Location!;
    }

    private async Task<HttpResponseMessage> PutAsync(Uri session, byte[] data, int offset, int count, string contentRange)
    {
        var content = new ByteArrayContent(data, offset, count);
        content.Headers.TryAddWithoutValidation("Content-Range", contentRange);
        return await _http.PutAsync(session, content);
    }

    private async Task<HttpResponseMessage> QueryAsync(Uri session, string total)
    {
        var content = new ByteArrayContent([]);
        content.Headers.TryAddWithoutValidation("Content-Range", "bytes */" + total);
        return await _http.PutAsync(session, content);
    }

    private static string? RangeOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Range", out IEnumerable<string>? values) ? values.Single() : null;

    [Fact]
    public async Task Resumable_InitiationGivesASessionUri_ChunksGet308WithRange_TheLastGets200()
    {
        const int K = DriveDouble.ChunkGranularity;
        byte[] data = new byte[(2 * K) + 1000];
        Random.Shared.NextBytes(data);
        Uri session = await StartSessionAsync(data.Length);
        Assert.Contains("upload_id=", session.Query, StringComparison.Ordinal);

        HttpResponseMessage nothing = await QueryAsync(session, data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(308, (int)nothing.StatusCode);
        Assert.Null(RangeOf(nothing));

        HttpResponseMessage first = await PutAsync(session, data, 0, K, $"bytes 0-{K - 1}/{data.Length}");
        Assert.Equal(308, (int)first.StatusCode);
        Assert.Equal($"bytes=0-{K - 1}", RangeOf(first));

        HttpResponseMessage status = await QueryAsync(session, "*");
        Assert.Equal($"bytes=0-{K - 1}", RangeOf(status));

        HttpResponseMessage last = await PutAsync(session, data, K, data.Length - K, $"bytes {K}-{data.Length - 1}/{data.Length}");
        Assert.Equal(HttpStatusCode.OK, last.StatusCode);
        JsonElement file = await JsonAsync(last);
        Assert.Equal(data, _drive.ReadContent(file.GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task Resumable_ANonFinalChunkNotAMultipleOf256KiB_IsRejected()
    {
        byte[] data = new byte[DriveDouble.ChunkGranularity * 2];
        Uri session = await StartSessionAsync(null);

        HttpResponseMessage odd = await PutAsync(session, data, 0, 100_000, "bytes 0-99999/*");

        Assert.Equal(HttpStatusCode.BadRequest, odd.StatusCode);
        Assert.Equal(308, (int)(await QueryAsync(session, "*")).StatusCode);
        Assert.Equal(308, (int)(await PutAsync(session, data, 0, DriveDouble.ChunkGranularity, $"bytes 0-{DriveDouble.ChunkGranularity - 1}/*")).StatusCode);
    }

    [Fact]
    public async Task Resumable_AChunkThatFailsMidway_KeepsWhatArrived_AndTheQuerySaysHowMuch()
    {
        const int K = DriveDouble.ChunkGranularity;
        byte[] data = new byte[2 * K];
        Random.Shared.NextBytes(data);
        Uri session = await StartSessionAsync(data.Length);
        _drive.FailNextChunkAfter = 100_000;

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => PutAsync(session, data, 0, K, $"bytes 0-{K - 1}/{data.Length}"));
        HttpResponseMessage status = await QueryAsync(session, data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("bytes=0-99999", RangeOf(status));

        HttpResponseMessage rest = await PutAsync(session, data, 100_000, data.Length - 100_000, $"bytes 100000-{data.Length - 1}/{data.Length}");
        Assert.Equal(HttpStatusCode.OK, rest.StatusCode);
        Assert.Equal(data, _drive.ReadContent((await JsonAsync(rest)).GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task Resumable_TheServerMayKeepLessThanAChunk_AndSaysSoInRange()
    {
        const int K = DriveDouble.ChunkGranularity;
        byte[] data = new byte[2 * K];
        Uri session = await StartSessionAsync(data.Length);
        _drive.KeepOfNextChunk = 5000;

        HttpResponseMessage response = await PutAsync(session, data, 0, K, $"bytes 0-{K - 1}/{data.Length}");

        Assert.Equal(308, (int)response.StatusCode);
        Assert.Equal("bytes=0-4999", RangeOf(response));
        Assert.Equal(HttpStatusCode.BadRequest, (await PutAsync(session, data, K, K, $"bytes {K}-{(2 * K) - 1}/{data.Length}")).StatusCode);
    }

    [Fact]
    public async Task Resumable_AnExpiredSession_Is404()
    {
        Uri session = await StartSessionAsync(10);
        _drive.ExpireSessions();

        Assert.Equal(HttpStatusCode.NotFound, (await QueryAsync(session, "10")).StatusCode);
    }

    [Fact]
    public async Task Resumable_AnUpdateReplacesTheContentOfTheSameFile()
    {
        string id = (await CreateAsync("k/u", [1, 2, 3])).GetProperty("id").GetString()!;
        Uri session = await StartSessionAsync(2, id);

        HttpResponseMessage done = await PutAsync(session, [9, 8], 0, 2, "bytes 0-1/2");

        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal(id, (await JsonAsync(done)).GetProperty("id").GetString());
        Assert.Equal(new byte[] { 9, 8 }, _drive.ReadContent(id));
    }

    [Theory]
    [InlineData(403, "userRateLimitExceeded", "User Rate Limit Exceeded")]
    [InlineData(403, "rateLimitExceeded", "Rate Limit Exceeded")]
    [InlineData(429, "rateLimitExceeded", "Rate Limit Exceeded")]
    public async Task RateLimits_HaveTheUsageLimitsBody(int status, string reason, string message)
    {
        _drive.InjectRateLimit(1, status, reason, retryAfterSeconds: status == 429 ? 3 : null);

        HttpResponseMessage limited = await _http.GetAsync("drive/v3/files?spaces=appDataFolder");

        Assert.Equal(status, (int)limited.StatusCode);
        Assert.Equal((reason, "usageLimits", message), Error(await JsonAsync(limited)));
        Assert.Equal(status == 429, limited.Headers.RetryAfter is not null);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("drive/v3/files?spaces=appDataFolder")).StatusCode);
    }

    [Fact]
    public async Task Download_WithRange_Is206()
    {
        string id = (await CreateAsync("k/r", [0, 1, 2, 3, 4, 5])).GetProperty("id").GetString()!;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"drive/v3/files/{id}?alt=media");
        request.Headers.Range = new RangeHeaderValue(2, null);

        HttpResponseMessage response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(new byte[] { 2, 3, 4, 5 }, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Download_DroppedMidway_FailsTheRead_AndARangedGetFetchesTheRest()
    {
        byte[] data = new byte[300_000];
        Random.Shared.NextBytes(data);
        string id = (await CreateAsync("k/drop", data)).GetProperty("id").GetString()!;
        _drive.DropNextDownloadAfter = 100_000;

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => _http.GetByteArrayAsync($"drive/v3/files/{id}?alt=media"));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"drive/v3/files/{id}?alt=media");
        request.Headers.Range = new RangeHeaderValue(100_000, null);
        byte[] rest = await (await _http.SendAsync(request)).Content.ReadAsByteArrayAsync();
        Assert.Equal(data[100_000..], rest);
    }

    [Fact]
    public async Task Delete_Is204_ThenTheFileIsGone()
    {
        string id = (await CreateAsync("k/d", [1])).GetProperty("id").GetString()!;

        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"drive/v3/files/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"drive/v3/files/{id}")).StatusCode);
    }

    [Fact]
    public async Task AFullDrive_Is403StorageQuotaExceeded()
    {
        _drive.StorageQuotaBytes = 10;

        HttpResponseMessage response = await SendMultipartAsync("k/q", new byte[11]);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("storageQuotaExceeded", Error(await JsonAsync(response)).Reason);
    }
}
