using System.Text.Json;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary>
/// Choosing a passphrase (a new repository, <c>key add</c>, <c>key change</c>): an empty one is its own error, a weak one
/// is refused unless forced with <c>--allow-weak-passphrase</c>, a middling one is warned about, and the wording speaks of
/// choosing, not unlocking. Joining keeps whatever passphrase the repository has.
/// </summary>
public sealed class PassphraseTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private Task<CliResult> SetupAsync(string device, string? passphrase, params string[] extra) =>
        _sandbox.RunWithPassphraseAsync(device, passphrase, ["sync", "setup", "--backend", "folder", "--path", _sandbox.Repository, "--device", device, .. extra]);

    private Task<CliResult> KeyAsync(string? newPassphrase, params string[] args) =>
        GhostieCli.RunAsync(["--home", _sandbox.Home("laptop"), "key", .. args], _sandbox.Root, new Dictionary<string, string?>
        {
            ["GHOSTIE_HOME"] = Path.Combine(_sandbox.Root, "default-home"),
            ["GHOSTIE_NEW_PASSPHRASE"] = newPassphrase,
        });

    private void AssertNothingCreated(string device)
    {
        Assert.False(Directory.Exists(_sandbox.Repository), "no repository is created with a refused passphrase");
        Assert.False(File.Exists(Path.Combine(_sandbox.Home(device), "sync", "config.json")), "the home is not set up with a refused passphrase");
    }

    [Theory]
    [InlineData("a")]
    [InlineData("password123")]
    [InlineData("qwertyuiop")]
    [InlineData("Summer2024!")]
    [InlineData("abcabcabcabcabc")]
    public async Task Setup_NewRepositoryWithAWeakPassphrase_IsRefusedNamingTheFlag(string weak)
    {
        CliResult result = (await SetupAsync("laptop", weak)).Expect(1);

        Assert.Contains("too weak", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("--allow-weak-passphrase", result.StdErr, StringComparison.Ordinal);
        if (weak.Length > 3)
        {
            Assert.DoesNotContain(weak, result.StdErr, StringComparison.Ordinal);  // (a one-letter one is in any sentence)
        }

        AssertNothingCreated("laptop");
    }

    [Fact]
    public async Task Setup_WeakPassphraseWithTheFlag_CreatesTheRepositoryWithAWarning_AndJoiningNeedsNoFlag()
    {
        CliResult created = (await SetupAsync("laptop", "a", "--allow-weak-passphrase")).Expect(0);
        Assert.Contains("weak", created.StdErr, StringComparison.Ordinal);

        // Joining: the passphrase is the repository's, not chosen now; no strength check.
        CliResult joined = (await SetupAsync("phone", "a")).Expect(0);
        Assert.DoesNotContain("weak", joined.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Setup_MiddlingPassphrase_IsAcceptedWithAWarning_AStrongOneWithout()
    {
        CliResult middling = (await SetupAsync("laptop", "xkqzvbtwmj")).Expect(0);
        Assert.Contains("could be stronger", middling.StdErr, StringComparison.Ordinal);

        string other = Path.Combine(_sandbox.Root, "repo2");
        CliResult strong = (await _sandbox.RunWithPassphraseAsync("desk", Sandbox.Passphrase, "sync", "setup", "--path", other, "--device", "desk")).Expect(0);
        Assert.DoesNotContain("stronger", strong.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("weak", strong.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("   ")]
    [InlineData("\t ")]
    public async Task Setup_OnlySpaces_IsRefusedEvenWithTheFlag(string spaces)
    {
        CliResult result = (await SetupAsync("laptop", spaces, "--allow-weak-passphrase")).Expect(1);

        Assert.Contains("only spaces", result.StdErr, StringComparison.Ordinal);
        AssertNothingCreated("laptop");
    }

    [Fact]
    public async Task Setup_EmptyOrMissingPassphraseForANewRepository_SaysChooseNotUnlock()
    {
        CliResult empty = (await SetupAsync("laptop", "")).Expect(1);
        Assert.Contains("GHOSTIE_PASSPHRASE is set but empty", empty.StdErr, StringComparison.Ordinal);
        Assert.Contains("create", empty.StdErr, StringComparison.Ordinal);

        CliResult missing = (await SetupAsync("laptop", null)).Expect(1);
        Assert.Contains("choose", missing.StdErr, StringComparison.Ordinal);
        Assert.Contains("create", missing.StdErr, StringComparison.Ordinal);

        foreach (CliResult result in new[] { empty, missing })
        {
            Assert.DoesNotContain("unlock", result.StdErr, StringComparison.Ordinal);
        }

        AssertNothingCreated("laptop");
    }

    [Fact]
    public async Task Unlock_EmptyOrMissingPassphrase_SaysUnlock()
    {
        await _sandbox.SetupAsync("laptop");
        (await _sandbox.RunAsync("laptop", "sync", "forget")).Expect(0);

        CliResult empty = (await _sandbox.RunWithPassphraseAsync("laptop", "", "sync", "push")).Expect(1);
        Assert.Contains("GHOSTIE_PASSPHRASE is set but empty", empty.StdErr, StringComparison.Ordinal);
        Assert.Contains("unlock", empty.StdErr, StringComparison.Ordinal);
        Assert.Contains("unlock", (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(1).StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyAddAndChange_WeakOrEmptyNewPassphrase_AreRefused_TheFlagForcesIt_GenerateIsUnaffected()
    {
        await _sandbox.SetupAsync("laptop");

        CliResult weakAdd = (await KeyAsync("letmein1", "add", "--label", "weak")).Expect(1);
        Assert.Contains("--allow-weak-passphrase", weakAdd.StdErr, StringComparison.Ordinal);
        Assert.Contains("GHOSTIE_NEW_PASSPHRASE is set but empty", (await KeyAsync("", "add", "--label", "empty")).Expect(1).StdErr, StringComparison.Ordinal);
        CliResult weakChange = (await KeyAsync("123456789", "change")).Expect(1);
        Assert.Contains("too weak", weakChange.StdErr, StringComparison.Ordinal);
        Assert.Single((await KeyAsync(null, "list", "--json")).Expect(0).Json().GetProperty("key_files").EnumerateArray());

        (await KeyAsync("letmein1", "add", "--label", "forced", "--allow-weak-passphrase")).Expect(0);
        (await KeyAsync(null, "add", "--label", "recovery", "--generate")).Expect(0);
        JsonElement files = (await KeyAsync(null, "list", "--json")).Expect(0).Json().GetProperty("key_files");
        Assert.Equal(3, files.GetArrayLength());
    }
}
