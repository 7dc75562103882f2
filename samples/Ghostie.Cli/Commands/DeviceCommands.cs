using System.CommandLine;
using Ghostie.Cli.Output;
using Ghostie.Sync;

namespace Ghostie.Cli.Commands;

/// <summary><c>ghostie device list | remove</c>: the devices that write to the repository.</summary>
internal static class DeviceCommands
{
    public static Command Create(CliApplication app)
    {
        var device = new Command("device", "The devices that write to the repository: list them, remove one that is retired or dead.");
        device.Aliases.Add("devices");
        device.Subcommands.Add(List(app));
        device.Subcommands.Add(Remove(app));
        return device;
    }

    private static Command List(CliApplication app)
    {
        var command = new Command("list", "List every device that has written to the repository: id, name, when its last head was written, this device, removed or revoked.");
        command.Aliases.Add("ls");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<DeviceInfo> devices = await manager.ListDevicesAsync(cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.Document(new DeviceListDocument(devices.Select(DeviceEntryDocument.From).ToArray()), CliJson.Output.DeviceListDocument);
                return ExitCodes.Success;
            }

            foreach (DeviceInfo device in devices)
            {
                context.Line(Describe(device));
            }

            int removed = devices.Count(d => d.Status != DeviceStatus.Active);
            context.Hint($"{devices.Count} device(s){(removed > 0 ? $", {removed} removed or revoked" : "")}. 'ghostie device remove <id>' removes a retired or dead one.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Remove(CliApplication app)
    {
        var id = new Argument<string>("id") { Description = "The device to remove, as 'ghostie device list' shows it (case-sensitive)." };
        var command = new Command("remove",
            "Remove a retired or dead device: it no longer holds back the deletion of old packs, and what it writes from now on is ignored. Its history stays. Does not change any key: a lost or stolen device is revoked instead (docs/security.md).")
        {
            id,
        };
        command.Aliases.Add("rm");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            string given = parse.GetValue(id)!.Trim();
            using MemorySyncManager manager = await Backends.OpenAsync(context, cancellationToken).ConfigureAwait(false);
            DeviceInfo removed = await manager.RemoveDeviceAsync(given, cancellationToken: cancellationToken).ConfigureAwait(false);
            context.Report(new DeviceRemovedDocument(DeviceEntryDocument.From(removed)), CliJson.Output.DeviceRemovedDocument,
                $"Removed device '{removed.DeviceId}' from the repository; every device honours it from its next sync.");
            context.Hint($"If '{removed.DeviceId}' syncs again it stops with exit code 12 until it is given a new id ('ghostie sync rename-device'). A lost or stolen device still holds the key: see docs/security.md.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static string Describe(DeviceInfo device)
    {
        string id = device.DeviceId.Length > 0 ? device.DeviceId : $"(unreadable head, prefix {device.Prefix})";
        string name = device.DeviceName.Length > 0 && device.DeviceName != device.DeviceId ? $"  '{device.DeviceName}'" : "";
        string status = device.Status switch
        {
            DeviceStatus.Removed => $"  removed by '{device.RemovedBy}' {SyncCommands.Time(device.RemovedAt)}",
            DeviceStatus.Revoked => $"  revoked by '{device.RemovedBy}' {SyncCommands.Time(device.RemovedAt)}",
            _ => "",
        };
        return $"{id}{name}  last head {SyncCommands.Time(device.LastSeen)}{(device.HasHead ? "" : " (no head in storage)")}{(device.IsThisDevice ? "  (this device)" : "")}{status}";
    }
}
