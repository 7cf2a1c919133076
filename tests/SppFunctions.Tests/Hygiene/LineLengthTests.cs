using System.Text;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Hygiene;

/// <summary>Code hygiene (issue 13): no line of C# in src/ or tests/ is longer than 150 characters.</summary>
public class LineLengthTests
{
    private const int MaxLength = 150;

    [Fact]
    public void No_line_of_CSharp_is_longer_than_150_characters()
    {
        var root = TestPaths.RepositoryRoot;
        var files = SourceFiles(root).ToList();
        Assert.True(files.Count > 100, $"too few C# files found under {root}: {files.Count}");

        var tooLong = new List<string>();
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(file, Encoding.UTF8);
            for (var i = 0; i < lines.Length; i++)
            {
                // Characters as a reader counts them: a non-ASCII character such as '→' is one, not its UTF-8 bytes.
                var length = lines[i].EnumerateRunes().Count();
                if (length > MaxLength) tooLong.Add($"{Relative(root, file)}:{i + 1} ({length} characters)");
            }
        }

        Assert.True(tooLong.Count == 0,
            $"{tooLong.Count} line(s) longer than {MaxLength} characters; wrap them:\n{string.Join('\n', tooLong)}");
    }

    private static IEnumerable<string> SourceFiles(string root) =>
        new[] { "src", "tests" }
            .Select(dir => Path.Combine(root, dir))
            .Where(Directory.Exists)
            .SelectMany(dir => Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories))
            .Where(file => !IsBuildOutput(Relative(root, file)))
            .Order(StringComparer.Ordinal);

    // Generated files under bin/ and obj/ are not the project's code.
    private static bool IsBuildOutput(string relative) =>
        relative.Split('/').Any(segment => segment is "bin" or "obj");

    private static string Relative(string root, string file) => Path.GetRelativePath(root, file).Replace('\\', '/');
}
