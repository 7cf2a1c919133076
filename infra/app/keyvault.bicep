// Key Vault in RBAC mode holding the app's secrets. The app reads them through Key Vault references in its app
// settings, resolved with the user-assigned identity (Key Vault Secrets User). Secrets come in as secure
// parameters and are never outputs.
import { secretNames } from 'contract.bicep'

param name string
param location string = resourceGroup().location
param tags object = {}

@description('Purge protection: a deleted vault and its secrets cannot be purged during the retention period.')
param enablePurgeProtection bool = false

@secure()
@description('SPP API key.')
param sppApiKey string

@secure()
@description('Webhook token SPP sends.')
param sppWebhookToken string

@secure()
@description('Second accepted webhook token (rotation); empty: the second secret holds the first token again.')
param sppWebhookTokenSecondary string = ''

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

resource webhookTokenSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: secretNames.webhookTokens[0]
  properties: {
    value: sppWebhookToken
    contentType: 'text/plain'
  }
}

// Always present, so Spp__WebhookTokens__1 always resolves: a Key Vault reference to a missing secret would leave the
// reference text itself as the setting's value.
resource webhookTokenSecondarySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: secretNames.webhookTokens[1]
  properties: {
    value: empty(sppWebhookTokenSecondary) ? sppWebhookToken : sppWebhookTokenSecondary
    contentType: 'text/plain'
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri

@description('Current version of each secret, by name (not secret): app settings refer to these exact versions.')
output secretVersions object = {
  '${apiKeySecret.name}': last(split(apiKeySecret.properties.secretUriWithVersion, '/'))
  '${webhookTokenSecret.name}': last(split(webhookTokenSecret.properties.secretUriWithVersion, '/'))
  '${webhookTokenSecondarySecret.name}': last(split(webhookTokenSecondarySecret.properties.secretUriWithVersion, '/'))
}
