using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Ghostie.Cli.Tests.Support;
using Ghostie.Sync.Testing;

namespace Ghostie.Cli.Tests;

/// <summary>
/// <c>ghostie handoff create --summarizer openai</c> against a loopback OpenAI-compatible server (an HttpListener serving
/// POST /v1/chat/completions): the model's summary travels when the server answers, the extractive summary and a warning
/// when it fails; the API key goes to the server only, never to the output.
/// </summary>
public sealed class HandoffSummarizerTests : IDisposable
{
    private const string KeyVariable = "GHOSTIE_TEST_OPENAI_KEY";
    private static readonly string Key = "sk-" + "test-" + "Q8v2Lm4Rt6Yp0Zx3Nc5Bw7Hj9Kd1Fs";
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task OpenAiSummarizer_ServerAnswers_SummaryTravels_KeySentOnlyToTheServer()
    {
        const string summary = "Primary request: make the offline queue durable. Decisions: SQLite on the phone. Next step: the settings page.";
        using var server = new LoopbackChatServer(HttpStatusCode.OK, summary);
        (string transcript, _) = await PrepareAsync();

        CliResult created = await CreateAsync(transcript, server.BaseUrl);

        created.Expect(0);
        Assert.DoesNotContain(Key, created.StdOut + created.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("failed", created.StdErr, StringComparison.Ordinal);
        ReceivedRequest request = Assert.Single(server.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal("Bearer " + Key, request.Authorization);
        Assert.Equal("tiny-test-model", request.Body.GetProperty("model").GetString());
        Assert.Contains(request.Body.GetProperty("messages").EnumerateArray(), m => m.GetProperty("role").GetString() == "user");

        string id = created.Json().GetProperty("package_id").GetString()!;
        CliResult resumed = (await _sandbox.RunAsync("phone", "handoff", "resume", id, "--profile", "desktop")).Expect(0);
        Assert.Contains(summary, resumed.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Unauthorized)]
    public async Task OpenAiSummarizer_ServerFails_ExtractiveKept_WithAWarning(HttpStatusCode status)
    {
        using var server = new LoopbackChatServer(status, "never used");
        (string transcript, _) = await PrepareAsync();

        CliResult created = await CreateAsync(transcript, server.BaseUrl);

        created.Expect(0);
        Assert.Contains("the tiny-test-model summary at " + server.BaseUrl + " failed", created.StdErr, StringComparison.Ordinal);
        Assert.Contains("extractive summary", created.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, created.StdOut + created.StdErr, StringComparison.Ordinal);
        Assert.NotEmpty(server.Requests);
        string id = created.Json().GetProperty("package_id").GetString()!;
        CliResult resumed = (await _sandbox.RunAsync("phone", "handoff", "resume", id, "--profile", "desktop")).Expect(0);
        Assert.Contains("## Last instruction (verbatim)", resumed.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("[summary]", resumed.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--summarizer", "openai", "--model", "m")]
    [InlineData("--summarizer", "openai", "--endpoint", "ftp://x/v1", "--model", "m")]
    [InlineData("--summarizer", "openai", "--endpoint", "http://127.0.0.1:9/v1")]
    [InlineData("--endpoint", "http://127.0.0.1:9/v1")]
    public async Task OpenAiSummarizer_IncompleteOptions_RefusedBeforeAnythingIsRead(params string[] options)
    {
        await _sandbox.SetupAsync("laptop");
        CliResult result = await _sandbox.RunAsync("laptop", ["handoff", "create", "--from", Path.Combine(_sandbox.Root, "missing.jsonl"), .. options]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("missing.jsonl", result.StdErr, StringComparison.Ordinal); // refused before the transcript is opened
    }

    private async Task<(string Transcript, TranscriptGenerator Generator)> PrepareAsync()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        var generator = new TranscriptGenerator(seed: 7);
        string transcript = Path.Combine(_sandbox.Root, "session.jsonl");
        await File.WriteAllTextAsync(transcript, generator.Generate(30));
        return (transcript, generator);
    }

    private Task<CliResult> CreateAsync(string transcript, string endpoint) =>
        GhostieCli.RunAsync(
            ["--home", _sandbox.Home("laptop"), "handoff", "create", "--from", transcript, "--to", "phone", "--json",
             "--summarizer", "openai", "--endpoint", endpoint, "--model", "tiny-test-model", "--api-key-env", KeyVariable],
            _sandbox.Root,
            new Dictionary<string, string?> { ["GHOSTIE_HOME"] = Path.Combine(_sandbox.Root, "default-home"), ["GHOSTIE_PASSPHRASE"] = null, [KeyVariable] = Key });

    private sealed record ReceivedRequest(string Path, string? Authorization, JsonElement Body);

    /// <summary>The smallest OpenAI-compatible chat server: POST /v1/chat/completions answers one fixed completion (or an error status).</summary>
    private sealed class LoopbackChatServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;
        private readonly List<ReceivedRequest> _requests = [];

        public LoopbackChatServer(HttpStatusCode status, string content)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            BaseUrl = $"http://127.0.0.1:{port}/v1";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/v1/");
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                    {
                        return;
                    }

                    using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                    string body = await reader.ReadToEndAsync();
                    lock (_requests)
                    {
                        _requests.Add(new ReceivedRequest(context.Request.Url!.AbsolutePath, context.Request.Headers["Authorization"], JsonDocument.Parse(body).RootElement.Clone()));
                    }

                    string answer = status == HttpStatusCode.OK
                        ? JsonSerializer.Serialize(new
                        {
                            id = "chatcmpl-1", @object = "chat.completion", created = 1_700_000_000, model = "tiny-test-model",
                            choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
                            usage = new { prompt_tokens = 10, completion_tokens = 10, total_tokens = 20 },
                        })
                        : """{"error":{"message":"refused by the test server","type":"invalid_request_error","code":null}}""";
                    byte[] bytes = Encoding.UTF8.GetBytes(answer);
                    context.Response.StatusCode = (int)status;
                    context.Response.ContentType = "application/json";
                    await context.Response.OutputStream.WriteAsync(bytes);
                    context.Response.Close();
                }
            });
        }

        public string BaseUrl { get; }

        public IReadOnlyList<ReceivedRequest> Requests
        {
            get
            {
                lock (_requests)
                {
                    return [.. _requests];
                }
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
