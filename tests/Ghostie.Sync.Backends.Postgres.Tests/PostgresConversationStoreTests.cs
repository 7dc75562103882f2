using System.Globalization;
using Ghostie.Sync.Backends.Postgres;
using Ghostie.Sync.Handoff;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>
/// Conversations in PostgreSQL: handoff packages (and, resumed with KeepPackage, the conversation history they carry)
/// stored through the backend under their usual opaque names, listed per device, kept per user (role), swept by the
/// database-side retention; the database holds only ciphertext and the routing data the protocol exposes anyway.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresConversationStoreTests(PostgresFixture postgres)
{
    private const string Marker = "blue-heron migration plan";

    private static ConversationTranscript Transcript(string id, int turns = 12)
    {
        var transcript = new ConversationTranscript { Id = id, Title = "Planning the " + Marker, SourceFormat = "test", ProjectRoot = "/home/alice/src/app" };
        for (int i = 0; i < turns; i++)
        {
            transcript.Messages.Add(new TranscriptMessage
            {
                Index = i,
                Role = i % 2 == 0 ? TranscriptRole.User : TranscriptRole.Assistant,
                Text = i == 2 ? $"Decision: we follow the {Marker}." : $"Turn {i} of conversation {id}, about src/feature{i % 3}.cs.",
                Timestamp = DateTimeOffset.Parse("2026-11-20T09:00:00Z", CultureInfo.InvariantCulture).AddMinutes(i),
            });
        }

        return transcript;
    }

    [Fact]
    public async Task Packages_AreListedPerDevice_KeptAsHistory_AndTheDatabaseSeesOnlyCiphertextAndRoutingData()
    {
        await using PostgresBackend storage = postgres.NewBackend();
        using var cluster = new Cluster(storage);
        Device laptop = await cluster.AddDeviceAsync("laptop");
        Device phone = await cluster.AddDeviceAsync("phone");
        Device tablet = await cluster.AddDeviceAsync("tablet");
        using HandoffService fromLaptop = HandoffService.For(laptop.Manager, storage);
        using HandoffService onPhone = HandoffService.For(phone.Manager, storage);
        using HandoffService onTablet = HandoffService.For(tablet.Manager, storage);

        HandoffCreateResult forPhone = await fromLaptop.CreateAsync(new HandoffRequest { Transcript = Transcript("conv-phone"), TargetDeviceId = "phone" });
        HandoffCreateResult forTablet = await fromLaptop.CreateAsync(new HandoffRequest { Transcript = Transcript("conv-tablet"), TargetDeviceId = "tablet" });

        // Per device: each device lists only what is addressed to it; the database lists it by the recipient prefix.
        Assert.Equal([forPhone.PackageId], (await onPhone.ListPendingAsync()).Pending.Select(p => p.PackageId));
        Assert.Equal([forTablet.PackageId], (await onTablet.ListPendingAsync()).Pending.Select(p => p.PackageId));
        string phonePrefix = forPhone.ObjectName[..(forPhone.ObjectName.LastIndexOf('/') + 1)];
        List<PostgresObjectInfo> phoneRows = await storage.ListDetailedAsync(phonePrefix).ToListAsync();
        Assert.Equal([forPhone.ObjectName], phoneRows.Select(r => r.Name));
        Assert.Equal(forPhone.StoredBytes, phoneRows[0].Size);

        // Resumed and kept: the conversation stays in the database as history, and resumes again.
        RebuiltConversation first = await onPhone.ResumeAsync(forPhone.PackageId, DeviceProfile.Ios, new HandoffResumeOptions { KeepPackage = true });
        Assert.Contains(Marker, first.Context, StringComparison.Ordinal);
        Assert.Equal([forPhone.PackageId], (await onPhone.ListPendingAsync()).Pending.Select(p => p.PackageId));
        RebuiltConversation again = await onPhone.ResumeAsync(forPhone.PackageId, DeviceProfile.Ios);
        Assert.Equal(first.Context, again.Context);
        Assert.Empty((await onPhone.ListPendingAsync()).Pending);
        Assert.Empty(await storage.ListAllAsync(phonePrefix));

        // Per user: another role's repository is another store; it sees none of this.
        await using var other = new PostgresBackend(postgres.Options(connectionString: postgres.TenantBConnectionString));
        Assert.Empty(await other.ListAllAsync(HandoffService.Prefix));

        // The administrator's view: opaque names, sizes, write times, and bytes that never contain the conversation,
        // its title, or a device name.
        string repository = storage.Repository;
        List<object?> names = await postgres.Server.QueryAsync(
            $"SELECT name FROM ghostie.objects WHERE repository = '{repository}' AND name LIKE 'x/%'", PostgresFixture.Database);
        Assert.Equal([forTablet.ObjectName], names.Cast<string>());
        Assert.Matches("^x/[a-z2-7]{32}/[0-9a-f]{24}$", forTablet.ObjectName);
        foreach (string plain in new[] { Marker, "conv-tablet", "tablet", "laptop", "feature1.cs" })
        {
            List<object?> hits = await postgres.Server.QueryAsync(
                $"SELECT count(*) FROM ghostie.chunks WHERE repository = '{repository}' AND position(convert_to('{plain}', 'UTF8') IN data) > 0",
                PostgresFixture.Database);
            Assert.Equal(0L, hits.Single());
        }
    }

    [Fact]
    public async Task Retention_DeletesPackagesWrittenBeforeTheLimit_AndNeverMemories()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T08:00:00Z", CultureInfo.InvariantCulture));
        PostgresBackendOptions options = postgres.Options();
        options.HandoffRetention = TimeSpan.FromDays(2);
        options.TimeProvider = clock;
        await using var storage = new PostgresBackend(options);
        using var cluster = new Cluster(storage);
        Device laptop = await cluster.AddDeviceAsync("laptop");
        Device phone = await cluster.AddDeviceAsync("phone");
        laptop.Add("a memory that retention must never touch");
        Assert.True((await laptop.SyncAsync()).Success);
        var handoffOptions = new HandoffOptions { TimeToLive = null, TimeProvider = clock };
        using HandoffService fromLaptop = HandoffService.For(laptop.Manager, storage, handoffOptions);
        using HandoffService onPhone = HandoffService.For(phone.Manager, storage, handoffOptions);

        HandoffCreateResult old = await fromLaptop.CreateAsync(new HandoffRequest { Transcript = Transcript("conv-old"), TargetDeviceId = "phone" });
        clock.Advance(TimeSpan.FromDays(1));
        HandoffCreateResult recent = await fromLaptop.CreateAsync(new HandoffRequest { Transcript = Transcript("conv-new"), TargetDeviceId = "phone" });
        List<string> memoryObjects = [.. (await storage.ListAllAsync("")).Where(n => !n.StartsWith("x", StringComparison.Ordinal))];

        Assert.Equal(0, await storage.SweepHandoffsAsync());
        clock.Advance(TimeSpan.FromDays(1.5));
        Assert.Equal(1, await storage.SweepHandoffsAsync());

        Assert.Equal([recent.PackageId], (await onPhone.ListPendingAsync()).Pending.Select(p => p.PackageId));
        Assert.Null(await storage.GetAsync(old.ObjectName));
        Assert.Equal(memoryObjects, [.. (await storage.ListAllAsync("")).Where(n => !n.StartsWith("x", StringComparison.Ordinal))]);
        Assert.True((await phone.SyncAsync()).Success);
        Assert.Equal(laptop.Snapshot(), phone.Snapshot());
        memoryObjects = [.. await storage.ListAllAsync("")];
        Assert.Contains(recent.ObjectName, memoryObjects);
        memoryObjects.Remove(recent.ObjectName);

        // A client starting later applies the retention on its first use, without being asked.
        clock.Advance(TimeSpan.FromDays(1));
        PostgresBackendOptions later = postgres.Options(storage.Repository);
        later.HandoffRetention = TimeSpan.FromDays(2);
        later.TimeProvider = clock;
        await using var restarted = new PostgresBackend(later);
        Assert.Empty(await restarted.ListAllAsync(HandoffService.Prefix));
        Assert.Equal(memoryObjects, [.. (await restarted.ListAllAsync("")).Where(n => !n.StartsWith("x", StringComparison.Ordinal))]);
    }
}
