namespace SppFunctions.Infra.Tests.Infrastructure;

/// <summary>
/// What the Flex Consumption plan deprecates: the table "Flex Consumption plan deprecations" of the Azure Functions app
/// settings reference, copied here on purpose (the template's guard in infra/app/flex.bicep has its own copy, so a
/// mistake in one is caught by the other).
/// </summary>
public static class FlexConsumption
{
    /// <summary>App settings Flex Consumption deprecates (the runtime, scale and deployment live in functionAppConfig).</summary>
    public static readonly string[] DeprecatedAppSettings =
    [
        "ENABLE_ORYX_BUILD", "FUNCTIONS_EXTENSION_VERSION", "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_WORKER_RUNTIME_VERSION",
        "FUNCTIONS_MAX_HTTP_CONCURRENCY", "FUNCTIONS_WORKER_PROCESS_COUNT", "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
        "SCM_DO_BUILD_DURING_DEPLOYMENT", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_CONTENTOVERVNET",
        "WEBSITE_CONTENTSHARE", "WEBSITE_DNS_SERVER", "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT", "WEBSITE_NODE_DEFAULT_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_SKIP_CONTENTSHARE_VALIDATION", "WEBSITE_VNET_ROUTE_ALL",
    ];

    /// <summary>
    /// Settings this deployment refuses besides: the shared-key storage connection (the app uses its identity) and the
    /// instrumentation key (telemetry is Entra-only).
    /// </summary>
    public static readonly string[] RefusedAppSettings = ["AzureWebJobsStorage", "APPINSIGHTS_INSTRUMENTATIONKEY"];

    /// <summary>Every app setting the template must never write, and the guard must refuse in appSettingOverrides.</summary>
    public static IEnumerable<string> ForbiddenAppSettings => DeprecatedAppSettings.Concat(RefusedAppSettings);

    /// <summary>Whether a setting name is forbidden, including any WEBSITE_CONTENT* setting (case-insensitive).</summary>
    public static bool IsForbiddenAppSetting(string name) =>
        ForbiddenAppSettings.Contains(name, StringComparer.OrdinalIgnoreCase)
        || name.StartsWith("WEBSITE_CONTENT", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Site properties Flex Consumption deprecates, by their ARM names: in <c>properties</c> or <c>properties.siteConfig</c>
    /// of a site (the table's <c>properties.isReserved</c> is the site's <c>reserved</c>). ARM refuses some of them
    /// outright in some regions ("… Site.SiteConfig.FtpsState … for Flex Consumption sites is invalid").
    /// </summary>
    public static readonly string[] DeprecatedSiteProperties =
    [
        "alwaysOn", "containerSize", "dnsConfiguration", "ftpsState", "isReserved", "reserved", "isXenon", "javaVersion",
        "linuxFxVersion", "netFrameworkVersion", "powerShellVersion", "functionAppScaleLimit", "preWarmedInstanceCount",
        "use32BitWorkerProcess", "vnetBackupRestoreEnabled", "vnetContentShareEnabled", "vnetImagePullEnabled",
        "vnetRouteAllEnabled", "windowsFxVersion",
    ];

    /// <summary>The siteConfig properties the template may set on a Flex Consumption site.</summary>
    public static readonly string[] SupportedSiteConfig = ["appSettings", "minTlsVersion"];
}
