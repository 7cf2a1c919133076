using System.Reflection;
using System.Xml.Linq;

namespace SppFunctions.Infra.Tests.Infrastructure;

/// <summary>Where the repository, the Functions app's build output and the Bicep CLI are (written in at build time).</summary>
public static class TestPaths
{
    private const string BicepPackage = "Azure.Bicep.CommandLine.linux-x64";

    public static string RepositoryRoot => Metadata("RepositoryRoot");

    public static string InfraDirectory => Path.Combine(RepositoryRoot, "infra");

    public static string FunctionsOutputDirectory => Metadata("FunctionsOutputDirectory");

    /// <summary>The pinned version: the PackageVersion of the Bicep CLI in Directory.Packages.props.</summary>
    public static string BicepVersion
    {
        get
        {
            var props = XDocument.Load(Path.Combine(RepositoryRoot, "Directory.Packages.props"));
            var item = props.Descendants("PackageVersion").SingleOrDefault(e => (string?)e.Attribute("Include") == BicepPackage)
                ?? throw new InvalidOperationException($"Directory.Packages.props has no PackageVersion for {BicepPackage}.");
            return (string)item.Attribute("Version")!;
        }
    }

    /// <summary>The bicep binary inside the package the test project downloads at restore (PackageDownload).</summary>
    public static string BicepCli => Path.Combine(
        Metadata("NuGetPackageRoot"), BicepPackage.ToLowerInvariant(), BicepVersion, "tools", "bicep");

    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"Assembly metadata {key} is empty.");
}
