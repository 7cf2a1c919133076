using System.Runtime.Versioning;

// The infra tests run the pinned linux-x64 Bicep CLI and shell scripts: they run on Linux only.
[assembly: SupportedOSPlatform("linux")]
