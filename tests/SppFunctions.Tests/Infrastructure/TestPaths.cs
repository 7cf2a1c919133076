using System.Reflection;

namespace SppFunctions.Tests.Infrastructure;

/// <summary>Where the repository and the Functions app's build output are (written into the test assembly at build time).</summary>
public static class TestPaths
{
    public static string RepositoryRoot => Metadata("RepositoryRoot");

    public static string FunctionsOutputDirectory => Metadata("FunctionsOutputDirectory");

    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
