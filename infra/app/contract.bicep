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
@description('Key Vault secret name of the SPP API key (Spp__ApiKey).')
var secretNames = {
  apiKey: 'spp-api-key'
}

@export()
@description('Most webhook tokens one deployment stores: Spp__WebhookTokens__0 to __19.')
var maxWebhookTokens = 20

@export()
@description('Key Vault secret name of webhook token N, the value of app setting Spp__WebhookTokens__N.')
func webhookTokenSecretName(index int) string => 'spp-webhook-token-${index}'

@export()
@description('The accepted webhook tokens by setting index: the first, the second (the first again when empty, so Spp__WebhookTokens__1 always resolves during a rotation), then the comma-separated further ones, trimmed, empty items dropped. More than limit fail the deployment.')
func webhookTokenList(first string, second string, further string, limit int) array =>
  atMost(concat([first, empty(second) ? first : second], filter(map(split(further, ','), token => trim(token)), token => !empty(token))), limit)

func atMost(tokens array, limit int) array =>
  length(tokens) <= limit
    ? tokens
    : fail('At most ${limit} webhook tokens fit (sppWebhookToken, sppWebhookTokenSecondary and sppWebhookTokensAdditional together); got ${length(tokens)}.')
