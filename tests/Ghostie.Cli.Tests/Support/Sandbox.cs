namespace Ghostie.Cli.Tests.Support;

/// <summary>
/// A temporary folder holding one folder repository and any number of Ghostie homes, one per simulated device.
/// The CLI always gets <c>--home</c>, and <c>GHOSTIE_HOME</c> points inside the sandbox too, so ~/.ghostie is never touched.
/// </summary>
internal sealed class Sandbox : IDisposable
{
    // Strong enough for the weak-passphrase check ("correct horse battery staple" is on its list of common passphrases).
    public const string Passphrase = "violet anchor drizzle tundra 42";

    public Sandbox()
    {
        Root = Path.Combine(Path.GetTempPath(), "ghostie-cli-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>The folder repository every device of the sandbox shares.</summary>
    public string Repository => Path.Combine(Root, "repo");

    public string Home(string device) => Path.Combine(Root, "home-" + device);

    /// <summary>Runs <c>ghostie --home &lt;home of device&gt; args...</c>.</summary>
    public Task<CliResult> RunAsync(string device, params string[] args) => RunWithPassphraseAsync(device, null, args);

    /// <summary>Runs <c>ghostie --home &lt;home of device&gt; args...</c> with <c>GHOSTIE_PASSPHRASE</c> set (when not null).</summary>
    public Task<CliResult> RunWithPassphraseAsync(string device, string? passphrase, params string[] args) =>
        RunRawAsync(passphrase, ["--home", Home(device), .. args]);

    /// <summary>Runs <c>ghostie args...</c> exactly as given.</summary>
    public Task<CliResult> RunRawAsync(string? passphrase, params string[] args) =>
        GhostieCli.RunAsync(args, Root, new Dictionary<string, string?>
        {
            ["GHOSTIE_HOME"] = Path.Combine(Root, "default-home"),
            ["GHOSTIE_PASSPHRASE"] = passphrase,
        });

    /// <summary>Runs <c>ghostie --home &lt;home of device&gt; args...</c> with <paramref name="standardInput"/> piped to stdin.</summary>
    public Task<CliResult> RunWithInputAsync(string device, byte[] standardInput, params string[] args) =>
        GhostieCli.RunAsync(["--home", Home(device), .. args], Root, new Dictionary<string, string?>
        {
            ["GHOSTIE_HOME"] = Path.Combine(Root, "default-home"),
            ["GHOSTIE_PASSPHRASE"] = null,
        }, standardInput);

    /// <summary>Runs <c>ghostie --home &lt;home of device&gt; args...</c> on a pseudo-terminal, answering its prompts (<see cref="GhostieCli.RunOnTerminalAsync"/>).</summary>
    public Task<TerminalResult> RunOnTerminalAsync(string device, string[] args, params (string Expect, string Send)[] steps) =>
        GhostieCli.RunOnTerminalAsync(["--home", Home(device), .. args], Root, new Dictionary<string, string?>
        {
            ["GHOSTIE_HOME"] = Path.Combine(Root, "default-home"),
            ["GHOSTIE_PASSPHRASE"] = null,
        }, steps);

    /// <summary>Sets sync up for <paramref name="device"/> with the sandbox passphrase and returns the setup document.</summary>
    public async Task<System.Text.Json.JsonElement> SetupAsync(string device)
    {
        CliResult result = await RunWithPassphraseAsync(device, Passphrase, "sync", "setup", "--backend", "folder", "--path", Repository, "--device", device, "--json");
        return result.Expect(0).Json();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temporary folder
        }
    }
}
