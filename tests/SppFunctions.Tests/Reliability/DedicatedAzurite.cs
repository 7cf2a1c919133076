using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Reliability;

/// <summary>
/// An Azurite of a test's own, which the test may stop and start again: free loopback ports, an account with a random
/// name and key (AZURITE_ACCOUNTS; no well-known key), and a data directory of its own that survives the restart.
/// Uses the binary scripts/test.sh names in SPP_TEST_AZURITE (else the repository's node_modules). The process is
/// always killed on dispose.
/// </summary>
public sealed class DedicatedAzurite : IAsyncDisposable
{
    private const int SIGTERM = 15;

    private readonly string _binary;
    private readonly string _location;
    private readonly int[] _ports;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private DedicatedAzurite(string binary)
    {
        _binary = binary;
        _location = Path.Combine(Path.GetTempPath(), $"sppfn-azurite-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_location);
        _ports = FreePorts(3);
        Account = "rel" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        AccountKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    }

    public string Account { get; }
    /// <summary>The random account key: a secret that must appear in no log.</summary>
    public string AccountKey { get; }
    public bool Running => _process is { HasExited: false };

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{_ports[0]}/{Account};QueueEndpoint=http://127.0.0.1:{_ports[1]}/{Account};" +
        $"TableEndpoint=http://127.0.0.1:{_ports[2]}/{Account};";

    /// <summary>What Azurite printed (for a failure message).</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    public static async Task<DedicatedAzurite> StartAsync()
    {
        var binary = Environment.GetEnvironmentVariable("SPP_TEST_AZURITE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(TestPaths.RepositoryRoot, "node_modules", ".bin", "azurite");
        if (!File.Exists(binary))
            throw new InvalidOperationException(
                $"Azurite not found at {binary}: run the tests with scripts/test.sh (it installs Azurite and sets SPP_TEST_AZURITE).");
        var azurite = new DedicatedAzurite(binary);
        try
        {
            await azurite.StartProcessAsync();
            return azurite;
        }
        catch
        {
            await azurite.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts Azurite again on the same ports, account and data.</summary>
    public Task RestartAsync() => Running ? throw new InvalidOperationException("Azurite is running.") : StartProcessAsync();

    /// <summary>
    /// Stops Azurite as an orderly shutdown does (SIGTERM: it stops serving and saves its data, like a storage front
    /// end going away without losing acknowledged writes); kills it if it does not exit in time.
    /// </summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (_process is not { HasExited: false } process) return;
        if (!Terminate(process)) process.Kill(entireProcessTree: true);
        using var timeout = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(15));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private async Task StartProcessAsync()
    {
        var info = new ProcessStartInfo(_binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[]
        {
            "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--location", _location,
            "--blobHost", "127.0.0.1", "--blobPort", _ports[0].ToString(), "--queueHost", "127.0.0.1", "--queuePort", _ports[1].ToString(),
            "--tableHost", "127.0.0.1", "--tablePort", _ports[2].ToString(),
        }) info.ArgumentList.Add(arg);
        info.Environment["AZURITE_ACCOUNTS"] = $"{Account}:{AccountKey}";
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.Start();
        _process?.Dispose();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        foreach (var port in _ports)
        {
            while (!await AcceptsAsync(port))
            {
                if (process.HasExited) throw new InvalidOperationException($"Azurite exited with {process.ExitCode}: {Output}");
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"Azurite did not listen on 127.0.0.1:{port}: {Output}");
                await Task.Delay(50);
            }
        }
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    /// <summary>Sends SIGTERM (libc's kill, else the kill command); false where there is neither.</summary>
    private static bool Terminate(Process process)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return false;
        try
        {
            return Kill(process.Id, SIGTERM) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString()]) { UseShellExecute = false });
            kill?.WaitForExit();
            return kill?.ExitCode == 0;
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_process is { HasExited: false } process)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        finally
        {
            _process?.Dispose();
            try { Directory.Delete(_location, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
