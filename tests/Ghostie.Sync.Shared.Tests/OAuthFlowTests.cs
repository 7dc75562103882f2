using System.Net;
using System.Net.Sockets;
using System.Text;
using Ghostie.Sync.Shared;

namespace Ghostie.Sync.Shared.Tests;

/// <summary>The provider-neutral parts of the installed-app flow: PKCE values, the pasted answer, and the loopback listener.</summary>
public sealed class OAuthFlowTests
{
    [Fact]
    public void Pkce_VerifierIs43UnreservedCharacters_AndTheChallengeIsItsBase64UrlSha256()
    {
        string verifier = Pkce.NewVerifier();
        Assert.Equal(43, verifier.Length);
        Assert.All(verifier, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
        // RFC 7636 appendix B.
        Assert.Equal("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Pkce.Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        Assert.NotEqual(Pkce.NewState(), Pkce.NewState());
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000/?state=S&code=4%2F0Abc&scope=x", "4/0Abc")]
    [InlineData("  4/0Abc  ", "4/0Abc")]
    [InlineData("state=S&code=abc", "abc")]
    public void ParsePasted_TheAddressOrTheCode_GivesTheCode(string pasted, string code) =>
        Assert.Equal(code, InstalledAppFlow.ParsePasted(pasted, "S", "Google"));

    [Theory]
    [InlineData("http://127.0.0.1:5000/?code=abc&state=other", GhostieErrorCode.InvalidArgument)]
    [InlineData("http://127.0.0.1:5000/?error=access_denied&state=S", GhostieErrorCode.AccessDenied)]
    [InlineData("", GhostieErrorCode.NotConfigured)]
    [InlineData("two words", GhostieErrorCode.InvalidArgument)]
    public void ParsePasted_WrongState_Refusal_NothingOrJunk_AreTypedErrors(string pasted, GhostieErrorCode expected) =>
        Assert.Equal(expected, Assert.Throws<GhostieSyncException>(() => InstalledAppFlow.ParsePasted(pasted, "S", "Google")).Code);

    [Fact]
    public async Task Listener_IgnoresOtherPathsAndOtherStates_ThenTakesTheRedirect()
    {
        using var listener = LoopbackListener.Start(0);
        Task<string> code = listener.WaitForCodeAsync("S", "Google", CancellationToken.None);
        using var http = new HttpClient();
        Uri root = listener.RedirectUri;

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri(root, "favicon.ico"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(new Uri(root, "?code=forged&state=other"))).StatusCode);
        Assert.False(code.IsCompleted);
        HttpResponseMessage ok = await http.GetAsync(new Uri(root, "?code=real&state=S"));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("You can close this tab", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("real", await code);
    }

    [Fact]
    public async Task Listener_ARequestThatIsNotHttp_IsAnswered400_AndWaitedPast()
    {
        using var listener = LoopbackListener.Start(0);
        Task<string> code = listener.WaitForCodeAsync("S", "Google", CancellationToken.None);
        using (var junk = new TcpClient())
        {
            await junk.ConnectAsync(IPAddress.Loopback, listener.RedirectUri.Port);
            await junk.GetStream().WriteAsync(Encoding.ASCII.GetBytes("HELLO\r\n\r\n"));
            byte[] buffer = new byte[256];
            int read = await junk.GetStream().ReadAsync(buffer);
            Assert.StartsWith("HTTP/1.1 400", Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
        }

        using var http = new HttpClient();
        await http.GetAsync(new Uri(listener.RedirectUri, "?state=S&code=c2"));
        Assert.Equal("c2", await code);
    }
}
