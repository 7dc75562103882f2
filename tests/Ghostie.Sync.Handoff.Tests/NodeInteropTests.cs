using Ghostie.Sync.Testing;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Ghostie.Sync.Backends.FileSystem;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Handoff.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Handoff.Tests;

/// <summary>
/// A whole repository written by the product (two devices, memories edited and deleted, a second passphrase, a
/// key rotation, handoff packages), read back by tests/interop/decrypt.mjs: a Node decryptor written from
/// docs/format.md and docs/sync-protocol.md alone. If the code writes anything the document does not describe,
/// the decryptor refuses it or reads something else, and this fails. A missing node is a failure, not a skip.
/// </summary>
public sealed class NodeInteropTests : IDisposable
{
    private const string Passphrase = "node interop passphrase";
    private const string Recovery = "printed recovery key: ünïcødé";
    private readonly TempFolder _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-21T08:00:00Z", CultureInfo.InvariantCulture));

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task NodeDecryptor_ReadsEveryObjectOfARealRepository()
    {
        string root = Path.Combine(_dir.Path, "repo");
        var backend = new FileSystemBackend(root);
        RepositoryKeyOptions keyOptions = TestKeys.FastOptions(_time);
        RepositoryKeys laptopKeys = await RepositoryKeys.InitializeAsync(backend, Passphrase, "primary", keyOptions);
        await laptopKeys.AddPassphraseAsync(Recovery, "recovery");
        RepositoryKeys phoneKeys = await RepositoryKeys.UnlockAsync(backend, Recovery, keyOptions);
        using MemorySyncManager laptop = NewDevice(backend, laptopKeys, "laptop", "Work laptop");
        using MemorySyncManager phone = NewDevice(backend, phoneKeys, "phone", "Phone");
        uint firstEpoch = laptopKeys.CurrentEpoch;

        MemoryRecord network = Save(laptop, "network", "Discovered new network topology", """{"ssid":"home-5g","n":[1,2.5,null,true],"s":"<&>'+"}""");
        MemoryRecord weather = Save(laptop, "note", "-5 degrees outside, ünïcødé \"quotes\" \\ \n tab\t 😀");
        MemoryRecord doomed = Save(laptop, "note", "to be deleted on the phone");
        await laptop.SyncAsync();
        await phone.SyncAsync();

        _time.Advance(TimeSpan.FromMinutes(1));
        uint rotated = await laptopKeys.RotateEpochAsync();
        await phoneKeys.RefreshAsync();
        Assert.NotEqual(firstEpoch, rotated);
        Save(phone, "taste", "Alice prefers green tea");
        phone.Memories.Save(phone.Memories.Get(network.Id)! with { Content = "Network topology: mesh, 3 hops" });
        Assert.True(phone.Memories.Delete(doomed.Id));
        await phone.SyncAsync();
        await laptop.SyncAsync();

        HandoffCreateResult toPhone, toAny;
        using (var service = new HandoffService(backend, laptopKeys, "laptop", new HandoffOptions { TimeProvider = _time }, deviceName: "Work laptop"))
        {
            toPhone = await service.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "phone", Title = "Queue test" });
            toAny = await service.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(12), Title = "For any device" });
        }

        // Packs under both epochs, so the decryptor had to load and use both.
        HashSet<uint> packEpochs = [.. Directory.EnumerateFiles(Path.Combine(root, "p"), "*", SearchOption.AllDirectories)
            .Select(f => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(File.ReadAllBytes(f).AsSpan(8, 4)))];
        Assert.Contains(firstEpoch, packEpochs);
        Assert.Contains(rotated, packEpochs);

        (int code, string stdout, string stderr) = await InteropDecryptor.RunNodeAsync(["--repo", root, "--dump-all"], Passphrase);
        Assert.True(code == 0, $"decrypt.mjs --dump-all exit {code}: {stderr}");
        List<JsonElement> lines = [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];
        IEnumerable<JsonElement> OfType(string type) => lines.Where(l => l.GetProperty("type").GetString() == type);

        Assert.Equal(laptopKeys.RepositoryId, Assert.Single(OfType("repository")).GetProperty("repository_id").GetString());
        Assert.Equal(["primary", "recovery"], OfType("key_file").Select(k => k.GetProperty("label").GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(
            laptopKeys.Epochs.Select(e => e.ToString("x8", CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal),
            OfType("epoch").Select(e => e.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(rotated.ToString("x8", CultureInfo.InvariantCulture), Assert.Single(OfType("epoch"), e => e.GetProperty("current").GetBoolean()).GetProperty("id").GetString());
        Assert.Equal(["laptop", "phone"], OfType("device").Select(d => d.GetProperty("device_id").GetString()!).Order(StringComparer.Ordinal));

        // Every memory, exactly as both devices hold it; the deleted one as a tombstone.
        Dictionary<string, JsonElement> memories = OfType("memory").ToDictionary(m => m.GetProperty("id").GetString()!);
        Assert.All(memories.Values, m => Assert.True(m.GetProperty("hashes_match").GetBoolean(), $"content hash of {m.GetProperty("id")} recomputed from format.md's canonical JSON"));
        Assert.True(memories[doomed.Id].GetProperty("deleted").GetBoolean());
        Assert.Equal(JsonValueKind.Null, memories[doomed.Id].GetProperty("record").ValueKind);
        foreach (MemorySyncManager device in new[] { laptop, phone })
        {
            List<MemoryRecord> local = [.. device.Memories.Scan().Select(f => f.Record!)];
            Assert.Equal(3, local.Count);
            Assert.Equal(local.Select(r => r.Id).Order(StringComparer.Ordinal), memories.Where(m => !m.Value.GetProperty("deleted").GetBoolean()).Select(m => m.Key).Order(StringComparer.Ordinal));
            foreach (MemoryRecord record in local)
            {
                JsonElement read = memories[record.Id].GetProperty("record");
                Assert.Equal(record.Content, read.GetProperty("content").GetString());
                Assert.Equal(record.Category, read.GetProperty("category").GetString());
                Assert.Equal(record.DeviceId, read.GetProperty("device_id").GetString());
                Assert.Equal(record.Timestamp, DateTimeOffset.Parse(read.GetProperty("timestamp").GetString()!, CultureInfo.InvariantCulture));
                JsonElement context = read.GetProperty("context");
                Assert.True(record.Context is { } expected ? JsonElement.DeepEquals(expected, context) : context.ValueKind == JsonValueKind.Null, $"context of {record.Id}");
            }
        }

        Assert.Equal("Network topology: mesh, 3 hops", memories[network.Id].GetProperty("record").GetProperty("content").GetString());
        Assert.Equal(weather.Content, memories[weather.Id].GetProperty("record").GetProperty("content").GetString());

        // Both handoff packages: manifest and package JSON, recipient tags checked by the decryptor.
        Dictionary<string, JsonElement> handoffs = OfType("handoff").ToDictionary(h => h.GetProperty("name").GetString()!);
        Assert.Equal(new[] { toAny.ObjectName, toPhone.ObjectName }.Order(StringComparer.Ordinal), handoffs.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("phone", handoffs[toPhone.ObjectName].GetProperty("manifest").GetProperty("target_device_id").GetString());
        Assert.Equal(JsonValueKind.Null, handoffs[toAny.ObjectName].GetProperty("manifest").GetProperty("target_device_id").ValueKind);
        Assert.Equal("Queue test", handoffs[toPhone.ObjectName].GetProperty("manifest").GetProperty("title").GetString());
        Assert.Equal(toPhone.JsonBytes, handoffs[toPhone.ObjectName].GetProperty("manifest").GetProperty("json_bytes").GetInt64());
        Assert.Equal(toPhone.PackageId, handoffs[toPhone.ObjectName].GetProperty("package").GetProperty("package_id").GetString());

        // --dump (the plain memory lines) with the second passphrase gives the same memories.
        (code, stdout, stderr) = await InteropDecryptor.RunNodeAsync(["--repo", root, "--dump"], Recovery);
        Assert.True(code == 0, $"decrypt.mjs --dump exit {code}: {stderr}");
        Assert.Equal(3, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // A wrong passphrase and a tampered pack are told apart, as the document says.
        Assert.Equal(2, (await InteropDecryptor.RunNodeAsync(["--repo", root, "--dump"], "not the passphrase")).Code);
        string pack = Directory.EnumerateFiles(Path.Combine(root, "p"), "*", SearchOption.AllDirectories).First();
        byte[] bytes = await File.ReadAllBytesAsync(pack);
        bytes[^20] ^= 1;
        await File.WriteAllBytesAsync(pack, bytes);
        (code, _, stderr) = await InteropDecryptor.RunNodeAsync(["--repo", root, "--dump"], Passphrase);
        Assert.True(code == 3, $"tampered pack: exit {code}: {stderr}");
        Assert.Contains(Path.GetFileName(pack), stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeDecryptor_ReadsCurrentSchemaPackages_FieldByField()
    {
        // Packages of each schema version the library writes today: 3 (an agent with a permission mode, todos and project
        // instructions), 2 (only a checkpoint pointer) and 1 (neither). decrypt.mjs reads them from docs/format.md and
        // docs/handoff.md alone; what it reads must be what the library reads back.
        string root = Path.Combine(_dir.Path, "repo");
        var backend = new FileSystemBackend(root);
        RepositoryKeys keys = await RepositoryKeys.InitializeAsync(backend, Passphrase, "primary", TestKeys.FastOptions(_time));
        HandoffPackage full = Fixtures.Full(HandoffService.NewPackageId());
        HandoffPackage v2 = Fixtures.WithoutVersion3(Fixtures.Full(HandoffService.NewPackageId(), target: null));
        HandoffPackage v1 = v2 with { PackageId = HandoffService.NewPackageId(), Agents = [.. v2.Agents.Select(a => a with { Checkpoint = null })] };
        var fetched = new Dictionary<string, (HandoffCreateResult Stored, HandoffPackage Read)>();
        using (var service = new HandoffService(backend, keys, "phone", new HandoffOptions { TimeProvider = _time }, deviceName: "Phone"))
        {
            foreach (HandoffPackage package in new[] { full, v2, v1 })
            {
                HandoffCreateResult stored = await service.StoreAsync(package);
                fetched[stored.ObjectName] = (stored, await service.FetchAsync(stored.PackageId));
            }
        }

        Assert.Equal([3, 2, 1], fetched.Values.Select(f => f.Read.SchemaVersion));

        (int code, string stdout, string stderr) = await InteropDecryptor.RunNodeAsync(["--repo", root, "--dump-all"], Passphrase);
        Assert.True(code == 0, $"decrypt.mjs --dump-all exit {code}: {stderr}");
        Dictionary<string, JsonElement> handoffs = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(l => l.GetProperty("type").GetString() == "handoff")
            .ToDictionary(h => h.GetProperty("name").GetString()!);
        Assert.Equal(fetched.Keys.Order(StringComparer.Ordinal), handoffs.Keys.Order(StringComparer.Ordinal));

        foreach ((string name, (HandoffCreateResult stored, HandoffPackage read)) in fetched)
        {
            JsonElement line = handoffs[name], node = line.GetProperty("package");
            Assert.Equal(read.SchemaVersion, node.GetProperty("schema_version").GetInt32());
            Assert.Equal(read.SchemaVersion, line.GetProperty("manifest").GetProperty("schema_version").GetInt32());
            // The decryptor works out the lowest version that expresses the package from the document's rule.
            Assert.Equal(read.SchemaVersion, line.GetProperty("schema_version_needed").GetInt32());
            Assert.Equal(stored.PackageId, node.GetProperty("package_id").GetString());

            // The whole package, as the library reads it and writes it again, is what the decryptor read.
            using JsonDocument library = JsonDocument.Parse(HandoffSerializer.Default.Serialize(read));
            Assert.True(JsonElement.DeepEquals(library.RootElement, node), $"{name}: decrypt.mjs read\n{node}\nthe library read\n{library.RootElement}");

            // Field by field, the state added with versions 2 and 3.
            AgentState agent = Assert.Single(read.Agents);
            JsonElement a = Assert.Single(node.GetProperty("agents").EnumerateArray());
            Assert.Equal(agent.Kind, a.GetProperty("kind").GetString());
            Assert.Equal(agent.Status, a.GetProperty("status").GetString());
            Assert.Equal(agent.PermissionMode, a.GetProperty("permission_mode").GetString());
            Assert.Equal(agent.WorkingDirectory, a.GetProperty("working_directory").GetString());
            Assert.Equal(agent.Todos.Select(t => (t.Content, t.Status, t.ActiveForm)),
                a.GetProperty("todos").EnumerateArray().Select(t => (t.GetProperty("content").GetString()!, t.GetProperty("status").GetString()!, t.GetProperty("active_form").GetString())));
            Assert.Equal(agent.ProjectInstructions.Select(p => (p.Path, p.Text, p.Truncated)),
                a.GetProperty("project_instructions").EnumerateArray().Select(p => (p.GetProperty("path").GetString()!, p.GetProperty("text").GetString()!, p.GetProperty("truncated").GetBoolean())));
            if (agent.Checkpoint is { } pointer)
            {
                JsonElement c = a.GetProperty("checkpoint");
                Assert.Equal((pointer.Store, pointer.Sequence, pointer.StateSha256, pointer.CreatedAt),
                    (c.GetProperty("store").GetString()!, c.GetProperty("sequence").GetInt64(), c.GetProperty("state_sha256").GetString()!, c.GetProperty("created_at").GetDateTimeOffset()));
            }
            else
            {
                Assert.Equal(JsonValueKind.Null, a.GetProperty("checkpoint").ValueKind);
            }

            Assert.Equal(read.Reconstruction.ResumptionPoint.LastUserTurn, node.GetProperty("reconstruction").GetProperty("resumption_point").GetProperty("last_user_turn").GetInt32());

            // The vectors, decoded by the decryptor from base64 little-endian float32: exactly the library's.
            float[][] vectors = [.. line.GetProperty("vectors").EnumerateArray().Select(v => v.EnumerateArray().Select(x => (float)x.GetDouble()).ToArray())];
            Assert.Equal(read.Embeddings!.Entries.Select(e => e.Vector), vectors);
        }
    }

    private MemorySyncManager NewDevice(FileSystemBackend backend, RepositoryKeys keys, string id, string name)
    {
        var options = new GhostieSyncOptions { Home = Path.Combine(_dir.Path, id), TimeProvider = _time };
        new GhostieHome(options.Home).EnsureCreated();
        return MemorySyncManager.Create(backend, keys, options, id, name, ownsKeys: true);
    }

    private MemoryRecord Save(MemorySyncManager device, string category, string content, string? context = null)
    {
        _time.Advance(TimeSpan.FromMilliseconds(7));
        MemoryRecord record = MemoryRecord.Create(category, content, device.DeviceId, _time.GetUtcNow(), context is null ? null : JsonDocument.Parse(context).RootElement.Clone());
        device.Memories.Save(record);
        return record;
    }
}
