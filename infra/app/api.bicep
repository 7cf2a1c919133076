// The Function App: Linux, Flex Consumption (FC1), dotnet-isolated 10.0, deployed from a blob container, running
// as the user-assigned identity. Its app settings are the contract with the code (see the map below).
import { secretNames, webhookTokenSecretName } from 'contract.bicep'
import { checkedAppSettingOverrides } from 'flex.bicep'

param name string
param planName string
param location string = resourceGroup().location
param tags object = {}

@description('azd service name; azd finds the app by this tag.')
param serviceName string = 'api'

param identityResourceId string
param identityClientId string

param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string

@description('Blob container the Flex Consumption platform deploys the app package from.')
param deploymentContainerName string

param applicationInsightsConnectionString string
param keyVaultName string

@description('Version of the Key Vault secrets other than the webhook tokens (the API key), by name. Versioned references make every deployment apply changed secrets at once (unversioned ones are re-read only every 24 hours).')
param secretVersions object

@description('Version of the Key Vault secret of webhook token N at index N (Spp__WebhookTokens__N); empty entries have no token.')
param webhookTokenVersions array

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most instances each function group scales out to (Flex Consumption applies it per group).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 4

@description('Always-ready instances of the HTTP function group; 0 for none.')
@minValue(0)
@maxValue(10)
param httpAlwaysReadyInstances int = 0

@description('SPP API root, e.g. https://acme.spp.co/api/.')
param sppBaseUrl string

@description('Overrides of the optional settings below, as setting name → string value.')
param appSettingOverrides object = {}

// ─── Optional settings, set to the code's defaults ────────────────────────────────────────────────────────────
// One line per setting the code binds with a default (options classes in src/, `Section__Property`). Keep the
// values equal to the defaults in code: tests/SppFunctions.Infra.Tests checks both the names and the values.
// Change a value for one deployment with the appSettingOverrides parameter, not here.
var optionalAppSettings = {
  Spp__ApiVersion: '2024-03-05'
  Spp__AttemptTimeout: '00:00:30'
  Spp__MaxConcurrentRequests: '4'
  Spp__Retry__MaxRetries: '3'
  Spp__Retry__BaseDelay: '00:00:00.5'
  Spp__Retry__MaxDelay: '00:00:10'
  Spp__Retry__MaxRetryAfter: '00:00:30'
  Spp__CircuitBreaker__FailureRatio: '0.5'
  Spp__CircuitBreaker__SamplingDuration: '00:00:30'
  Spp__CircuitBreaker__MinimumThroughput: '10'
  Spp__CircuitBreaker__BreakDuration: '00:00:15'
  Webhooks__MaxBodyBytes: '1048576'
  Rules__Path: 'rules.json'
  Processing__ActionLease: '00:02:00'
  Processing__MarkMessages: 'true'
  Processing__MaxStepOutputBytes: '1048576'
  Processing__MaxForEachItems: '100'
  Forward__Timeout: '00:00:30'
  Retries__MaxDelay: '01:00:00'
  Retries__GiveUpAfter: '1.00:00:00'
  Polling__Schedule: '0 */1 * * * *'
  Polling__Enabled: 'true'
  Polling__Baseline: 'true'
  Polling__Bootstrap: 'false'
  Polling__SkipStaffOnly: 'false'
  Polling__SkipOwnMessages: 'true'
  Polling__MaxParallelism: '4'
  Polling__PageSize: '50'
  Polling__SweepInterval: '01:00:00'
  Housekeeping__Schedule: '0 30 3 * * *'
  Housekeeping__Enabled: 'true'
  Housekeeping__PollRunRetention: '7.00:00:00'
  Housekeeping__EventRetention: '30.00:00:00'
  Housekeeping__FailedEventRetention: '90.00:00:00'
  Housekeeping__MaxDeletesPerRun: '20000'
  Housekeeping__MaxRunTime: '00:05:00'
}

// ─── Required settings: from parameters, secrets as Key Vault references ──────────────────────────────────────
var requiredAppSettings = union(
  {
    Spp__BaseUrl: sppBaseUrl
    Spp__ApiKey: keyVaultReference(keyVaultName, secretNames.apiKey, secretVersions[secretNames.apiKey])
  },
  // One setting per webhook token the vault holds, however many.
  toObject(
    filter(range(0, length(webhookTokenVersions)), i => !empty(webhookTokenVersions[i])),
    i => 'Spp__WebhookTokens__${i}',
    i => keyVaultReference(keyVaultName, webhookTokenSecretName(i), webhookTokenVersions[i])
  )
)

// ─── Host and platform settings: identity-based storage and Entra-authenticated Application Insights ─────────
// Flex Consumption takes the runtime from functionAppConfig: FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION
// and the WEBSITE_* deployment settings must not be set.
var hostAppSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// Later maps win: overrides cannot replace required or host settings. Settings Flex Consumption does not take fail
// the deployment, naming them.
var appSettings = union(optionalAppSettings, checkedAppSettingOverrides(appSettingOverrides), requiredAppSettings, hostAppSettings)

// Always-ready instances count towards the group's instances.
var httpAlwaysReady = httpAlwaysReadyInstances <= maximumInstanceCount
  ? httpAlwaysReadyInstances
  : fail('httpAlwaysReadyInstances (${httpAlwaysReadyInstances}) cannot exceed maximumInstanceCount (${maximumInstanceCount}).')

// A Key Vault reference, resolved by the platform with keyVaultReferenceIdentity.
func keyVaultReference(vaultName string, secretName string, version string) string =>
  '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${secretName};SecretVersion=${version})'

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityResourceId
    // Only what Flex Consumption supports: it refuses deprecated site properties such as ftpsState in some regions
    // (FTP is off anyway: no basic publishing credentials, below).
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [for setting in items(appSettings): { name: setting.key, value: setting.value }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        // An empty list (not a missing one) so a deployment with 0 removes instances an earlier one kept ready.
        alwaysReady: httpAlwaysReady > 0 ? [{ name: 'http', instanceCount: httpAlwaysReady }] : []
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

// No basic (publishing profile) credentials: deployments authenticate with Entra ID.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
