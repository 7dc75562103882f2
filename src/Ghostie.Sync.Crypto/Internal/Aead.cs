using System.Security.Cryptography;

namespace Ghostie.Sync.Crypto.Internal;

/// <summary>One AEAD instance keyed for one object: AES-256-GCM or ChaCha20-Poly1305 behind one shape.</summary>
internal sealed class Aead : IDisposable
{
    private readonly AesGcm? _aes;
    private readonly ChaCha20Poly1305? _chacha;

    public Aead(CipherSuite suite, ReadOnlySpan<byte> key)
    {
        switch (suite)
        {
            case CipherSuite.Aes256Gcm:
                _aes = new AesGcm(key, EnvelopeFormat.TagSize);
                break;
            case CipherSuite.ChaCha20Poly1305:
                _chacha = new ChaCha20Poly1305(key);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(suite));
        }
    }

    public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        if (_aes is not null)
        {
            _aes.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        }
        else
        {
            _chacha!.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        }
    }

    /// <exception cref="AuthenticationTagMismatchException">The chunk is not authentic.</exception>
    public void Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        if (_aes is not null)
        {
            _aes.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
        }
        else
        {
            _chacha!.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
        }
    }

    public void Dispose()
    {
        _aes?.Dispose();
        _chacha?.Dispose();
    }
}
