namespace Ghostie.Sync.Crypto.Internal;

/// <summary>The HKDF "info" labels (format v1, plus the v2 session label). Spelled out in docs/format.md; changing one breaks every repository.</summary>
internal static class Labels
{
    public static ReadOnlySpan<byte> DataAesGcm => "ghostie/v1/data/aes-256-gcm"u8;
    public static ReadOnlySpan<byte> DataChaCha => "ghostie/v1/data/chacha20-poly1305"u8;
    public static ReadOnlySpan<byte> Object => "ghostie/v1/object"u8;
    public static ReadOnlySpan<byte> Session => "ghostie/v2/session"u8;
    public static ReadOnlySpan<byte> Names => "ghostie/v1/names/hmac-sha256"u8;
    public static ReadOnlySpan<byte> KeyFileWrap => "ghostie/v1/keyfile/wrap"u8;
    public static ReadOnlySpan<byte> KeyFileCheck => "ghostie/v1/keyfile/check"u8;
}
