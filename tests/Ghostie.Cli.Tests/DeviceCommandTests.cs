using System.Text.Json;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary><c>ghostie device list | remove</c> between three homes sharing one folder repository.</summary>
public sealed class DeviceCommandTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private async Task ThreeDevicesAsync()
    {
        foreach (string device in new[] { "laptop", "desktop", "phone" })
        {
            await _sandbox.SetupAsync(device);
            (await _sandbox.RunAsync(device, "memory", "add", $"written on {device}")).Expect(0);
            (await _sandbox.RunAsync(device, "sync", "push")).Expect(0);
        }

        (await _sandbox.RunAsync("laptop", "sync", "pull")).Expect(0);
    }

    [Fact]
    public async Task List_ShowsEveryDevice_AndRemove_MarksOneRemoved_ThatThenStopsWithExitCode12()
    {
        await ThreeDevicesAsync();

        JsonElement[] listed = [.. (await _sandbox.RunAsync("laptop", "device", "list", "--json")).Expect(0).Json().GetProperty("devices").EnumerateArray()];
        CliResult human = (await _sandbox.RunAsync("laptop", "device", "list")).Expect(0);

        Assert.Equal(["laptop", "desktop", "phone"], listed.Select(d => d.GetProperty("device_id").GetString()));
        Assert.True(listed[0].GetProperty("is_this_device").GetBoolean());
        Assert.All(listed, d => Assert.Equal("active", d.GetProperty("status").GetString()));
        Assert.Contains("laptop  last head", human.StdOut, StringComparison.Ordinal);
        Assert.Contains("(this device)", human.StdOut, StringComparison.Ordinal);

        JsonElement removed = (await _sandbox.RunAsync("laptop", "device", "remove", "phone", "--json")).Expect(0).Json().GetProperty("device");
        Assert.Equal("removed", removed.GetProperty("status").GetString());
        Assert.Equal("laptop", removed.GetProperty("removed_by").GetString());
        Assert.Contains("removed by 'laptop'", (await _sandbox.RunAsync("desktop", "device", "list")).Expect(0).StdOut, StringComparison.Ordinal);

        CliResult back = (await _sandbox.RunAsync("phone", "sync", "pull", "--json")).Expect(12);
        Assert.Equal("DeviceRemoved", back.Json().GetProperty("error").GetProperty("code").GetString());
        CliResult backHuman = (await _sandbox.RunAsync("phone", "sync", "push")).Expect(12);
        Assert.Contains("rename-device", backHuman.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Remove_ThisDevice_OrAnUnknownId_ExitsOne_NamingIt()
    {
        await ThreeDevicesAsync();

        CliResult self = (await _sandbox.RunAsync("laptop", "device", "remove", "laptop")).Expect(1);
        CliResult unknown = (await _sandbox.RunAsync("laptop", "device", "remove", "tablet", "--json")).Expect(1);

        Assert.Contains("this device", self.StdErr, StringComparison.Ordinal);
        Assert.Equal("NotFound", unknown.Json().GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("'tablet'", unknown.Json().GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
