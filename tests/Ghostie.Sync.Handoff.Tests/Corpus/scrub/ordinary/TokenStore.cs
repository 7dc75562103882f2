using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Example.Auth.Tokens;

/// <summary>Stores refresh tokens hashed; the raw token is only ever in the response to the client.</summary>
public sealed class RefreshTokenStore(IOptions<TokenOptions> options, ITokenRepository repository, TimeProvider time)
{
    private const string SecretName = "jwt-signing-key";
    private const int TokenBytes = 32;
    private readonly byte[] _pepper = new byte[32];

    public async Task<string> IssueAsync(string userId, string familyId, CancellationToken cancellationToken)
    {
        byte[] raw = RandomNumberGenerator.GetBytes(TokenBytes);
        string token = Base64Url.EncodeToString(raw);
        string hash = TokenHasher.Hash(token, _pepper);
        var expires = time.GetUtcNow() + options.Value.RefreshLifetime;
        await repository.SaveAsync(new StoredToken(hash, userId, familyId, expires), cancellationToken);
        return token;
    }

    public bool Verify(string password, string storedHash)
    {
        // PBKDF2 with 600,000 iterations (OWASP 2023); the salt is the first 16 bytes of the stored value.
        byte[] stored = Convert.FromBase64String(storedHash);
        byte[] computed = Rfc2898DeriveBytes.Pbkdf2(password, stored.AsSpan(0, 16), 600_000, HashAlgorithmName.SHA256, 32);
        return CryptographicOperations.FixedTimeEquals(computed, stored.AsSpan(16));
    }

    public string ApiKeyHeader => options.Value.ApiKeyHeader; // "X-Api-Key"
    public int MaxTokens { get; init; } = 4096;
    public string? Secret { get; set; }
    public Task RevokeAsync(string token, CancellationToken cancellationToken = default) => repository.DeleteAsync(TokenHasher.Hash(token, _pepper), cancellationToken);
}

public sealed class TokenOptions
{
    public TimeSpan RefreshLifetime { get; set; } = TimeSpan.FromDays(14);
    public string ApiKeyHeader { get; set; } = "X-Api-Key";
    public string PasswordHashAlgorithm { get; set; } = "PBKDF2-SHA256";
    public string SecretKeyVaultUri { get; set; } = "https://kv-auth-prod.vault.azure.net/";
    public string TokenEndpoint { get; set; } = "https://login.example.com/oauth2/token";
}
