using System.Runtime.CompilerServices;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync.Tests;

/// <summary>Every test of this project runs with each save of the state read back from disk (base file and journal)
/// and compared with the state in memory: a change of a record that is not marked dirty fails the test that made it.</summary>
internal static class StateVerification
{
#pragma warning disable CA2255 // a module initializer in a test assembly, on purpose
    [ModuleInitializer]
    internal static void Enable() => SyncStateStore.VerifySaves = true;
#pragma warning restore CA2255
}
