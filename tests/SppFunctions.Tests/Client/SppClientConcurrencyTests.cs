using Microsoft.Extensions.DependencyInjection;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Client;

/// <summary>One process never has more SPP calls in flight than Spp__MaxConcurrentRequests; the rest wait their turn.</summary>
public class SppClientConcurrencyTests
{
    /// <summary>Counts requests in flight below the policies; each waits until a third is in flight, or 200 ms.</summary>
    private sealed class InFlightCounter : DelegatingHandler
    {
        private int _inFlight;
        private int _max;
        private readonly TaskCompletionSource _third = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Max => Volatile.Read(ref _max);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref _inFlight);
            int seen;
            while ((seen = Volatile.Read(ref _max)) < now && Interlocked.CompareExchange(ref _max, now, seen) != seen) { }
            if (now >= 3) _third.TrySetResult();
            try
            {
                // Without a bound, the third request arrives while these wait: deterministic either way, no timing assert.
                await Task.WhenAny(_third.Task, Task.Delay(200, cancellationToken));
                return await base.SendAsync(request, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Concurrent_calls_beyond_the_bound_wait_their_turn(int bound)
    {
        var counter = new InFlightCounter();
        await using var h = await SppClientHarness.StartAsync(o => o.MaxConcurrentRequests = bound,
            http: b => b.AddHttpMessageHandler(() => counter));
        var order = h.Server.Store.AddOrder();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => h.Client.GetOrderAsync(order["id"]!.ToString())));

        Assert.All(results, r => Assert.Equal(order["id"]!.ToString(), r.Id));
        Assert.Equal(bound, counter.Max);
        Assert.Equal(8, h.Server.Requests.Count);
    }

    [Fact]
    public async Task The_default_is_four_and_a_bad_value_stops_start_up_naming_the_setting()
    {
        Assert.Equal(4, new Spp.Client.SppClientOptions().MaxConcurrentRequests);
        await using var h = await SppClientHarness.StartAsync(settings: new() { ["Spp:MaxConcurrentRequests"] = "0" });
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            h.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Spp.Client.SppClientOptions>>().Value);
        Assert.Contains("Spp__MaxConcurrentRequests must be between 1 and 64", ex.Message);
    }
}
