using System.Diagnostics;
using System.Globalization;

namespace Ghostie.Sync.Internal;

/// <summary>
/// Where a sync spends its time, for docs/performance.md: with the environment variable <c>GHOSTIE_SYNC_PROFILE=1</c>
/// each phase writes one line <c>ghostie-profile &lt;phase&gt; &lt;milliseconds&gt;</c> to standard error when it ends.
/// Off (one static read per phase) otherwise. Nothing secret is written: phase names and times only.
/// </summary>
internal static class SyncProfile
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("GHOSTIE_SYNC_PROFILE") == "1";

    /// <summary>Times the phase until the returned value is disposed.</summary>
    public static Phase Time(string name) => new(Enabled ? name : null);

    public readonly struct Phase : IDisposable
    {
        private readonly string? _name;
        private readonly long _start;

        public Phase(string? name) => (_name, _start) = (name, name is null ? 0 : Stopwatch.GetTimestamp());

        public void Dispose()
        {
            if (_name is not null)
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ghostie-profile {_name} {Stopwatch.GetElapsedTime(_start).TotalMilliseconds:F1}"));
            }
        }
    }
}
