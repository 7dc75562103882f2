using System.Globalization;

namespace Ghostie.Sync.Vectors.Internal;

/// <summary>Data property values as the invariant text a <see cref="VectorRecord.Data"/> holds, and back. The text of a
/// value is what filters compare, so one value always formats the same way ("R" for floats, "O" for times).</summary>
internal static class VectorDataValues
{
    internal const string SupportedTypes =
        "string, bool, int, long, short, byte, float, double, decimal, Guid, DateTime, DateTimeOffset (and their nullable forms)";

    internal static bool IsSupported(Type type)
    {
        Type t = Nullable.GetUnderlyingType(type) ?? type;
        return t == typeof(string) || t == typeof(bool) || t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(byte)
            || t == typeof(float) || t == typeof(double) || t == typeof(decimal) || t == typeof(Guid) || t == typeof(DateTime) || t == typeof(DateTimeOffset);
    }

    internal static string Format(object value) => value switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        short s => s.ToString(CultureInfo.InvariantCulture),
        byte b => b.ToString(CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        // G29 drops trailing zeros: 1.0m and 1.00m are equal, so they must be the same text for filters.
        decimal m => m.ToString("G29", CultureInfo.InvariantCulture),
        Guid g => g.ToString("D"),
        DateTime t => t.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToString("O", CultureInfo.InvariantCulture),
        _ => throw new NotSupportedException($"A data value of type {value.GetType().Name} cannot be stored; use one of {SupportedTypes}."),
    };

    /// <summary>Converts a filter constant to the property's type first (a filter may compare an int property with a
    /// long constant), then formats it.</summary>
    internal static string FormatAs(object value, Type propertyType)
    {
        Type t = Nullable.GetUnderlyingType(propertyType) ?? propertyType;
        object converted = value.GetType() == t || t == typeof(string) || t == typeof(Guid) || t == typeof(DateTime) || t == typeof(DateTimeOffset)
            ? value
            : Convert.ChangeType(value, t, CultureInfo.InvariantCulture);
        return Format(converted);
    }

    internal static object Parse(string text, Type propertyType, string propertyName, string key)
    {
        Type t = Nullable.GetUnderlyingType(propertyType) ?? propertyType;
        try
        {
            return t == typeof(string) ? text
                : t == typeof(bool) ? bool.Parse(text)
                : t == typeof(int) ? int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture)
                : t == typeof(long) ? long.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture)
                : t == typeof(short) ? short.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture)
                : t == typeof(byte) ? byte.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture)
                : t == typeof(float) ? float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)
                : t == typeof(double) ? double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)
                : t == typeof(decimal) ? decimal.Parse(text, NumberStyles.Number, CultureInfo.InvariantCulture)
                : t == typeof(Guid) ? Guid.Parse(text)
                : t == typeof(DateTime) ? DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind)
                : t == typeof(DateTimeOffset) ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind)
                : throw new NotSupportedException($"Data property '{propertyName}' has type {propertyType.Name}; use one of {SupportedTypes}.");
        }
        catch (FormatException e)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Record '{key}' holds a value for data property '{propertyName}' that is no {t.Name}; the record was written with another record type. Read it with a type whose '{propertyName}' is a string, or rewrite the record.", innerException: e);
        }
        catch (OverflowException e)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Record '{key}' holds a value for data property '{propertyName}' that does not fit a {t.Name}; read it with a wider type.", innerException: e);
        }
    }
}
