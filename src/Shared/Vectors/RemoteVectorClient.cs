using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ghostie.Sync.Vectors.Tiers;

namespace Ghostie.Sync.Shared;

// Internal source shared by the remote vector tiers (Qdrant, Weaviate, Pinecone): each compiles this file
// (<Compile Include="../Shared/Vectors/*.cs" />) instead of a package exposing it. See docs/vector-tiers.md.

/// <summary>One JSON answer: its HTTP status and body (null when empty).</summary>
internal sealed class RemoteAnswer(int status, JsonDocument? body) : IDisposable
{
    public int Status { get; } = status;

    public JsonDocument? Body { get; } = body;

    public JsonElement Root => Body?.RootElement ?? default;

    public void Dispose() => Body?.Dispose();
}

/// <summary>
/// A thin JSON-over-HTTP client for a vector database's REST API. Every call goes through <see cref="BackendRetry"/>:
/// 408, 429, 500, 502, 503 and 504 are retried (429 and a 503 with Retry-After after the server's hint); 401 and 403
/// become <see cref="RemoteVectorAccessDeniedException"/>; 404 is given to the caller (a missing record is no error)
/// or becomes <see cref="RemoteVectorStorageNotFoundException"/>; other statuses a permanent error quoting the
/// service's message (never a key). The answer is read whole inside the attempt, so a body cut short is retried.
/// </summary>
internal sealed class RemoteVectorClient : IDisposable
{
    private const int MaxQuotedMessage = 300;
    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly Action<HttpRequestHeaders> _authorize;
    private readonly BackendRetryOptions _retry;
    private readonly string _apiKeyVariable;

    public RemoteVectorClient(string service, Uri baseUri, Action<HttpRequestHeaders> authorize, string apiKeyVariable, HttpMessageHandler? handler, BackendRetryOptions retry)
    {
        Service = service;
        _base = baseUri.AbsoluteUri.EndsWith('/') ? baseUri : new Uri(baseUri.AbsoluteUri + "/");
        _authorize = authorize;
        _apiKeyVariable = apiKeyVariable;
        _retry = retry;
        _http = handler is null
            ? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan;
    }

    /// <summary>"Qdrant", "Weaviate" or "Pinecone".</summary>
    public string Service { get; }

    /// <summary>The endpoint, for messages: scheme, host and port (no path, no query, no credentials).</summary>
    public string Where => $"{_base.Scheme}://{_base.Authority}";

    public Uri BaseUri => _base;

    /// <summary>A JSON body, written once and sent again by each attempt.</summary>
    public static byte[] Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Sends one request with retries. Statuses in <paramref name="accept"/> (besides 2xx) are returned to the caller;
    /// a 404 not accepted becomes <paramref name="notFound"/>'s exception.
    /// </summary>
    public async Task<RemoteAnswer> SendAsync(string operation, HttpMethod method, string relativeUri, byte[]? body,
        CancellationToken cancellationToken, int[]? accept = null, Func<Exception>? notFound = null, Uri? baseUri = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Uri uri = new(baseUri ?? _base, relativeUri);
        try
        {
            return await BackendRetry.ExecuteAsync($"{Service} {operation}", async ct =>
            {
                using var request = new HttpRequestMessage(method, uri);
                if (body is not null)
                {
                    request.Content = new ByteArrayContent(body);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                }

                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                _authorize(request.Headers);
                using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                byte[] bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
                int status = (int)response.StatusCode;
                if (status is >= 200 and < 300 || (accept is not null && accept.Contains(status)))
                {
                    return new RemoteAnswer(status, Parse(bytes, operation, status));
                }

                if (status is 401 or 403)
                {
                    throw new RemoteVectorAccessDeniedException(Service, $"{Where} ({operation})", status, _apiKeyVariable);
                }

                if (status == 404 && notFound is not null)
                {
                    throw notFound();
                }

                RetryVerdict verdict = RetryVerdict.FromHttpResponse(response, _retry.TimeProvider);
                throw new HttpAttemptException(response.StatusCode, verdict, ServiceMessage(bytes));
            }, e => e is HttpAttemptException attempt ? attempt.Verdict : RetryVerdict.FromHttpException(e), _retry, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpAttemptException e)
        {
            GhostieErrorCode code = e.Status is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity or HttpStatusCode.Conflict
                ? GhostieErrorCode.InvalidArgument : GhostieErrorCode.BackendUnavailable;
            throw new GhostieSyncException(code,
                $"{Service} {operation} at {Where} failed: {e.Message}. The server refused the request; retrying will not help until the cause is fixed.", isTransient: false, e);
        }
    }

    private JsonDocument? Parse(byte[] bytes, string operation, int status)
    {
        if (bytes.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException)
        {
            // A proxy's HTML page, or a body cut short: transient, tried again.
            throw new HttpAttemptException((HttpStatusCode)status, RetryVerdict.Transient($"HTTP {status} with a body that is not JSON ({operation})"), null);
        }
    }

    /// <summary>The service's own error text ("status.error", "message", "error[0].message"), shortened; null when none.</summary>
    private static string? ServiceMessage(byte[] bytes)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(bytes);
            JsonElement root = document.RootElement;
            string? text = root.ValueKind switch
            {
                JsonValueKind.Object when root.TryGetProperty("status", out JsonElement s) && s.ValueKind == JsonValueKind.Object && s.TryGetProperty("error", out JsonElement e1) => e1.GetString(),
                JsonValueKind.Object when root.TryGetProperty("message", out JsonElement m) && m.ValueKind == JsonValueKind.String => m.GetString(),
                JsonValueKind.Object when root.TryGetProperty("error", out JsonElement e2) && e2.ValueKind == JsonValueKind.Array && e2.GetArrayLength() > 0
                    && e2[0].TryGetProperty("message", out JsonElement m2) => m2.GetString(),
                JsonValueKind.Object when root.TryGetProperty("error", out JsonElement e3) && e3.ValueKind == JsonValueKind.Object
                    && e3.TryGetProperty("message", out JsonElement m3) => m3.GetString(),
                _ => null,
            };
            return text is null ? null : text.Length <= MaxQuotedMessage ? text : text[..MaxQuotedMessage] + "...";
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>Naming and payload rules shared by the remote tiers.</summary>
internal static class RemoteVectorNaming
{
    /// <summary>A stable UUID for a record key (the databases take UUIDs or short ids, not any text): the first 16 bytes of
    /// SHA-256("ghostie-vector-key\n" + key), marked as an RFC 9562 version 8 (custom) UUID. The key itself travels in
    /// the payload, so search results name it.</summary>
    public static Guid KeyId(string key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("ghostie-vector-key\n" + key), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }

    /// <summary>The id as the databases write it: lower-case hyphenated.</summary>
    public static string KeyIdText(string key) => KeyId(key).ToString("D");

    /// <summary>8 hex digits of SHA-256 of the text, to keep sanitized names distinct.</summary>
    public static string Hash8(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8];

    /// <summary>One data property as a single comparable string, "{length of name}:{name}={value}" (unambiguous for any
    /// name and value): the remote filters compare whole strings in an array field, never a property name the database
    /// would have to parse.</summary>
    public static string Pair(string name, string value) => $"{name.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)}:{name}={value}";

    /// <summary>Whether a user id or prefix follows the rule: 1 to 32 characters of [a-z0-9_-].</summary>
    public static bool IsSimpleName(string? value, int maxLength = 32) =>
        !string.IsNullOrEmpty(value) && value.Length <= maxLength && value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-');
}

/// <summary>What of a record's data a remote tier may send (the privacy rule of docs/vector-tiers.md): by default none,
/// only the key and the vector; the host opts in per property name, or for all.</summary>
internal sealed class RemoteDataPolicy(IEnumerable<string> allowed, bool sendAll, string service, string optionName)
{
    private readonly HashSet<string> _allowed = new(allowed, StringComparer.Ordinal);

    public bool SendsNothing => !sendAll && _allowed.Count == 0;

    public bool Allows(string name) => sendAll || _allowed.Contains(name);

    /// <summary>The properties of <paramref name="data"/> that may leave the device; null when none.</summary>
    public Dictionary<string, string>? Outgoing(IReadOnlyDictionary<string, string>? data)
    {
        if (data is null || SendsNothing)
        {
            return null;
        }

        Dictionary<string, string>? result = null;
        foreach (KeyValuePair<string, string> pair in data)
        {
            if (Allows(pair.Key))
            {
                (result ??= new Dictionary<string, string>(StringComparer.Ordinal))[pair.Key] = pair.Value;
            }
        }

        return result;
    }

    /// <summary>Throws a clear error when a filter names a property this tier never sends (it could match nothing there).</summary>
    public void EnsureFilterable(IReadOnlyDictionary<string, string>? filter, string collectionName)
    {
        if (filter is null)
        {
            return;
        }

        foreach (string name in filter.Keys)
        {
            if (!Allows(name))
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"A search of {service} collection '{collectionName}' filters on the data property '{name}', which this tier never sends to {service} "
                    + $"(remote tiers get only the key and the vector unless the host opts in). Add '{name}' to {optionName} to filter on it remotely, or search without that filter.");
            }
        }
    }

    /// <summary>Parses the data a tier stored as a JSON object of strings.</summary>
    public static IReadOnlyDictionary<string, string>? ReadData(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.String)
        {
            string? text = element.GetString();
            if (string.IsNullOrEmpty(text))
            {
                return null;
            }

            using JsonDocument document = JsonDocument.Parse(text);
            return ReadData(document.RootElement);
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var data = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.String)
            {
                data[property.Name] = property.Value.GetString()!;
            }
        }

        return data.Count == 0 ? null : data;
    }

    /// <summary>The data as a JSON object text.</summary>
    public static string DataText(Dictionary<string, string> data) => Encoding.UTF8.GetString(RemoteVectorClient.Json(w =>
    {
        w.WriteStartObject();
        foreach (KeyValuePair<string, string> pair in data.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            w.WriteString(pair.Key, pair.Value);
        }

        w.WriteEndObject();
    }));
}
