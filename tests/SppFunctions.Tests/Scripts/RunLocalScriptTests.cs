using System.Text.RegularExpressions;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Scripts;

/// <summary>
/// scripts/run-local.sh, the README's run command, in a temporary copy of the repository. Core Tools cannot be installed
/// on the build machines, so the "with func" case puts a stand-in <c>func</c> on PATH that records how it was started,
/// starts a child "worker" (which it does not stop itself) and waits to be stopped. It also records the SPP settings it
/// got through the environment (where the script puts the sandbox's).
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
          for f in host.json local.settings.json SppFunctions.dll functions.metadata rules.sandbox.json; do [ -f "$f" ] && echo "has=$f"; done
          echo "env:Spp__BaseUrl=${Spp__BaseUrl:-}"
          echo "env:Spp__ApiKey=${Spp__ApiKey:-}"
          echo "env:Spp__WebhookTokens__0=${Spp__WebhookTokens__0:-}"
          echo "env:Rules__Path=${Rules__Path:-}"
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
        Assert.All(sandbox.Ports, port => Assert.False(ScriptSandbox.PortOpen(port), $"something listens on {port}"));
    }

    [Fact]
    public async Task With_core_tools_and_no_spp_settings_it_starts_the_sandbox_and_hands_the_host_its_url_key_and_token_and_ctrl_c_stops_everything()
    {
        using var sandbox = ScriptSandbox.Create(withSources: true);
        var log = Path.Combine(sandbox.Root, "..", "func.log");
        sandbox.AddTool("func", FakeFunc);
        sandbox.Environment["FAKE_FUNC_LOG"] = log;

        using var process = sandbox.StartRunLocal();
        try
        {
            // Building the app and sppfn takes a while on a small machine.
            var started = await ScriptSandbox.EventuallyAsync(() => File.Exists(log) || process.HasExited, TimeSpan.FromMinutes(8));
            Assert.True(started && !process.HasExited, $"the host was not started (exited: {process.HasExited})\n{sandbox}");

            // Loudly first: it runs against a sandbox, and how to use a workspace instead.
            var lines = sandbox.Stdout.Split('\n');
            Assert.StartsWith("==> SANDBOX: no SPP settings are filled in", lines[0]);
            Assert.Contains("nothing reaches a real SPP workspace", lines[1]);
            Assert.Contains("To use your workspace instead, fill in local.settings.json", lines[2]);
            foreach (var setting in new[] { "Spp__BaseUrl", "Spp__ApiKey", "Spp__WebhookTokens__0" })
                Assert.Contains(setting, string.Join('\n', lines[..7]));

            // local.settings.json from the sample, asking nothing.
            Assert.Equal(File.ReadAllText(Path.Combine(sandbox.Root, "local.settings.sample.json")),
                File.ReadAllText(Path.Combine(sandbox.Root, "local.settings.json")));
            Assert.Contains("Created local.settings.json from local.settings.sample.json", sandbox.Stdout);

            // Azurite on the given ports, its data in .azurite/.
            Assert.All(sandbox.Ports, port => Assert.True(ScriptSandbox.PortOpen(port), $"Azurite does not listen on {port}\n{sandbox}"));
            Assert.Contains($"Azurite started on 127.0.0.1:{sandbox.Ports[0]}/{sandbox.Ports[1]}/{sandbox.Ports[2]} (data in .azurite/",
                sandbox.Stdout);
            Assert.NotEmpty(Directory.EnumerateFileSystemEntries(Path.Combine(sandbox.Root, ".azurite")));

            // The built app, started with `func host start` in its output directory, SPP being the sandbox.
            var facts = File.ReadAllLines(log);
            Assert.Contains("args=host start", facts);
            Assert.Contains($"cwd={Path.Combine(sandbox.Root, "src", "SppFunctions", "bin", "Debug", "net10.0")}", facts);
            foreach (var file in new[] { "host.json", "local.settings.json", "SppFunctions.dll", "functions.metadata", "rules.sandbox.json" })
                Assert.Contains($"has={file}", facts);
            string Env(string name) => facts.Single(f => f.StartsWith($"env:{name}=", StringComparison.Ordinal))[(name.Length + 5)..];
            var url = Env("Spp__BaseUrl");
            var key = Env("Spp__ApiKey");
            var token = Env("Spp__WebhookTokens__0");
            Assert.Equal($"http://127.0.0.1:{sandbox.SandboxPort}/api/", url);
            Assert.StartsWith("spp_sandbox_", key);
            Assert.StartsWith("sandbox_webhook_", token);
            Assert.Equal("rules.sandbox.json", Env("Rules__Path"));
            Assert.Contains($"SPP sandbox on {url}", sandbox.Stdout);

            // The sandbox behind that URL: seeded, and it takes that key and no other.
            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url + "orders/666AF315");
                request.Headers.Authorization = new("Bearer", key);
                using var answer = await http.SendAsync(request);
                Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);
                Assert.Contains("\"number\":\"666AF315\"", await answer.Content.ReadAsStringAsync());
                using var wrong = new HttpRequestMessage(HttpMethod.Get, url + "orders");
                wrong.Headers.Authorization = new("Bearer", "spp_live_0123456789abcdef0123456789abcdef");
                Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);
            }
            // sppfn finds it through the state file.
            var state = SppFunctions.Sandbox.SandboxState.Read(SppFunctions.Sandbox.SandboxState.PathUnder(sandbox.Root));
            Assert.NotNull(state);
            Assert.Equal((url, key, token), (state.BaseUrl.ToString(), state.ApiKey, state.WebhookToken));
            Assert.DoesNotContain(key, sandbox.Stdout + sandbox.Stderr);
            Assert.DoesNotContain(token, sandbox.Stdout + sandbox.Stderr);

            var funcPid = int.Parse(facts.Single(f => f.StartsWith("pid=", StringComparison.Ordinal))[4..]);
            var workerPid = int.Parse(facts.Single(f => f.StartsWith("worker=", StringComparison.Ordinal))[7..]);
            Assert.True(ScriptSandbox.Alive(funcPid) && ScriptSandbox.Alive(workerPid));

            // Ctrl-C: the script stops the host (with the worker it left running), the sandbox and Azurite, then exits.
            ScriptSandbox.Interrupt(process);
            Assert.True(await ScriptSandbox.EventuallyAsync(() => process.HasExited, TimeSpan.FromSeconds(90)), $"it did not stop\n{sandbox}");

            Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}\n{sandbox}");
            Assert.Contains("Stopping the Functions host...", sandbox.Stdout);
            Assert.Contains("Stopping the SPP sandbox...", sandbox.Stdout);
            Assert.Contains("Stopping Azurite...", sandbox.Stdout);
            Assert.True(File.Exists(log + ".stopped"), "the host was not asked to stop (SIGTERM)");
            Assert.True(await ScriptSandbox.EventuallyAsync(
                () => !ScriptSandbox.Alive(funcPid) && !ScriptSandbox.Alive(workerPid), TimeSpan.FromSeconds(10)),
                "the host or its worker is still running");
            Assert.True(await ScriptSandbox.EventuallyAsync(() => !ScriptSandbox.PortOpen(sandbox.SandboxPort), TimeSpan.FromSeconds(10)),
                "the sandbox is still running");
            Assert.False(File.Exists(SppFunctions.Sandbox.SandboxState.PathUnder(sandbox.Root)), "the sandbox's state file is left behind");
            Assert.True(await ScriptSandbox.EventuallyAsync(() => sandbox.Ports.All(p => !ScriptSandbox.PortOpen(p)), TimeSpan.FromSeconds(10)),
                "Azurite is still running");
            Assert.DoesNotMatch(new Regex("error", RegexOptions.IgnoreCase), sandbox.Stderr);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task With_spp_settings_filled_in_it_starts_no_sandbox_and_the_host_reads_them_from_local_settings()
    {
        using var sandbox = ScriptSandbox.Create(withSources: true);
        var log = Path.Combine(sandbox.Root, "..", "func.log");
        sandbox.AddTool("func", FakeFunc);
        sandbox.Environment["FAKE_FUNC_LOG"] = log;
        var settings = File.ReadAllText(Path.Combine(sandbox.Root, "local.settings.sample.json"))
            .Replace("https://YOUR-WORKSPACE.spp.co/api/", "https://acme.spp.co/api/", StringComparison.Ordinal)
            .Replace("FILL-IN: SPP admin → Modules → API → Settings", "spp_live_0123456789abcdef0123456789abcdef", StringComparison.Ordinal)
            .Replace("FILL-IN: token SPP shows for your webhook (Modules → Webhooks)", "whk_0123456789abcdef0123456789", StringComparison.Ordinal);
        Assert.DoesNotContain("FILL-IN", settings);
        File.WriteAllText(Path.Combine(sandbox.Root, "local.settings.json"), settings);

        using var process = sandbox.StartRunLocal();
        try
        {
            var started = await ScriptSandbox.EventuallyAsync(() => File.Exists(log) || process.HasExited, TimeSpan.FromMinutes(6));
            Assert.True(started && !process.HasExited, $"the host was not started (exited: {process.HasExited})\n{sandbox}");

            var facts = File.ReadAllLines(log);
            Assert.Contains("args=host start", facts);
            Assert.Contains("has=local.settings.json", facts);
            // Nothing in the environment: the host reads the workspace's settings from local.settings.json, as before.
            foreach (var name in new[] { "Spp__BaseUrl", "Spp__ApiKey", "Spp__WebhookTokens__0", "Rules__Path" })
                Assert.Contains($"env:{name}=", facts);
            Assert.Equal(settings, File.ReadAllText(Path.Combine(sandbox.Root, "local.settings.json")));
            Assert.DoesNotContain("SANDBOX", sandbox.Stdout);
            Assert.DoesNotContain("sandbox", sandbox.Stdout);
            Assert.DoesNotContain("placeholder", sandbox.Stdout);
            Assert.False(ScriptSandbox.PortOpen(sandbox.SandboxPort), "a sandbox listens");
            Assert.False(Directory.Exists(Path.Combine(sandbox.Root, ".sandbox")), "it created .sandbox/");

            ScriptSandbox.Interrupt(process);
            Assert.True(await ScriptSandbox.EventuallyAsync(() => process.HasExited, TimeSpan.FromSeconds(90)), $"it did not stop\n{sandbox}");
            Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}\n{sandbox}");
            Assert.Contains("Stopping the Functions host...", sandbox.Stdout);
            Assert.DoesNotContain("Stopping the SPP sandbox...", sandbox.Stdout);
            Assert.DoesNotMatch(new Regex("error", RegexOptions.IgnoreCase), sandbox.Stderr);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
