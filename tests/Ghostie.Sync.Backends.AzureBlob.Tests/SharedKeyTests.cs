using System.Net.Http.Headers;
using Ghostie.Sync.Backends.AzureBlob.Internal;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>Known answers for Shared Key signing: the strings to sign are written out by hand from the documented
/// layout, and the signatures were computed from them independently (Python hmac/hashlib with the Azurite key).</summary>
public sealed class SharedKeyTests
{
    private static readonly byte[] Key = Convert.FromBase64String(Servers.AzuriteKey);

    private static HttpRequestMessage Dated(HttpMethod method, string url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.TryAddWithoutValidation("x-ms-version", "2021-12-02");
        request.Headers.TryAddWithoutValidation("x-ms-date", "Sat, 21 Nov 2026 08:00:00 GMT");
        return request;
    }

    [Fact]
    public void PutBlock_PathStyle_WithIfMatchAndBody_SignsTheDocumentedString()
    {
        using HttpRequestMessage request = Dated(HttpMethod.Put,
            "http://127.0.0.1:10000/devstoreaccount1/mycontainer/p/a/b?comp=block&blockid=AAAA%2B%2F%3D%3D");
        request.Headers.TryAddWithoutValidation("If-Match", "\"0x8D\"");
        request.Content = new ByteArrayContent([1, 2, 3, 4, 5]);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");

        string expected = "PUT\n\n\n5\n\napplication/octet-stream\n\n\n\"0x8D\"\n\n\n\n"
            + "x-ms-date:Sat, 21 Nov 2026 08:00:00 GMT\nx-ms-version:2021-12-02\n"
            + "/devstoreaccount1/devstoreaccount1/mycontainer/p/a/b\nblockid:AAAA+/==\ncomp:block";
        string stringToSign = SharedKey.StringToSign(request, "devstoreaccount1");

        Assert.Equal(expected, stringToSign);
        Assert.Equal("/MQHX4FrnktXe+fPyAAj0ECRiEH8fqN//gXyUWgAH3A=", SharedKey.Sign(stringToSign, Key));
    }

    [Fact]
    public void ListBlobs_HostStyle_NoBody_SortsQueryAndLeavesLengthEmpty()
    {
        using HttpRequestMessage request = Dated(HttpMethod.Get,
            "https://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=list&prefix=l%2Fa%2F&marker=2%2196%21MDAwMDI%3D&maxresults=2");

        string expected = "GET\n\n\n\n\n\n\n\n\n\n\n\n"
            + "x-ms-date:Sat, 21 Nov 2026 08:00:00 GMT\nx-ms-version:2021-12-02\n"
            + "/myaccount/mycontainer\ncomp:list\nmarker:2!96!MDAwMDI=\nmaxresults:2\nprefix:l/a/\nrestype:container";
        string stringToSign = SharedKey.StringToSign(request, "myaccount");

        Assert.Equal(expected, stringToSign);
        Assert.Equal("8usBEC5zv+yaKOKP6J+Tem+BqHazzPDs1FZezGwPcAY=", SharedKey.Sign(stringToSign, Key));
    }

    [Fact]
    public void Authorize_SetsSharedKeyHeader_AndAnEmptyBodyIsSignedWithoutLength()
    {
        using HttpRequestMessage request = Dated(HttpMethod.Put, "http://127.0.0.1:10000/devstoreaccount1/c1/x");
        request.Content = new ByteArrayContent([]);
        SharedKey.Authorize(request, "devstoreaccount1", Key);

        string header = string.Join(",", request.Headers.GetValues("Authorization"));
        string signature = SharedKey.Sign(SharedKey.StringToSign(request, "devstoreaccount1"), Key);
        Assert.Equal("SharedKey devstoreaccount1:" + signature, header);
        Assert.StartsWith("PUT\n\n\n\n", SharedKey.StringToSign(request, "devstoreaccount1"), StringComparison.Ordinal);
    }

    [Fact]
    public void BlockIds_HaveOneLength_AndDiffer()
    {
        byte[] nonce = new byte[14];
        string[] ids = [.. new[] { 0, 1, 255, 65_536, int.MaxValue }.Select(i => Ghostie.Sync.Backends.AzureBlob.AzureBlobBackend.BlockId(nonce, i))];
        Assert.All(ids, id => Assert.Equal(24, id.Length));
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }
}
