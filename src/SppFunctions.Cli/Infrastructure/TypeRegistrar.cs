using Microsoft.Extensions.DependencyInjection;
using Spectre.Console.Cli;

namespace SppFunctions.Cli.Infrastructure;

/// <summary>Lets Spectre.Console.Cli create commands with Microsoft.Extensions.DependencyInjection (they take a <see cref="CliContext"/>).</summary>
internal sealed class TypeRegistrar(IServiceCollection services) : ITypeRegistrar
{
    public void Register(Type service, Type implementation) => services.AddSingleton(service, implementation);

    public void RegisterInstance(Type service, object implementation) => services.AddSingleton(service, implementation);

    public void RegisterLazy(Type service, Func<object> factory) => services.AddSingleton(service, _ => factory());

    public ITypeResolver Build() => new TypeResolver(services.BuildServiceProvider());

    private sealed class TypeResolver(ServiceProvider provider) : ITypeResolver, IDisposable
    {
        public object? Resolve(Type? type) => type is null ? null : provider.GetService(type) ?? ActivatorUtilities.CreateInstance(provider, type);

        public void Dispose() => provider.Dispose();
    }
}
