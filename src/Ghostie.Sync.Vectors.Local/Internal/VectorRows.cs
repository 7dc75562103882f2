using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ghostie.Sync.Vectors.Local.Internal;

/// <summary>The rows of a collection in one contiguous array (row-major, unit-normalized): float32, or int8 codes
/// with one float scale per row (symmetric scalar quantization: x ~= scale * code, code in [-127, 127]).</summary>
internal sealed class VectorRows
{
    private float[] _floats;
    private sbyte[] _codes;
    private float[] _scales;

    internal VectorRows(int dimensions, bool quantized, int capacity = 16)
    {
        Dimensions = dimensions;
        Quantized = quantized;
        capacity = Math.Max(capacity, 1);
        _floats = quantized ? [] : new float[(long)capacity * dimensions];
        _codes = quantized ? new sbyte[(long)capacity * dimensions] : [];
        _scales = quantized ? new float[capacity] : [];
        Capacity = capacity;
    }

    internal int Dimensions { get; }

    internal bool Quantized { get; }

    internal int Capacity { get; private set; }

    /// <summary>The float rows (empty when quantized).</summary>
    internal float[] Floats => _floats;

    /// <summary>The int8 codes (empty unless quantized).</summary>
    internal sbyte[] Codes => _codes;

    /// <summary>The per-row scales (empty unless quantized).</summary>
    internal float[] Scales => _scales;

    internal void EnsureCapacity(int rows)
    {
        if (rows <= Capacity)
        {
            return;
        }

        int next = (int)Math.Min(Math.Max(rows, (long)Capacity * 2), Array.MaxLength / Dimensions);
        if (next < rows)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"A local vector collection of {Dimensions} dimensions holds at most {Array.MaxLength / Dimensions:N0} rows.");
        }

        if (Quantized)
        {
            Array.Resize(ref _codes, next * Dimensions);
            Array.Resize(ref _scales, next);
        }
        else
        {
            Array.Resize(ref _floats, next * Dimensions);
        }

        Capacity = next;
    }

    /// <summary>Stores a unit-normalized row.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal void Set(int row, ReadOnlySpan<float> normalized)
    {
        EnsureCapacity(row + 1);
        if (!Quantized)
        {
            normalized.CopyTo(_floats.AsSpan(row * Dimensions, Dimensions));
            return;
        }

        float max = 0f;
        foreach (float x in normalized)
        {
            max = Math.Max(max, Math.Abs(x));
        }

        float scale = max / 127f;
        Span<sbyte> code = _codes.AsSpan(row * Dimensions, Dimensions);
        float inverse = scale > 0f ? 1f / scale : 0f;
        for (int i = 0; i < normalized.Length; i++)
        {
            code[i] = (sbyte)Math.Clamp(MathF.Round(normalized[i] * inverse), -127f, 127f);
        }

        _scales[row] = scale;
    }

    /// <summary>The row as floats (dequantized when quantized).</summary>
    internal void CopyRow(int row, Span<float> destination)
    {
        if (!Quantized)
        {
            _floats.AsSpan(row * Dimensions, Dimensions).CopyTo(destination);
            return;
        }

        ReadOnlySpan<sbyte> code = _codes.AsSpan(row * Dimensions, Dimensions);
        float scale = _scales[row];
        for (int i = 0; i < code.Length; i++)
        {
            destination[i] = code[i] * scale;
        }
    }

    /// <summary>The inner product of a (normalized) query with a row: its cosine similarity.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal float Score(ref float query, int row)
    {
        if (!Quantized)
        {
            return VectorKernels.Dot(ref query, ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_floats), (nint)row * Dimensions), Dimensions);
        }

        return _scales[row] * VectorKernels.DotInt8(ref query, ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_codes), (nint)row * Dimensions), Dimensions);
    }

    /// <summary>Prefetches a row into the cache (a hint; a no-op without SSE).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal unsafe void Prefetch(int row)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            if (!Quantized)
            {
                // A stale address after a GC move is harmless for a prefetch hint.
                float* p = (float*)Unsafe.AsPointer(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_floats), (nint)row * Dimensions));
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(p);
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(p + 16);
            }
        }
    }

    /// <summary>Moves row <paramref name="from"/> to <paramref name="to"/> (compaction).</summary>
    internal void Move(int from, int to)
    {
        if (Quantized)
        {
            Array.Copy(_codes, from * Dimensions, _codes, to * Dimensions, Dimensions);
            _scales[to] = _scales[from];
        }
        else
        {
            Array.Copy(_floats, from * Dimensions, _floats, to * Dimensions, Dimensions);
        }
    }

    /// <summary>Bytes of vector storage per row.</summary>
    internal int BytesPerRow => Quantized ? Dimensions + sizeof(float) : Dimensions * sizeof(float);
}
