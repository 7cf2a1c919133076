// What the Flex Consumption plan allows, as functions the other modules call: the user's app setting overrides checked
// against the settings Flex Consumption deprecates, and a valid name for the deployment package container.
// Reference: "Flex Consumption plan deprecations" in the Azure Functions app settings reference.

// Refused: a setting Flex Consumption deprecates (the runtime and deployment come from functionAppConfig), any
// WEBSITE_CONTENT* setting, and storage connection strings or keys (the app uses its identity; shared keys are off).
@export()
@description('The overrides unchanged, or a failed deployment naming each one Flex Consumption does not take (never its value).')
func checkedAppSettingOverrides(overrides object) object =>
  empty(rejectedOverrides(overrides))
    ? overrides
    : fail(format(
        'appSettingOverrides cannot set {0}: {1} {2}',
        join(rejectedOverrides(overrides), ', '),
        'Flex Consumption takes the runtime, version, scale and deployment from functionAppConfig,',
        'and storage is reached with the managed identity (see infra/README.md).'
      ))

func rejectedOverrides(overrides object) array =>
  map(filter(items(overrides), setting => isRejectedOverride(setting.key, string(setting.value))), setting => setting.key)

func isRejectedOverride(name string, value string) bool =>
  contains(
    [
      'ENABLE_ORYX_BUILD'
      'FUNCTIONS_EXTENSION_VERSION'
      'FUNCTIONS_WORKER_RUNTIME'
      'FUNCTIONS_WORKER_RUNTIME_VERSION'
      'FUNCTIONS_MAX_HTTP_CONCURRENCY'
      'FUNCTIONS_WORKER_PROCESS_COUNT'
      'FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED'
      'SCM_DO_BUILD_DURING_DEPLOYMENT'
      'WEBSITE_DNS_SERVER'
      'WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT'
      'WEBSITE_NODE_DEFAULT_VERSION'
      'WEBSITE_RUN_FROM_PACKAGE'
      'WEBSITE_SKIP_CONTENTSHARE_VALIDATION'
      'WEBSITE_VNET_ROUTE_ALL'
      'AZUREWEBJOBSSTORAGE'
      'APPINSIGHTS_INSTRUMENTATIONKEY'
    ],
    toUpper(name)
  ) || startsWith(toUpper(name), 'WEBSITE_CONTENT') || contains(toUpper(value), 'ACCOUNTKEY=')

@export()
// app-package-<first 32 characters of the app name>-<7 of the suffix>: at most 63 characters.
@description('Name of the deployment package container: lower case, single hyphens, none at either end.')
func deploymentContainerName(appName string, suffix string) string =>
  'app-package-${trimHyphens(collapseHyphens(toLower(take(appName, 32))))}-${toLower(take(suffix, 7))}'

// Five halvings turn a run of up to 32 hyphens (the most a 32-character name holds) into one.
func collapseHyphens(name string) string =>
  replace(replace(replace(replace(replace(name, '--', '-'), '--', '-'), '--', '-'), '--', '-'), '--', '-')

// After collapseHyphens at most one hyphen is left at either end.
func trimHyphens(name string) string => withoutTrailingHyphen(startsWith(name, '-') ? skip(name, 1) : name)

func withoutTrailingHyphen(name string) string => endsWith(name, '-') ? take(name, length(name) - 1) : name
