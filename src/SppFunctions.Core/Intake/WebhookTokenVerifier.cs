using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace SppFunctions.Intake;

/// <summary>
/// Checks the <c>token</c> of a webhook body against every configured token in constant time: both sides are hashed
/// to 32 bytes and compared with <see cref="CryptographicOperations.FixedTimeEquals"/>, and every token is compared,
/// so neither the position of a mismatch, nor the token's length, nor which token matched shows in the timing.
/// </summary>
public sealed class WebhookTokenVerifier
{
    private readonly byte[][] _hashes;

    public WebhookTokenVerifier(IOptions<SppWebhookTokenOptions> options)
    {
        _hashes = options.Value.WebhookTokens.Where(t => !string.IsNullOrEmpty(t)).Select(Hash).ToArray();
    }

    public bool IsValid(string? token)
    {
        if (token is null) return false;
        var candidate = Hash(token);
        var match = false;
        foreach (var hash in _hashes) match |= CryptographicOperations.FixedTimeEquals(candidate, hash);
        return match;
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
