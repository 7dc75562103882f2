using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Ghostie.Sync.Benchmarks;

/// <summary>
/// Adds a "MB/s" column: the benchmark's payload parameter divided by its mean time, in 10^6 bytes per second
/// (the unit <c>openssl speed</c> uses, so the two can be read side by side).
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ThroughputColumnAttribute : ColumnConfigBaseAttribute
{
    public ThroughputColumnAttribute(string payloadParameter)
        : base(new ThroughputColumn(payloadParameter))
    {
    }
}

/// <summary>Payload bytes per second of one benchmark case; see <see cref="ThroughputColumnAttribute"/>.</summary>
public sealed class ThroughputColumn(string payloadParameter) : IColumn
{
    public string Id => nameof(ThroughputColumn) + "." + payloadParameter;

    public string ColumnName => "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => $"Throughput: {payloadParameter} bytes / mean time, in 10^6 bytes per second";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? meanNanoseconds = summary[benchmarkCase]?.ResultStatistics?.Mean;
        object? payload = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == payloadParameter)?.Value;
        if (meanNanoseconds is not > 0 || payload is null)
        {
            return "-";
        }

        double bytes = Convert.ToDouble(payload, CultureInfo.InvariantCulture);
        return (bytes / meanNanoseconds.Value * 1e9 / 1e6).ToString("N1", style.CultureInfo);
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public override string ToString() => ColumnName;
}
