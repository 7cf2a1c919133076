using System.Runtime.InteropServices;
using SppFunctions.Cli;
using SppFunctions.Cli.Infrastructure;

// sppfn: see docs/cli.md. Ctrl-C cancels the running command (send prints what it sent so far).
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancellation.IsCancellationRequested) return; // a second Ctrl-C ends the process at once
    e.Cancel = true;
    cancellation.Cancel();
};
// SIGTERM (what scripts and service managers send) stops a command as Ctrl-C does, so `sandbox` removes its state file.
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cancellation.Cancel();
});
return await SppCli.RunAsync(args, CliEnvironment.FromProcess(), cancellation.Token);
