using System.Diagnostics;
using System.Globalization;
using System.Text;
using SppFunctions.FakeSpp;
using SppFunctions.Processing;
using SppFunctions.Queueing;
using SppFunctions.Storage;

namespace SppFunctions.Benchmarks;

/// <summary>
/// Memory: the working set of a process that does nothing but process events (as a Functions worker does), sampled
/// every 1,000 events up to 10,000. A child process of its own, so the fake SPP (whose store grows with every message
/// posted) and the publishing are not in it, and its peak working set (VmHWM) belongs to processing alone.
/// </summary>
public static class MemoryBench
{
    public const double Tolerance = 1.10;

    public static async Task RunAsync(Report report, Options options)
    {
        var count = options.Scale(10_000);
        await using var spp = await FakeSppServer.StartAsync(new FakeSppServerOptions { RecordRequests = false });
        var orders = ProcessingBench.SeedOrders(spp.Store, 32);
        var names = BenchApp.NewNames("m");
        await using var app = BenchApp.Start(spp.BaseUrl, spp.ApiKey, ProcessingBench.Rules, names);
        await app.Queue(names.EventsQueue).CreateIfNotExistsAsync();

        var (file, prefix) = Self();
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(["memory-child", spp.BaseUrl.ToString(), spp.ApiKey,
            names.EventsQueue[(StorageNames.EventsQueueName.Length + 1)..], count.ToString(CultureInfo.InvariantCulture), string.Join(',',
                orders)])) psi.ArgumentList.Add(a);
        using var child = Process.Start(psi)!;
        var stderr = child.StandardError.ReadToEndAsync();
        var samples = new List<(int N, long Ws, long Peak, long Heap, double Seconds)>();
        string? line;
        while ((line = await child.StandardOutput.ReadLineAsync()) is not null)
        {
            var parts = line.Split(' ');
            if (parts[0] == "SAMPLE")
            {
                samples.Add((int.Parse(parts[1]), long.Parse(parts[2]), long.Parse(parts[3]), long.Parse(parts[4]), double.Parse(parts[5],
                    CultureInfo.InvariantCulture)));
                Console.WriteLine($"  {line}");
            }
        }
        await child.WaitForExitAsync();
        if (child.ExitCode != 0) throw new InvalidOperationException($"The memory child failed ({child.ExitCode}): {await stderr}");

        static string MiB(long bytes) => $"{bytes / 1024.0 / 1024.0:F1}";
        var body = new StringBuilder();
        body.AppendLine("| Events processed | Working set (MiB) | Peak working set (MiB) | Live managed heap after a full GC (MiB) "
            + "| Events/s so far |");
        body.AppendLine("|---|---|---|---|---|");
        foreach (var s in samples) body.AppendLine($"| {s.N:N0} | {MiB(s.Ws)} | {MiB(s.Peak)} | {MiB(s.Heap)} | {s.N / s.Seconds:F0} |");
        var early = samples.First(s => s.N >= count / 5);
        var last = samples[^1];
        var ratio = (double)last.Peak / early.Peak;
        body.AppendLine();
        body.AppendLine($"Peak working set after {last.N:N0} events is {Measure.Ratio(ratio)} the peak after {early.N:N0}; "
            + $"live managed heap {MiB(early.Heap)} → {MiB(last.Heap)} MiB");
        body.AppendLine("(measured after a forced full collection at each sample, the working set before it). The falling events/s is Azurite");
        body.AppendLine("slowing down as its tables grow to tens of thousands of rows; the app's live heap does not grow with it.");
        body.AppendLine("The child process builds the app's services (AddSppFunctions) and works as an instance that takes webhooks");
        body.AppendLine("and processes them: it publishes 500 events (`EventPublisher`, 16 at a time, as intake does), then plays the queue");
        body.AppendLine("trigger until they are done: receives 16 messages at a time, processes them concurrently (`EventProcessor.ProcessAsync`,");
        body.AppendLine("the rule of the processing benchmark) and deletes them; and so on. (Publishing all 10,000 first would measure");
        body.AppendLine("Azurite: its queue gets slow to receive from with 10,000 messages waiting.)");
        report.Section("Memory", body.ToString());
        report.Headline(new Headline($"Memory: peak working set, {last.N:N0} vs {early.N:N0} events", $"no growth (≤ {Tolerance:F2}×)",
            $"{Measure.Ratio(ratio)} ({MiB(last.Peak)} vs {MiB(early.Peak)} MiB)", ratio <= Tolerance));
        await app.DeleteStorageAsync();
    }

    private static (string File, string[] Prefix) Self()
    {
        var host = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? (host, [typeof(MemoryBench).Assembly.Location]) : (host, []);
    }

    /// <summary>The child: process <paramref name="count"/> events from the queue, printing samples every 1,000.</summary>
    public static async Task<int> ChildAsync(string[] args)
    {
        var baseUrl = new Uri(args[1]);
        var apiKey = args[2];
        var names = StorageNames.WithSuffix(args[3]);
        var count = int.Parse(args[4], CultureInfo.InvariantCulture);
        var orders = args[5].Split(',');
        await using var app = BenchApp.Start(baseUrl, apiKey, ProcessingBench.Rules, names);
        var processor = app.Get<EventProcessor>();
        var publisher = app.Get<EventPublisher>();
        var queue = app.Queue(names.EventsQueue);
        var processed = 0;
        var published = 0;
        var nextSample = 1000;
        var clock = Stopwatch.StartNew();
        var idle = 0;
        while (processed < count)
        {
            if (processed == published)
            {
                var chunk = Math.Min(500, count - published);
                var first = published;
                await Measure.RunAsync(chunk, 16, i => publisher.PublishAsync(ProcessingBench.NewOrderEvent(orders[(first + i) % orders.Length],
                    first + i), CancellationToken.None), null);
                published += chunk;
            }
            var batch = (await queue.ReceiveMessagesAsync(16, TimeSpan.FromMinutes(5))).Value;
            if (batch.Length == 0)
            {
                if (++idle > 50) throw new InvalidOperationException($"The queue ran dry after {processed} events.");
                await Task.Delay(100);
                continue;
            }
            idle = 0;
            await Task.WhenAll(batch.Select(async m =>
            {
                await processor.ProcessAsync(m.Body.ToString(), m.DequeueCount, CancellationToken.None);
                await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }));
            processed += batch.Length;
            if (processed >= nextSample || processed >= count)
            {
                using var self = Process.GetCurrentProcess();
                var workingSet = Environment.WorkingSet;
                var peak = self.PeakWorkingSet64;
                var elapsed = clock.Elapsed.TotalSeconds;
                // What is still referenced: a full, compacting collection first (after the working set was read).
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"SAMPLE {processed} {workingSet} {peak} {GC.GetTotalMemory(false)} {elapsed:F2}"));
                clock.Start();
                while (nextSample <= processed) nextSample += 1000;
            }
        }
        return 0;
    }
}
