using System.Buffers;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ghostie.Sync.Testing;

public sealed partial class GistDouble
{
    private const string MissingFiles = "[{\"resource\":\"Gist\",\"code\":\"missing_field\",\"field\":\"files\"}]";

    private sealed record FileChange(string Key, bool Delete, string? NewName, DoubleFile? Blob, bool Blank);

    private sealed class Body
    {
        public string? Description { get; set; }
        public bool? Public { get; set; }
        public bool HasFiles { get; set; }
        public List<FileChange> Files { get; } = [];
        public bool Malformed { get; set; }
    }

    [GeneratedRegex("^gistfile[0-9]+$")]
    private static partial Regex ReservedName();

    private static bool ValidName(string name) => name.Length is > 0 and <= 255 && !name.Contains('/', StringComparison.Ordinal) && !ReservedName().IsMatch(name);

    private async Task<Body> ReadBodyAsync(HttpListenerRequest request)
    {
        int capacity = request.ContentLength64 > 0 ? (int)request.ContentLength64 : 64 * 1024;
        byte[] buffer = _pool.Rent(capacity);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    byte[] bigger = _pool.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    _pool.Return(buffer);
                    buffer = bigger;
                }

                int read = await request.InputStream.ReadAsync(buffer.AsMemory(length)).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            return Parse(buffer.AsSpan(0, length));
        }
        finally
        {
            _pool.Return(buffer);
        }
    }

    private Body Parse(ReadOnlySpan<byte> json)
    {
        var body = new Body();
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                body.Malformed = true;
                return body;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string property = reader.GetString()!;
                reader.Read();
                switch (property)
                {
                    case "description":
                        body.Description = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
                        break;
                    case "public":
                        body.Public = reader.GetBoolean();
                        break;
                    case "files" when reader.TokenType == JsonTokenType.StartObject:
                        body.HasFiles = true;
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            string key = reader.GetString()!;
                            reader.Read();
                            if (reader.TokenType == JsonTokenType.Null)
                            {
                                body.Files.Add(new FileChange(key, true, null, null, false));
                                continue;
                            }

                            if (reader.TokenType != JsonTokenType.StartObject)
                            {
                                body.Malformed = true;
                                return body;
                            }

                            string? newName = null;
                            DoubleFile? blob = null;
                            bool blank = false;
                            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                            {
                                string field = reader.GetString()!;
                                reader.Read();
                                if (field == "content" && reader.TokenType == JsonTokenType.String)
                                {
                                    (blob, blank) = StoreContent(key, ref reader);
                                }
                                else if (field == "filename" && reader.TokenType == JsonTokenType.String)
                                {
                                    newName = reader.GetString();
                                }
                                else
                                {
                                    reader.Skip();
                                }
                            }

                            body.Files.Add(new FileChange(key, false, newName, blob, blank));
                        }

                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }
        catch (JsonException)
        {
            body.Malformed = true;
        }
        catch (InvalidOperationException)
        {
            body.Malformed = true;
        }

        return body;
    }

    private (DoubleFile Blob, bool Blank) StoreContent(string name, ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            ReadOnlySpan<byte> value = reader.ValueSpan;
            return (StoreBlob(name, value), IsBlank(value));
        }

        byte[] buffer = _pool.Rent(Math.Max(1, reader.ValueSpan.Length));
        try
        {
            int n = reader.CopyString(buffer);
            return (StoreBlob(name, buffer.AsSpan(0, n)), IsBlank(buffer.AsSpan(0, n)));
        }
        finally
        {
            _pool.Return(buffer);
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> content)
    {
        foreach (byte b in content)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r'))
            {
                return false;
            }
        }

        return true;
    }

    private async Task CreateAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        Body body = await ReadBodyAsync(request).ConfigureAwait(false);
        if (body.Malformed)
        {
            await ErrorAsync(response, 400, "Problems parsing JSON").ConfigureAwait(false);
            return;
        }

        if (!body.HasFiles || body.Files.Count == 0 || body.Files.Any(f => f.Delete || f.Blob is null || f.Blank))
        {
            await ErrorAsync(response, 422, "Validation Failed", MissingFiles).ConfigureAwait(false);
            return;
        }

        var files = new SortedDictionary<string, DoubleFile>(StringComparer.Ordinal);
        foreach (FileChange change in body.Files)
        {
            string name = change.NewName ?? change.Key;
            if (!ValidName(name) || files.ContainsKey(name))
            {
                await ErrorAsync(response, 422, "Validation Failed", "[{\"resource\":\"Gist\",\"code\":\"invalid\",\"field\":\"files\"}]").ConfigureAwait(false);
                return;
            }

            files[name] = change.Blob! with { Name = name };
        }

        if (files.Values.Sum(f => f.Size) > MaxGistBytes)
        {
            await ErrorAsync(response, 422, "Validation Failed: gist is too large", "[{\"resource\":\"Gist\",\"code\":\"too_large\",\"field\":\"files\"}]").ConfigureAwait(false);
            return;
        }

        var gist = new DoubleGist { Id = NewId(), Description = body.Description ?? "", Public = body.Public ?? false, CreatedAt = Now(), UpdatedAt = Now(), Files = files };
        lock (_gate)
        {
            gist.UpdateSequence = ++_sequence;
            _gists[gist.Id] = gist;
        }

        await WriteGistAsync(response, 201, gist).ConfigureAwait(false);
    }

    private async Task UpdateAsync(string id, HttpListenerRequest request, HttpListenerResponse response)
    {
        Body body = await ReadBodyAsync(request).ConfigureAwait(false);
        if (body.Malformed)
        {
            await ErrorAsync(response, 400, "Problems parsing JSON").ConfigureAwait(false);
            return;
        }

        string? problem = null;
        DoubleGist? gist;
        lock (_gate)
        {
            gist = _gists.TryGetValue(id, out DoubleGist? found) ? found : null;
            if (gist is not null)
            {
                problem = Apply(gist, body);
            }
        }

        if (gist is null)
        {
            await ErrorAsync(response, 404, "Not Found").ConfigureAwait(false);
            return;
        }

        if (problem is not null)
        {
            await ErrorAsync(response, 422, problem, MissingFiles).ConfigureAwait(false);
            return;
        }

        await WriteGistAsync(response, 200, gist).ConfigureAwait(false);
    }

    /// <summary>Applies an update to a copy of the files and commits it only when valid; returns the problem otherwise.</summary>
    private string? Apply(DoubleGist gist, Body body)
    {
        if (!body.HasFiles && body.Description is null)
        {
            return "Validation Failed: description or files required";
        }

        var files = new SortedDictionary<string, DoubleFile>(gist.Files, StringComparer.Ordinal);
        foreach (FileChange change in body.Files)
        {
            if (change.Delete)
            {
                files.Remove(change.Key);
                continue;
            }

            if (change.Blank)
            {
                return "Validation Failed: content can't be blank";
            }

            string name = change.NewName ?? change.Key;
            if (!ValidName(name))
            {
                return $"Validation Failed: invalid file name '{name}'";
            }

            if (files.Remove(change.Key, out DoubleFile? existing))
            {
                if (name != change.Key && files.ContainsKey(name))
                {
                    return $"Validation Failed: a file named '{name}' already exists";
                }

                files[name] = (change.Blob ?? existing) with { Name = name };
            }
            else
            {
                if (change.Blob is null)
                {
                    return "Validation Failed: content is required for a new file";
                }

                files[name] = change.Blob with { Name = name };
            }
        }

        if (files.Count == 0)
        {
            return "Validation Failed: a gist needs at least one file";
        }

        if (files.Values.Sum(f => f.Size) > MaxGistBytes)
        {
            return "Validation Failed: gist is too large";
        }

        gist.Files = files;
        gist.Description = body.Description ?? gist.Description;
        Touch(gist);
        return null;
    }
}
