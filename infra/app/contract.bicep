// Names the app's code uses (queues, tables, containers, routes) and the Key Vault secret names the app settings
// refer to. One place, imported by the modules; keep it in step with src/ and tests/SppFunctions.Infra.Tests.

@export()
@description('Queues of the app: events, commands and their poison queues.')
var queueNames = ['spp-events', 'spp-events-poison', 'spp-commands', 'spp-commands-poison']

@export()
@description('Tables of the app: event log, webhook dedupe, action idempotency, watched orders + poll cursors, poller runs.')
var tableNames = ['SppEvents', 'SppDedupe', 'SppActions', 'SppWatch', 'SppPollRuns']

@export()
@description('Blob container of claim-check payloads (large webhook bodies).')
var payloadContainerName = 'spp-payloads'

@export()
@description('SPP webhook topics, each with its own route /api/webhooks/spp/{topic}.')
var webhookTopics = ['orders', 'forms', 'accounts', 'invoices', 'messages', 'subscriptions', 'tickets']

@export()
@description('Route of the webhook function for every event (host routePrefix "api").')
var webhookRoute = 'api/webhooks/spp'

@export()
@description('Key Vault secret names: the SPP API key and the accepted webhook tokens (index = Spp__WebhookTokens__N).')
var secretNames = {
  apiKey: 'spp-api-key'
  webhookTokens: ['spp-webhook-token-0', 'spp-webhook-token-1']
}
