namespace Ghostie.Sync.Handoff.Tests;

public sealed class PathRewriterTests
{
    private static readonly HandoffSource Linux = new() { DeviceId = "laptop", ProjectRoot = "/home/alice/src/app", HomeDirectory = "/home/alice", PathStyle = "posix" };
    private static readonly HandoffSource Windows = new() { DeviceId = "pc", ProjectRoot = @"C:\Users\Alice\source\app", HomeDirectory = @"C:\Users\Alice", PathStyle = "windows" };

    [Theory]
    [InlineData("/home/alice/src/app/src/Queue.cs", "/Users/alice/work/app/src/Queue.cs", true)]
    [InlineData("/home/alice/src/app", "/Users/alice/work/app", true)]
    [InlineData("/home/alice/.config/ghostie/config.json", "/Users/alice/.config/ghostie/config.json", true)]
    [InlineData("src/Queue.cs", "/Users/alice/work/app/src/Queue.cs", true)]
    [InlineData("./docs/offline.md", "/Users/alice/work/app/docs/offline.md", true)]
    [InlineData("/etc/hosts", "/etc/hosts", false)]
    [InlineData("/home/alice/src/application/x.cs", "/Users/alice/src/application/x.cs", true)] // a sibling folder is not under the project
    [InlineData("../../.ssh/id_rsa", "../../.ssh/id_rsa", false)]                                  // never joined onto the workspace
    [InlineData("/home/alice/src/app/../other/x.cs", "/home/alice/src/app/../other/x.cs", false)]  // climbs out of the project
    public void LinuxToMac_WithWorkspace(string from, string expected, bool mapped)
    {
        var rewriter = new PathRewriter(Linux, new HandoffResumeOptions { WorkspaceRoot = "/Users/alice/work/app", HomeDirectory = "/Users/alice", PathStyle = "posix" });
        Assert.Equal((expected, mapped), rewriter.Rewrite(from));
    }

    [Theory]
    [InlineData("/home/alice/src/app/src/Queue.cs", "src/Queue.cs", true)]
    [InlineData("src/Queue.cs", "src/Queue.cs", false)]
    [InlineData("/var/log/app.log", "/var/log/app.log", false)]
    public void ToAPhone_WithoutWorkspace_ProjectRelative(string from, string expected, bool mapped)
    {
        var rewriter = new PathRewriter(Linux, new HandoffResumeOptions { WorkspaceRoot = null, HomeDirectory = null, PathStyle = "posix" });
        Assert.Equal((expected, mapped), rewriter.Rewrite(from));
    }

    [Theory]
    [InlineData(@"C:\Users\Alice\source\app\src\Queue.cs", "/home/alice/app/src/Queue.cs")]
    [InlineData(@"c:\users\alice\SOURCE\app\src\Queue.cs", "/home/alice/app/src/Queue.cs")] // Windows compares case-insensitively
    [InlineData("C:/Users/Alice/source/app/README.md", "/home/alice/app/README.md")]
    [InlineData(@"C:\Users\Alice\Documents\notes.txt", "/home/alice/Documents/notes.txt")]
    public void WindowsToLinux(string from, string expected)
    {
        var rewriter = new PathRewriter(Windows, new HandoffResumeOptions { WorkspaceRoot = "/home/alice/app", HomeDirectory = "/home/alice", PathStyle = "posix" });
        Assert.Equal((expected, true), rewriter.Rewrite(from));
    }

    [Fact]
    public void LinuxToWindows_UsesBackslashes()
    {
        var rewriter = new PathRewriter(Linux, new HandoffResumeOptions { WorkspaceRoot = @"D:\code\app", HomeDirectory = @"C:\Users\alice", PathStyle = "windows" });
        Assert.Equal((@"D:\code\app\src\deep\File.cs", true), rewriter.Rewrite("/home/alice/src/app/src/deep/File.cs"));
        Assert.Equal((@"C:\Users\alice\.ssh\config", true), rewriter.Rewrite("/home/alice/.ssh/config"));
    }

    [Fact]
    public void ExplicitMappings_ComeFirst_LongestPrefixWins()
    {
        var options = new HandoffResumeOptions { WorkspaceRoot = "/w/app", HomeDirectory = "/h", PathStyle = "posix" };
        options.PathMappings["/home/alice/src/app/vendor"] = "/opt/vendor";
        options.PathMappings["/home/alice/src"] = "/srv/src";
        var rewriter = new PathRewriter(Linux, options);
        Assert.Equal(("/opt/vendor/lib/a.cs", true), rewriter.Rewrite("/home/alice/src/app/vendor/lib/a.cs"));
        Assert.Equal(("/srv/src/app/b.cs", true), rewriter.Rewrite("/home/alice/src/app/b.cs"));
        Assert.Equal(("/srv/src/other/c.cs", true), rewriter.Rewrite("/home/alice/src/other/c.cs"));
    }
}
