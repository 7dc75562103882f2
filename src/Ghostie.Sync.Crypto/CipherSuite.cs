namespace Ghostie.Sync.Crypto;

/// <summary>The AEAD cipher an object is sealed with. The numeric value is the byte stored in the envelope header.</summary>
public enum CipherSuite : byte
{
    /// <summary>AES-256-GCM, 96-bit nonce, 128-bit tag. Used for records, heads, handoff packages and key material.</summary>
    Aes256Gcm = 1,

    /// <summary>ChaCha20-Poly1305 (RFC 8439), 96-bit nonce, 128-bit tag. Used for vector data.</summary>
    ChaCha20Poly1305 = 2,
}
