using SppFunctions.Cli;
using SppFunctions.Cli.Infrastructure;

// sppfn: see README.md, "CLI". Ctrl-C cancels the running command (send prints what it sent so far).
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancellation.IsCancellationRequested) return; // a second Ctrl-C ends the process at once
    e.Cancel = true;
    cancellation.Cancel();
};
return await SppCli.RunAsync(args, CliEnvironment.FromProcess(), cancellation.Token);
