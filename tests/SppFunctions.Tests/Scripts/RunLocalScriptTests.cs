using System.Text.RegularExpressions;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Scripts;

/// <summary>
/// scripts/run-local.sh, the README's run command, in a temporary copy of the repository. Core Tools cannot be installed
/// on the build machines, so the "with func" case puts a stand-in <c>func</c> on PATH that records how it was started,
/// starts a child "worker" (which it does not stop itself) and waits to be stopped.
/// </summary>
public class RunLocalScriptTests
{
    private const string FakeFunc = """
        #!/usr/bin/env bash
        # Stand-in for Azure Functions Core Tools: records how it was started, starts a worker child, waits.
        log="$FAKE_FUNC_LOG"
        {
          echo "args=$*"
          echo "cwd=$PWD"
          echo "pid=$$"
          for f in host.json local.settings.json SppFunctions.dll functions.metadata; do [ -f "$f" ] && echo "has=$f"; done
        } > "$log.tmp"
        sleep 300 &
        echo "worker=$!" >> "$log.tmp"
        mv "$log.tmp" "$log"
        trap 'echo stopped > "$log.stopped"; exit 0' TERM INT
        wait
        """;

    [Fact]
    public async Task Without_core_tools_it_says_how_to_install_them_exits_non_zero_and_starts_nothing()
    {
        using var sandbox = ScriptSandbox.Create(withSources: false);

        using var process = sandbox.StartRunLocal();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 127, $"exit {process.ExitCode}\n{sandbox}");
        Assert.Contains("error: Azure Functions Core Tools v4 ('func') is not on PATH", sandbox.Stderr);
        Assert.Contains("npm install -g azure-functions-core-tools@4", sandbox.Stderr);
        Assert.Contains("Nothing was started.", sandbox.Stderr);
        Assert.Equal("", sandbox.Stdout);
        Assert.False(File.Exists(Path.Combine(sandbox.Root, "local.settings.json")), "it created local.settings.json");
        Assert.False(Directory.Exists(Path.Combine(sandbox.Root, ".azurite")), "it created .azurite/");
        Assert.All(sandbox.Ports, port => Assert.False(sandbox.PortOpen(port), $"something listens on {port}"));
    }

    [Fact]
    public async Task With_core_tools_it_creates_settings_starts_azurite_builds_starts_the_host_and_ctrl_c_stops_everything()
    {
        using var sandbox = ScriptSandbox.Create(withSources: true);
        var log = Path.Combine(sandbox.Root, "..", "func.log");
        sandbox.AddTool("func", FakeFunc);
        sandbox.Environment["FAKE_FUNC_LOG"] = log;

        using var process = sandbox.StartRunLocal();
        try
        {
            // Building the app takes a while on a small machine.
            var started = await ScriptSandbox.EventuallyAsync(() => File.Exists(log) || process.HasExited, TimeSpan.FromMinutes(4));
            Assert.True(started && !process.HasExited, $"the host was not started (exited: {process.HasExited})\n{sandbox}");

            // local.settings.json from the sample, asking nothing, with a note of what to fill in.
            Assert.Equal(File.ReadAllText(Path.Combine(sandbox.Root, "local.settings.sample.json")), File.ReadAllText(Path.Combine(sandbox.Root, "local.settings.json")));
            Assert.Contains("Created local.settings.json from local.settings.sample.json", sandbox.Stdout);
            foreach (var setting in new[] { "Spp__BaseUrl", "Spp__ApiKey", "Spp__WebhookTokens__0" }) Assert.Contains(setting, sandbox.Stdout);

            // Azurite on the given ports, its data in .azurite/.
            Assert.All(sandbox.Ports, port => Assert.True(sandbox.PortOpen(port), $"Azurite does not listen on {port}\n{sandbox}"));
            Assert.Contains($"Azurite started on 127.0.0.1:{sandbox.Ports[0]}/{sandbox.Ports[1]}/{sandbox.Ports[2]} (data in .azurite/", sandbox.Stdout);
            Assert.NotEmpty(Directory.EnumerateFileSystemEntries(Path.Combine(sandbox.Root, ".azurite")));

            // The built app, started with `func host start` in its output directory.
            var facts = File.ReadAllLines(log);
            Assert.Contains("args=host start", facts);
            Assert.Contains($"cwd={Path.Combine(sandbox.Root, "src", "SppFunctions", "bin", "Debug", "net10.0")}", facts);
            foreach (var file in new[] { "host.json", "local.settings.json", "SppFunctions.dll", "functions.metadata" }) Assert.Contains($"has={file}", facts);
            var funcPid = int.Parse(facts.Single(f => f.StartsWith("pid=", StringComparison.Ordinal))[4..]);
            var workerPid = int.Parse(facts.Single(f => f.StartsWith("worker=", StringComparison.Ordinal))[7..]);
            Assert.True(ScriptSandbox.Alive(funcPid) && ScriptSandbox.Alive(workerPid));

            // Ctrl-C: the script stops the host (with the worker it left running) and Azurite, then exits.
            ScriptSandbox.Interrupt(process);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);

            Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}\n{sandbox}");
            Assert.Contains("Stopping the Functions host...", sandbox.Stdout);
            Assert.Contains("Stopping Azurite...", sandbox.Stdout);
            Assert.True(File.Exists(log + ".stopped"), "the host was not asked to stop (SIGTERM)");
            Assert.True(await ScriptSandbox.EventuallyAsync(() => !ScriptSandbox.Alive(funcPid) && !ScriptSandbox.Alive(workerPid), TimeSpan.FromSeconds(10)), "the host or its worker is still running");
            Assert.True(await ScriptSandbox.EventuallyAsync(() => sandbox.Ports.All(p => !sandbox.PortOpen(p)), TimeSpan.FromSeconds(10)), "Azurite is still running");
            Assert.DoesNotMatch(new Regex("error", RegexOptions.IgnoreCase), sandbox.Stderr);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
