// Key Vault in RBAC mode holding the app's secrets. The app reads them through Key Vault references in its app
// settings, resolved with the user-assigned identity (Key Vault Secrets User). Secrets come in as secure
// parameters and are never outputs.
import { secretNames, maxWebhookTokens, webhookTokenSecretName } from 'contract.bicep'

param name string
param location string = resourceGroup().location
param tags object = {}

@description('Purge protection: a deleted vault and its secrets cannot be purged during the retention period.')
param enablePurgeProtection bool = false

@secure()
@description('SPP API key.')
param sppApiKey string

@secure()
@description('The accepted webhook tokens by setting index, as { tokens: [...] } (at least two: see webhookTokenList in contract.bicep).')
param webhookTokens object

var tokens = webhookTokens.tokens

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource apiKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: secretNames.apiKey
  properties: {
    value: sppApiKey
    contentType: 'text/plain'
  }
}

// Tokens 0 and 1 always exist, so Spp__WebhookTokens__0 and __1 always resolve: a Key Vault reference to a missing
// secret would leave the reference text itself as the setting's value.
resource webhookTokenSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: webhookTokenSecretName(0)
  properties: {
    value: tokens[0]
    contentType: 'text/plain'
  }
}

resource webhookTokenSecondarySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: webhookTokenSecretName(1)
  properties: {
    value: tokens[1]
    contentType: 'text/plain'
  }
}

// Tokens 2, 3, ...: one secret each, as many as given. The slots are fixed because a copy count cannot depend on a
// secure value in an offline evaluation of the template (the tests' bicep snapshot); the condition decides at deployment.
resource moreWebhookTokenSecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [for i in range(2, maxWebhookTokens - 2): if (i < length(tokens)) {
  parent: vault
  name: webhookTokenSecretName(i)
  properties: {
    value: i < length(tokens) ? tokens[i] : ''
    contentType: 'text/plain'
  }
}]

output name string = vault.name
output uri string = vault.properties.vaultUri

@description('Current version of the API key secret, by name (not secret): app settings refer to these exact versions.')
output secretVersions object = {
  '${apiKeySecret.name}': last(split(apiKeySecret.properties.secretUriWithVersion, '/'))
}

@description('Version of the secret of webhook token N at index N (Spp__WebhookTokens__N); empty past the last token: versions, not secrets.')
output webhookTokenVersions array = [for i in range(0, maxWebhookTokens): i == 0
  ? last(split(webhookTokenSecret.properties.secretUriWithVersion, '/'))
  : i == 1
      ? last(split(webhookTokenSecondarySecret.properties.secretUriWithVersion, '/'))
      : i < length(tokens) ? last(split(moreWebhookTokenSecrets[i - 2]!.properties.secretUriWithVersion, '/')) : '']
