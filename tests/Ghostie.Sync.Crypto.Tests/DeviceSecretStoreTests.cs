using System.Text;
using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.Tests;

public sealed class DeviceSecretStoreTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "ghostie-secrets-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    private const string Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    [Fact]
    public void Secrets_RoundTrip_AndAreNotOnDiskInTheClear()
    {
        var store = new DeviceSecretStore(_home);
        Assert.Null(store.TryGet("s3.secret_access_key"));
        store.Set("s3.secret_access_key", Secret);
        store.Set("gist.token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789");

        var reopened = new DeviceSecretStore(_home);
        Assert.Equal(Secret, reopened.TryGet("s3.secret_access_key"));
        Assert.Equal("ghp_abcdefghijklmnopqrstuvwxyz0123456789", reopened.TryGet("gist.token"));
        foreach (string file in Directory.GetFiles(_home, "*", SearchOption.AllDirectories))
        {
            string bytes = Encoding.Latin1.GetString(File.ReadAllBytes(file));
            Assert.DoesNotContain("wJalrXUtnFEMI", bytes, StringComparison.Ordinal);
            Assert.DoesNotContain("ghp_abcdef", bytes, StringComparison.Ordinal);
            Assert.DoesNotContain("s3.secret", bytes, StringComparison.Ordinal);
        }

        Assert.True(reopened.Remove("gist.token"));
        Assert.False(reopened.Remove("gist.token"));
        Assert.Null(store.TryGet("gist.token"));
        Assert.Equal(Secret, store.TryGet("s3.secret_access_key"));
    }

    [Fact]
    public void Files_AreOwnerOnly_AndWidenedPermissionsAreRefused()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var store = new DeviceSecretStore(_home);
        store.Set("a", "b");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.FilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_home, "keys", "device.key")));

        File.SetUnixFileMode(store.FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var error = Assert.Throws<GhostieSyncException>(() => store.TryGet("a"));
        Assert.Equal(GhostieErrorCode.InsecurePermissions, error.Code);
    }

    [Fact]
    public void TamperedFile_OrAnotherDevicesKey_IsADamagedError_NotAWrongValue()
    {
        var store = new DeviceSecretStore(_home);
        store.Set("a", Secret);
        byte[] file = File.ReadAllBytes(store.FilePath);
        file[^3] ^= 1;
        File.WriteAllBytes(store.FilePath, file);
        var error = Assert.Throws<GhostieSyncException>(() => store.TryGet("a"));
        Assert.Equal(GhostieErrorCode.IntegrityFailure, error.Code);
        Assert.DoesNotContain(Secret, error.ToString(), StringComparison.Ordinal);

        store.Forget();
        store.Set("a", Secret);
        string otherHome = _home + "-other";
        try
        {
            new DeviceSecretStore(otherHome).Set("x", "y");
            File.Copy(store.FilePath, Path.Combine(otherHome, "keys", "credentials"), overwrite: true);
            Assert.Equal(GhostieErrorCode.IntegrityFailure, Assert.Throws<GhostieSyncException>(() => new DeviceSecretStore(otherHome).TryGet("a")).Code);
        }
        finally
        {
            Directory.Delete(otherHome, recursive: true);
        }
    }

    [Fact]
    public void Forget_RemovesEverything()
    {
        var store = new DeviceSecretStore(_home);
        Assert.False(store.Forget());
        store.Set("a", "b");
        Assert.True(store.Forget());
        Assert.Empty(Directory.GetFiles(Path.Combine(_home, "keys")));
        Assert.Null(store.TryGet("a"));
    }
}
