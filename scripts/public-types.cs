// Lists the public types of a built assembly (public top-level types, and public types nested in them), read from
// its metadata alone: nothing is loaded or run, so the assembly's dependencies need not be present.
// usage: dotnet run scripts/public-types.cs -- src/Ghostie.Sync.Handoff/bin/Release/net10.0/Ghostie.Sync.Handoff.dll
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

if (args.Length != 1 || !File.Exists(args[0]))
{
    Console.Error.WriteLine("usage: dotnet run scripts/public-types.cs -- <path to a built .dll>");
    return 1;
}

using FileStream stream = File.OpenRead(args[0]);
using var pe = new PEReader(stream);
MetadataReader md = pe.GetMetadataReader();

bool IsVisible(TypeDefinition type) => (type.Attributes & TypeAttributes.VisibilityMask) switch
{
    TypeAttributes.Public => true,
    TypeAttributes.NestedPublic => IsVisible(md.GetTypeDefinition(type.GetDeclaringType())),
    _ => false,
};

string Name(TypeDefinition type) => type.GetDeclaringType().IsNil
    ? $"{md.GetString(type.Namespace)}.{md.GetString(type.Name)}"
    : $"{Name(md.GetTypeDefinition(type.GetDeclaringType()))}+{md.GetString(type.Name)}";

List<string> names = [.. md.TypeDefinitions.Select(md.GetTypeDefinition).Where(IsVisible).Select(Name).Order(StringComparer.Ordinal)];
foreach (string name in names)
{
    Console.WriteLine(name);
}

Console.WriteLine($"{names.Count} public types");
return 0;
