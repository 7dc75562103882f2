using System.Diagnostics;
using Ghostie.Sync.Handoff.Tests.Support;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Handoff.Tests;

/// <summary>Handoff create and resume report on the "Ghostie.Sync" source and meter (docs/observability.md).</summary>
public sealed class HandoffTelemetryTests
{
    [Fact]
    public async Task CreateAndResume_RecordTheirDurationsAndActivities_WithoutTitleOrContentInTags()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService laptop = repository.Device("laptop"), phone = repository.Device("phone");
        using var capture = new TelemetryCapture();

        HandoffCreateResult created = await laptop.CreateAsync(new HandoffRequest { Transcript = Fixtures.SmallTranscript(), TargetDeviceId = "phone", Title = "Secret project Zebra" });
        await phone.ResumeAsync(created.PackageId, DeviceProfile.Ios);

        IReadOnlyList<RecordedMeasurement> durations = capture.Of("ghostie.handoff.duration");
        Assert.Equal(["create", "resume"], durations.Select(d => d.Tag("ghostie.handoff.operation")!).ToArray());
        Assert.All(durations, d =>
        {
            Assert.Equal("s", d.Unit);
            Assert.Equal("success", d.Tag("ghostie.outcome"));
            Assert.InRange(d.Value, 0, 60);
        });
        Activity create = Assert.Single(capture.Named("ghostie.handoff.create"));
        Assert.Equal(ActivityStatusCode.Ok, create.Status);
        Assert.Equal(created.StoredBytes, create.GetTagItem("ghostie.handoff.stored_bytes"));
        Activity resume = Assert.Single(capture.Named("ghostie.handoff.resume"));
        Assert.Equal(ActivityStatusCode.Ok, resume.Status);
        Assert.All(capture.Activities.SelectMany(a => a.TagObjects).Select(t => t.Value?.ToString() ?? ""), v =>
        {
            Assert.DoesNotContain("Zebra", v, StringComparison.Ordinal);
            Assert.DoesNotContain(created.PackageId, v, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Resume_OfAMissingPackage_RecordsAFailureWithTheErrorCode()
    {
        using Repository repository = await Repository.CreateAsync();
        HandoffService phone = repository.Device("phone");
        using var capture = new TelemetryCapture();

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => phone.ResumeAsync(HandoffService.NewPackageId(), DeviceProfile.Ios));

        Assert.Equal(GhostieErrorCode.NotFound, error.Code);
        RecordedMeasurement duration = Assert.Single(capture.Of("ghostie.handoff.duration"));
        Assert.Equal("resume", duration.Tag("ghostie.handoff.operation"));
        Assert.Equal("failure", duration.Tag("ghostie.outcome"));
        Assert.Equal("NotFound", duration.Tag("error.type"));
        Assert.Equal(ActivityStatusCode.Error, Assert.Single(capture.Named("ghostie.handoff.resume")).Status);
    }
}
