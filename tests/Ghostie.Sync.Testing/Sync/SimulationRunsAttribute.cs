using System.Reflection;
using Xunit.Sdk;

namespace Ghostie.Sync.Testing;

/// <summary>
/// The rows of <see cref="SyncProtocolConformanceTests.RandomOperations_AllDevicesConverge_NothingLost"/>: the public
/// static <c>SimulationRuns</c> property of the test class itself, or of the nearest base class declaring one. (xunit's
/// <c>MemberData</c> reads the member from the class that declares the test method, so a derived class could not
/// size the simulation for its server.)
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SimulationRunsAttribute : DataAttribute
{
    /// <inheritdoc />
    public override IEnumerable<object[]> GetData(MethodInfo testMethod)
    {
        ArgumentNullException.ThrowIfNull(testMethod);
        for (Type? type = testMethod.ReflectedType; type is not null; type = type.BaseType)
        {
            PropertyInfo? property = type.GetProperty("SimulationRuns", BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly);
            if (property?.GetValue(null) is IEnumerable<object[]> rows)
            {
                return rows;
            }
        }

        throw new InvalidOperationException($"{testMethod.ReflectedType?.Name} has no public static SimulationRuns property.");
    }
}
