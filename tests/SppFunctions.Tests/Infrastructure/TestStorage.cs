namespace SppFunctions.Tests.Infrastructure;

/// <summary>The Azurite that scripts/test.sh started (SPP_TEST_STORAGE), or the default local emulator.</summary>
public static class TestStorage
{
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("SPP_TEST_STORAGE") is { Length: > 0 } cs ? cs : "UseDevelopmentStorage=true";

    /// <summary>A connection string whose services are all on a closed port: every call fails to connect.</summary>
    public static string Unreachable()
    {
        var port = FreePort();
        return $"DefaultEndpointsProtocol=http;AccountName=nowhere;AccountKey=bm90IGEga2V5;" +
            $"BlobEndpoint=http://127.0.0.1:{port}/nowhere;QueueEndpoint=http://127.0.0.1:{port}/nowhere;" +
            $"TableEndpoint=http://127.0.0.1:{port}/nowhere;";
    }

    /// <summary>The test storage with only its queue endpoint replaced by a closed port.</summary>
    public static string WithUnreachableQueues()
    {
        var parts = ConnectionString.Split(';', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (!parts.Any(p => p.StartsWith("QueueEndpoint=", StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidOperationException("SPP_TEST_STORAGE must list explicit endpoints (scripts/test.sh sets it).");
        }
        var port = FreePort();
        return string.Join(';', parts.Select(p =>
            p.StartsWith("QueueEndpoint=", StringComparison.OrdinalIgnoreCase) ? $"QueueEndpoint=http://127.0.0.1:{port}/nowhere" : p)) + ";";
    }

    public static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
