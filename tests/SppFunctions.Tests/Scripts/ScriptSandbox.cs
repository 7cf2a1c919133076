using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Scripts;

/// <summary>
/// A temporary copy of the repository for running scripts/run-local.sh without touching the real checkout (its
/// local.settings.json, .azurite/ and build output): the scripts, the sample settings and package files, optionally the
/// app's sources, and the installed node_modules linked in. The script runs with a PATH of its own (every tool of the
/// test's PATH except <c>func</c>, plus what the test adds), free Azurite ports, and its output in files.
/// </summary>
public sealed class ScriptSandbox : IDisposable
{
    private ScriptSandbox(string root, string bin)
    {
        Root = root;
        Bin = bin;
        var ports = Enumerable.Range(0, 4).Select(_ => TestStorage.FreePort()).Distinct().ToArray();
        while (ports.Length < 4) ports = Enumerable.Range(0, 4).Select(_ => TestStorage.FreePort()).Distinct().ToArray();
        Ports = ports[..3];
        SandboxPort = ports[3];
    }

    public string Root { get; }
    /// <summary>The directory on the script's PATH.</summary>
    public string Bin { get; }
    /// <summary>Blob, queue and table ports for Azurite.</summary>
    public IReadOnlyList<int> Ports { get; }
    /// <summary>The SPP sandbox's port (SPPFN_SANDBOX_PORT).</summary>
    public int SandboxPort { get; }
    public string StdoutPath => Path.Combine(Root, "..", "stdout.txt");
    public string StderrPath => Path.Combine(Root, "..", "stderr.txt");
    public string Stdout => File.Exists(StdoutPath) ? File.ReadAllText(StdoutPath) : "";
    public string Stderr => File.Exists(StderrPath) ? File.ReadAllText(StderrPath) : "";
    public Dictionary<string, string> Environment { get; } = new();

    public static ScriptSandbox Create(bool withSources)
    {
        var repo = TestPaths.RepositoryRoot;
        var nodeModules = Path.Combine(repo, "node_modules");
        Assert.True(File.Exists(Path.Combine(nodeModules, ".bin", "azurite")),
            "Azurite is not installed in the checkout (scripts/test.sh installs it).");

        var outer = Directory.CreateTempSubdirectory("sppfn-run-local-").FullName;
        var root = Directory.CreateDirectory(Path.Combine(outer, "repo")).FullName;
        var bin = Directory.CreateDirectory(Path.Combine(outer, "bin")).FullName;
        CopyTree(Path.Combine(repo, "scripts"), Path.Combine(root, "scripts"));
        // .editorconfig carries the analyzers' relaxed rules: without it the copy's build fails on warnings the checkout allows.
        foreach (var file in new[]
        {
            "local.settings.sample.json", "package.json", "package-lock.json", "host.json", "Directory.Build.props", "Directory.Packages.props",
            ".editorconfig",
        })
        {
            File.Copy(Path.Combine(repo, file), Path.Combine(root, file));
        }
        // Older than node_modules: the script must not run npm ci here (it would go through the link into the checkout).
        File.SetLastWriteTimeUtc(Path.Combine(root, "package-lock.json"), new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Directory.CreateSymbolicLink(Path.Combine(root, "node_modules"), nodeModules);
        if (withSources)
        {
            foreach (var project in new[] { "Spp.Client", "SppFunctions.Core", "SppFunctions", "SppFunctions.Sandbox", "SppFunctions.Cli" })
            {
                CopyTree(Path.Combine(repo, "src", project), Path.Combine(root, "src", project));
            }
        }

        // Every tool on the test's PATH except Core Tools.
        var seen = new HashSet<string>(StringComparer.Ordinal) { "func" };
        foreach (var dir in (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.EnumerateFiles(dir))
            {
                if (seen.Add(Path.GetFileName(file))) File.CreateSymbolicLink(Path.Combine(bin, Path.GetFileName(file)), file);
            }
        }

        var sandbox = new ScriptSandbox(root, bin);
        sandbox.Environment["PATH"] = bin;
        // The real home: its NuGet cache lets the script's build restore without the network.
        sandbox.Environment["HOME"] =
            System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? home : outer;
        foreach (var name in new[] { "TMPDIR", "DOTNET_ROOT", "NUGET_PACKAGES", "DOTNET_CLI_HOME" })
        {
            if (System.Environment.GetEnvironmentVariable(name) is { Length: > 0 } value) sandbox.Environment[name] = value;
        }
        sandbox.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        sandbox.Environment["DOTNET_NOLOGO"] = "1";
        sandbox.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // No MSBuild nodes left behind by the script's build.
        sandbox.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        sandbox.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        sandbox.Environment["SPPFN_AZURITE_BLOB_PORT"] = sandbox.Ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture);
        sandbox.Environment["SPPFN_AZURITE_QUEUE_PORT"] = sandbox.Ports[1].ToString(System.Globalization.CultureInfo.InvariantCulture);
        sandbox.Environment["SPPFN_AZURITE_TABLE_PORT"] = sandbox.Ports[2].ToString(System.Globalization.CultureInfo.InvariantCulture);
        sandbox.Environment["SPPFN_SANDBOX_PORT"] = sandbox.SandboxPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return sandbox;
    }

    /// <summary>Puts an executable script on the sandbox's PATH.</summary>
    public void AddTool(string name, string script)
    {
        var path = Path.Combine(Bin, name);
        File.WriteAllText(path, script.ReplaceLineEndings("\n"));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Starts <c>scripts/run-local.sh</c> in the copy, stdin from /dev/null, stdout and stderr to files.</summary>
    public Process StartRunLocal() => Start("scripts/run-local.sh");

    /// <summary>Starts a script of the copy with arguments (quoted for the shell), as <see cref="StartRunLocal"/> does.</summary>
    public Process Start(string script, params string[] args)
    {
        var command = string.Join(' ', new[] { script }.Concat(args).Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
        var start = new ProcessStartInfo("/bin/bash") { WorkingDirectory = Root, UseShellExecute = false };
        // exec: the process the test signals is the script itself. Ctrl-C on a terminal reaches a script whose SIGINT is not
        // ignored, whatever this test process inherited (a test run started in the background ignores it, and bash
        // cannot trap a signal ignored on entry): env resets it.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec env --default-signal=INT /bin/bash {command} </dev/null >'{StdoutPath}' 2>'{StderrPath}'");
        start.Environment.Clear();
        foreach (var (key, value) in Environment) start.Environment[key] = value;
        return Process.Start(start)!;
    }

    public static bool PortOpen(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static bool Alive(int pid) => Kill(pid, 0) == 0 && !IsZombie(pid);

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return false;
        }
    }

    public static void Interrupt(Process process) => Assert.Equal(0, Kill(process.Id, 2)); // SIGINT, as Ctrl-C sends

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(100);
        }
        return true;
    }

    public override string ToString() => $"--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.EnumerateDirectories(from))
        {
            var name = Path.GetFileName(dir);
            if (name is "bin" or "obj") continue;
            CopyTree(dir, Path.Combine(to, name));
        }
    }

    public void Dispose()
    {
        try
        {
            // Unlink node_modules first: the delete below must never reach into the checkout's copy.
            var link = new FileInfo(Path.Combine(Root, "node_modules"));
            if (link.LinkTarget is not null) link.Delete();
            Directory.Delete(Path.GetDirectoryName(Root)!, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
