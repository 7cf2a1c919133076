using Microsoft.Extensions.Options;

namespace SppFunctions.Intake;

/// <summary>Webhook intake limits (<c>Webhooks__MaxBodyBytes</c>).</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhooks";

    /// <summary>Largest body accepted; larger ones get 413 without being read in full.</summary>
    public long MaxBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>The tokens SPP puts in webhook bodies (<c>Spp__WebhookTokens__0</c>, <c>__1</c>, ...): one per SPP webhook, and old+new during
/// rotation.</summary>
public sealed class SppWebhookTokenOptions
{
    public const string SectionName = "Spp";

    public List<string> WebhookTokens { get; set; } = new();
}

internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>, IValidateOptions<SppWebhookTokenOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var failures = new List<string>();
        if (options.MaxBodyBytes is < 1024 or > 100 * 1024 * 1024) failures.Add("Webhooks__MaxBodyBytes must be between 1024 and 104857600 bytes.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public ValidateOptionsResult Validate(string? name, SppWebhookTokenOptions options)
    {
        var tokens = options.WebhookTokens;
        if (tokens.Count == 0 || tokens.All(string.IsNullOrWhiteSpace))
        {
            return ValidateOptionsResult.Fail("Spp__WebhookTokens__0 is required: set it to the token SPP shows for your webhook (Modules → "
                + "Webhooks). Add Spp__WebhookTokens__1, ... for more webhooks or while rotating.");
        }
        for (var i = 0; i < tokens.Count; i++)
        {
            if (Spp.Client.DependencyInjection.SppClientOptionsValidator.IsPlaceholder(tokens[i]))
            {
                return ValidateOptionsResult.Fail($"Spp__WebhookTokens__{i} still holds the sample's placeholder: set it to the token SPP shows "
                    + $"for your webhook (Modules → Webhooks); anyone could read the placeholder.");
            }
            if (tokens[i] is { } t && t.Length > 0 && t.Trim() != t)
            {
                return ValidateOptionsResult.Fail($"Spp__WebhookTokens__{i} has leading or trailing whitespace.");
            }
        }
        return ValidateOptionsResult.Success;
    }
}
