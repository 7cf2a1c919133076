using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SppFunctions.Sandbox;

/// <summary>
/// Where a running sandbox can be found: <c>.sandbox/sandbox.json</c>, written when it starts and removed when it stops.
/// Its <c>Values</c> have the form of local.settings.json's (<c>Spp__BaseUrl</c>, <c>Spp__ApiKey</c>,
/// <c>Spp__WebhookTokens__0</c>), so scripts/run-local.sh hands them to the Functions host and <c>sppfn</c> uses them
/// while no SPP settings are filled in. The file is readable by its owner only.
/// </summary>
public sealed record SandboxState(Uri BaseUrl, string ApiKey, string WebhookToken, int ProcessId, DateTimeOffset StartedAt)
{
    public const string DirectoryName = ".sandbox";
    public const string FileName = "sandbox.json";

    /// <summary>The state file under <paramref name="root"/> (the repository root, or the current directory outside one).</summary>
    public static string PathUnder(string root) => Path.Combine(root, DirectoryName, FileName);

    /// <summary>Whether the process that wrote the file still runs (a file left by a killed sandbox does not count).</summary>
    public bool IsRunning
    {
        get
        {
            try
            {
                using var process = Process.GetProcessById(ProcessId);
                return !process.HasExited;
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                return false;
            }
        }
    }

    public void Write(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var json = new JsonObject
        {
            ["Comment"] = "Written by the running SPP sandbox (sppfn sandbox) and removed when it stops. Not a workspace's settings.",
            [nameof(ProcessId)] = ProcessId,
            [nameof(StartedAt)] = StartedAt.ToString("O"),
            ["Values"] = new JsonObject
            {
                ["Spp__BaseUrl"] = BaseUrl.ToString(),
                ["Spp__ApiKey"] = ApiKey,
                ["Spp__WebhookTokens__0"] = WebhookToken,
            },
        };
        var temporary = Path.Combine(directory, $".{FileName}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temporary, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The state in the file, or null when there is none or it cannot be read.</summary>
    public static SandboxState? Read(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
            var values = root?["Values"] as JsonObject;
            var url = values?["Spp__BaseUrl"]?.GetValue<string>();
            var key = values?["Spp__ApiKey"]?.GetValue<string>();
            var token = values?["Spp__WebhookTokens__0"]?.GetValue<string>();
            var pid = root?[nameof(ProcessId)]?.GetValue<int>();
            var started = root?[nameof(StartedAt)]?.GetValue<string>();
            if (url is null || key is null || token is null || pid is null || !Uri.TryCreate(url, UriKind.Absolute, out var baseUrl)) return null;
            return new SandboxState(baseUrl, key, token, pid.Value,
                DateTimeOffset.TryParse(started, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None,
                    out var at) ? at : default);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Removes the file if it is still this process's (a sandbox started since keeps its own).</summary>
    public static void Remove(string path, int processId)
    {
        if (Read(path) is { } current && current.ProcessId != processId) return;
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
