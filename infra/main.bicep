// SppFunctions in Azure: a resource group with the Function App (Flex Consumption), its storage, Key Vault,
// monitoring and one user-assigned managed identity. Deploy with `azd up`, or see infra/README.md.
targetScope = 'subscription'

import { queueNames, tableNames, payloadContainerName, webhookTopics, webhookRoute, maxWebhookTokens, webhookTokenList } from 'app/contract.bicep'
import { deploymentContainerName } from 'app/flex.bicep'

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd env name); with the subscription and location it makes resource names unique.')
param environmentName string

@minLength(1)
@description('Region of every resource. It must offer the Flex Consumption plan.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Resource group to create or reuse; default rg-<environmentName>.')
param resourceGroupName string = ''

@description('Function app name; default func-<token>.')
param functionAppName string = ''

@description('Memory of each instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

// Flex Consumption applies this per function group (the HTTP functions together, each queue function on its own), so
// the SPP calls in flight reach maximumInstanceCount × the per-instance concurrency for each group that calls SPP.
// 1–1000 is the documented range; a region that still refuses low values (below 40 was region-limited in preview)
// fails the deployment, and infra/README.md says what to do then.
@description('Most instances each function group scales out to (1–1000). Keeps the calls to your SPP workspace bounded: see infra/README.md.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 4

// Each always-ready instance is billed all the time, idle or not: see infra/README.md.
@description('Instances kept running for the HTTP functions, so a webhook after a quiet spell meets no cold start; 0: none.')
@minValue(0)
@maxValue(10)
param httpAlwaysReadyInstances int = 0

@description('SPP API root of your workspace, e.g. https://acme.spp.co/api/ (Spp__BaseUrl).')
param sppBaseUrl string

@secure()
@description('SPP API key (SPP admin → Modules → API → Settings). Stored in Key Vault as spp-api-key.')
param sppApiKey string

@secure()
@description('Webhook token SPP sends; stored in Key Vault as spp-webhook-token-0 (Spp__WebhookTokens__0).')
param sppWebhookToken string

@secure()
@description('Second accepted webhook token: a second SPP webhook, or the new token while rotating (Spp__WebhookTokens__1); empty: the first token again.')
param sppWebhookTokenSecondary string = ''

@secure()
@description('Further accepted webhook tokens, comma-separated, e.g. one per further SPP webhook: spp-webhook-token-2, -3, ... (Spp__WebhookTokens__2, __3, ...). Empty for none.')
param sppWebhookTokensAdditional string = ''

@description('Overrides of optional app settings, as name → string value, e.g. {"Spp__Retry__MaxRetries": "5"}.')
param appSettingOverrides object = {}

@description('Principal id of the deploying user or service principal, given data roles on storage for debugging; empty for none.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
@description('Kind of principalId.')
param principalType string = 'User'

// Off by default: the app needs only its own read access.
@description('Give principalId Key Vault Secrets Officer on the vault, to create, disable or read secrets by hand.')
param deployerKeyVaultSecretsOfficer bool = false

@description('Enable Key Vault purge protection (recommended in production; a purge-protected vault cannot be purged for 7 days after deletion).')
param keyVaultPurgeProtection bool = false

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var appName = !empty(functionAppName) ? functionAppName : 'func-${resourceToken}'
// Every accepted webhook token by setting index (Spp__WebhookTokens__N); more than the template has room for fail the
// deployment, naming the limit.
var webhookTokens = webhookTokenList(sppWebhookToken, sppWebhookTokenSecondary, sppWebhookTokensAdditional, maxWebhookTokens)
var packageContainerName = deploymentContainerName(appName, uniqueString(appName, resourceToken))

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    containers: [packageContainerName, payloadContainerName]
    queues: queueNames
    tables: tableNames
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    enablePurgeProtection: keyVaultPurgeProtection
    sppApiKey: sppApiKey
    webhookTokens: { tokens: webhookTokens }
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    identityPrincipalId: identity.outputs.principalId
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
    deployerKeyVaultSecretsOfficer: deployerKeyVaultSecretsOfficer
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: appName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: packageContainerName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    keyVaultName: keyVault.outputs.name
    secretVersions: keyVault.outputs.secretVersions
    webhookTokenVersions: keyVault.outputs.webhookTokenVersions
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    httpAlwaysReadyInstances: httpAlwaysReadyInstances
    sppBaseUrl: sppBaseUrl
    appSettingOverrides: appSettingOverrides
  }
  // Roles first, so the app starts with access to storage, Key Vault and Application Insights.
  dependsOn: [rbac]
}

var webhookBaseUrl = 'https://${api.outputs.defaultHostName}/${webhookRoute}'

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output AZURE_FUNCTION_APP_HOST_NAME string = api.outputs.defaultHostName
@description('Webhook URL for every event (no function key: append ?code=<key>, see infra/README.md).')
output SPP_WEBHOOK_URL string = webhookBaseUrl
@description('Webhook URL per SPP topic (no function key).')
output SPP_WEBHOOK_URLS object = toObject(webhookTopics, topic => topic, topic => '${webhookBaseUrl}/${topic}')
