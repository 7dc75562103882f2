using Ghostie.Cli.Tests.Support;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Testing;

namespace Ghostie.Cli.Tests;

/// <summary><c>ghostie sync credentials rotate</c> for a typed credential (the gist token), on a pseudo-terminal against the
/// GitHub gist double: the new token is checked against the repository before it replaces the stored one. The OAuth
/// backends' rotation is in <see cref="OAuthEndToEndTests"/>.</summary>
public sealed class CredentialsRotateTests : IDisposable
{
    private const string Enter = "\r";
    private const string OldToken = "ghp_oldTokenValue0123456789abcdefABCDEF";
    private const string NewToken = "ghp_newTokenValue0123456789abcdefABCDEF";
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private Dictionary<string, string?> Environment() => new()
    {
        ["GHOSTIE_HOME"] = Path.Combine(_sandbox.Root, "default-home"),
        ["GHOSTIE_PASSPHRASE"] = Sandbox.Passphrase,
        ["GHOSTIE_GITHUB_TOKEN"] = null,
        ["GITHUB_TOKEN"] = null,
    };

    private Task<TerminalResult> OnTerminalAsync(string[] args, params (string Expect, string Send)[] steps) =>
        GhostieCli.RunOnTerminalAsync(["--home", _sandbox.Home("laptop"), .. args], _sandbox.Root, Environment(), steps);

    [Fact]
    public async Task Rotate_Gist_AsksTheNewToken_ChecksItAgainstTheRepository_ThenReplacesTheStoredOne()
    {
        await using var github = new GistDouble(OldToken);
        (await OnTerminalAsync(["sync", "setup", "--backend", "gist", "--endpoint", github.BaseUri.ToString(), "--tag", "rotate", "--device", "laptop"],
            ("GitHub token with the gist scope", OldToken + Enter))).Expect(0);
        var store = new DeviceSecretStore(_sandbox.Home("laptop"));
        Assert.Equal(OldToken, store.TryGet("gist.token"));

        // GitHub now takes only the new token. A wrong one is refused by the check, and the stored token stays.
        github.Token = NewToken;
        TerminalResult wrong = await OnTerminalAsync(["sync", "credentials", "rotate"], ("New credential. GitHub token", "ghp_wrongToken0123456789" + Enter));
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Equal(OldToken, store.TryGet("gist.token"));

        TerminalResult rotated = (await OnTerminalAsync(["sync", "credentials", "rotate"], ("New credential. GitHub token", NewToken + Enter))).Expect(0);
        Assert.Contains("Replaced this device's gist credential (gist.token)", rotated.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(NewToken, rotated.Output, StringComparison.Ordinal);
        Assert.Equal(NewToken, store.TryGet("gist.token"));
        (await _sandbox.RunWithPassphraseAsync("laptop", null, "sync", "pull")).Expect(0);
    }

    [Fact]
    public async Task Rotate_FolderRepository_HasNothingToRotate()
    {
        await _sandbox.SetupAsync("laptop");
        CliResult result = await _sandbox.RunAsync("laptop", "sync", "credentials", "rotate");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no credential to rotate", result.StdErr, StringComparison.Ordinal);
    }
}
