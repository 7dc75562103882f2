using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ghostie.Sync.Vectors.Local.Internal;

/// <summary>The hot loops: dot products of one query against rows (float and int8), and a register-blocked
/// batch kernel (queries x rows tiles over a packed, dimension-major panel of rows), the matrix-multiply shape that
/// keeps many queries' work in registers while each row is read once per block of queries.</summary>
internal static class VectorKernels
{
    /// <summary>Rows per packed panel of the batch kernel.</summary>
    internal const int PanelRows = 32;

    /// <summary>Queries per register tile of the batch kernel.</summary>
    internal const int TileQueries = 6;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Dot(ref float a, ref float b, int length)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated && length >= 16)
        {
            Vector512<float> s0 = Vector512<float>.Zero, s1 = Vector512<float>.Zero, s2 = Vector512<float>.Zero, s3 = Vector512<float>.Zero;
            for (; i <= length - 64; i += 64)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)i), Vector512.LoadUnsafe(ref b, (nuint)i), s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)(i + 16)), Vector512.LoadUnsafe(ref b, (nuint)(i + 16)), s1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)(i + 32)), Vector512.LoadUnsafe(ref b, (nuint)(i + 32)), s2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)(i + 48)), Vector512.LoadUnsafe(ref b, (nuint)(i + 48)), s3);
            }

            for (; i <= length - 16; i += 16)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)i), Vector512.LoadUnsafe(ref b, (nuint)i), s0);
            }

            float sum = Vector512.Sum((s0 + s1) + (s2 + s3));
            for (; i < length; i++)
            {
                sum += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
            }

            return sum;
        }

        if (Vector256.IsHardwareAccelerated && length >= 8)
        {
            Vector256<float> s0 = Vector256<float>.Zero, s1 = Vector256<float>.Zero, s2 = Vector256<float>.Zero, s3 = Vector256<float>.Zero;
            for (; i <= length - 32; i += 32)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)(i + 8)), Vector256.LoadUnsafe(ref b, (nuint)(i + 8)), s1);
                s2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)(i + 16)), Vector256.LoadUnsafe(ref b, (nuint)(i + 16)), s2);
                s3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)(i + 24)), Vector256.LoadUnsafe(ref b, (nuint)(i + 24)), s3);
            }

            for (; i <= length - 8; i += 8)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i), s0);
            }

            float sum = Vector256.Sum((s0 + s1) + (s2 + s3));
            for (; i < length; i++)
            {
                sum += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
            }

            return sum;
        }

        float total = 0f;
        for (; i < length; i++)
        {
            total += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
        }

        return total;
    }

    /// <summary>Dot product of a float query with an int8 code row (the row's scale is applied by the caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float DotInt8(ref float q, ref sbyte code, int length)
    {
        int i = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && length >= 16)
        {
            Vector512<float> s0 = Vector512<float>.Zero, s1 = Vector512<float>.Zero;
            for (; i <= length - 32; i += 32)
            {
                Vector512<float> c0 = Vector512.ConvertToSingle(Vector512.WidenLower(Vector512.WidenLower(Vector512.Create(Vector256.Create(Vector128.LoadUnsafe(ref code, (nuint)i), Vector128<sbyte>.Zero), Vector256<sbyte>.Zero))));
                Vector512<float> c1 = Vector512.ConvertToSingle(Vector512.WidenLower(Vector512.WidenLower(Vector512.Create(Vector256.Create(Vector128.LoadUnsafe(ref code, (nuint)(i + 16)), Vector128<sbyte>.Zero), Vector256<sbyte>.Zero))));
                s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref q, (nuint)i), c0, s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref q, (nuint)(i + 16)), c1, s1);
            }

            sum = Vector512.Sum(s0 + s1);
        }
        else if (Vector256.IsHardwareAccelerated && length >= 8)
        {
            Vector256<float> s0 = Vector256<float>.Zero;
            for (; i <= length - 8; i += 8)
            {
                Vector256<float> c0 = Vector256.ConvertToSingle(Vector256.WidenLower(Vector256.WidenLower(Vector256.Create(Vector128.Create(Vector64.LoadUnsafe(ref code, (nuint)i), Vector64<sbyte>.Zero), Vector128<sbyte>.Zero))));
                s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref q, (nuint)i), c0, s0);
            }

            sum = Vector256.Sum(s0);
        }

        for (; i < length; i++)
        {
            sum += Unsafe.Add(ref q, i) * Unsafe.Add(ref code, i);
        }

        return sum;
    }

    /// <summary>Packs <paramref name="rowCount"/> (at most <see cref="PanelRows"/>) rows into a dimension-major panel:
    /// panel[d * PanelRows + r] = rows[r][d]; missing rows are zero.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void PackPanel(ReadOnlySpan<float> rows, int rowCount, int dim, Span<float> panel)
    {
        if (rowCount < PanelRows)
        {
            panel.Clear();
        }

        for (int r = 0; r < rowCount; r++)
        {
            ReadOnlySpan<float> row = rows.Slice(r * dim, dim);
            for (int d = 0; d < dim; d++)
            {
                panel[d * PanelRows + r] = row[d];
            }
        }
    }

    /// <summary>Scores <paramref name="queryCount"/> (at most <see cref="TileQueries"/>) queries against a packed panel
    /// of <see cref="PanelRows"/> rows: scores[q * PanelRows + r].</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void PanelTile(ReadOnlySpan<float> queries, int queryCount, int dim, ReadOnlySpan<float> panel, Span<float> scores)
    {
        ref float p = ref MemoryMarshal.GetReference(panel);
        ref float s = ref MemoryMarshal.GetReference(scores);
        if (Vector512.IsHardwareAccelerated && queryCount == TileQueries)
        {
            // 6 queries x 32 rows: 12 accumulators; per dimension 2 panel loads and 6 broadcasts feed 12 FMAs.
            ref float q0 = ref MemoryMarshal.GetReference(queries);
            ref float q1 = ref Unsafe.Add(ref q0, dim);
            ref float q2 = ref Unsafe.Add(ref q0, 2 * dim);
            ref float q3 = ref Unsafe.Add(ref q0, 3 * dim);
            ref float q4 = ref Unsafe.Add(ref q0, 4 * dim);
            ref float q5 = ref Unsafe.Add(ref q0, 5 * dim);
            Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default;
            Vector512<float> a3 = default, b3 = default, a4 = default, b4 = default, a5 = default, b5 = default;
            for (int d = 0; d < dim; d++)
            {
                Vector512<float> x = Vector512.LoadUnsafe(ref p, (nuint)(d * PanelRows));
                Vector512<float> y = Vector512.LoadUnsafe(ref p, (nuint)(d * PanelRows + 16));
                Vector512<float> c = Vector512.Create(Unsafe.Add(ref q0, d));
                a0 = Vector512.FusedMultiplyAdd(c, x, a0);
                b0 = Vector512.FusedMultiplyAdd(c, y, b0);
                c = Vector512.Create(Unsafe.Add(ref q1, d));
                a1 = Vector512.FusedMultiplyAdd(c, x, a1);
                b1 = Vector512.FusedMultiplyAdd(c, y, b1);
                c = Vector512.Create(Unsafe.Add(ref q2, d));
                a2 = Vector512.FusedMultiplyAdd(c, x, a2);
                b2 = Vector512.FusedMultiplyAdd(c, y, b2);
                c = Vector512.Create(Unsafe.Add(ref q3, d));
                a3 = Vector512.FusedMultiplyAdd(c, x, a3);
                b3 = Vector512.FusedMultiplyAdd(c, y, b3);
                c = Vector512.Create(Unsafe.Add(ref q4, d));
                a4 = Vector512.FusedMultiplyAdd(c, x, a4);
                b4 = Vector512.FusedMultiplyAdd(c, y, b4);
                c = Vector512.Create(Unsafe.Add(ref q5, d));
                a5 = Vector512.FusedMultiplyAdd(c, x, a5);
                b5 = Vector512.FusedMultiplyAdd(c, y, b5);
            }

            a0.StoreUnsafe(ref s, 0); b0.StoreUnsafe(ref s, 16);
            a1.StoreUnsafe(ref s, 32); b1.StoreUnsafe(ref s, 48);
            a2.StoreUnsafe(ref s, 64); b2.StoreUnsafe(ref s, 80);
            a3.StoreUnsafe(ref s, 96); b3.StoreUnsafe(ref s, 112);
            a4.StoreUnsafe(ref s, 128); b4.StoreUnsafe(ref s, 144);
            a5.StoreUnsafe(ref s, 160); b5.StoreUnsafe(ref s, 176);
            return;
        }

        if (Vector256.IsHardwareAccelerated && queryCount == TileQueries)
        {
            // 6 queries x 16 rows per pass (12 of the 16 ymm registers), two passes over the 32-row panel.
            for (int half = 0; half < PanelRows; half += 16)
            {
                ref float q0 = ref MemoryMarshal.GetReference(queries);
                ref float q1 = ref Unsafe.Add(ref q0, dim);
                ref float q2 = ref Unsafe.Add(ref q0, 2 * dim);
                ref float q3 = ref Unsafe.Add(ref q0, 3 * dim);
                ref float q4 = ref Unsafe.Add(ref q0, 4 * dim);
                ref float q5 = ref Unsafe.Add(ref q0, 5 * dim);
                Vector256<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default;
                Vector256<float> a3 = default, b3 = default, a4 = default, b4 = default, a5 = default, b5 = default;
                for (int d = 0; d < dim; d++)
                {
                    Vector256<float> x = Vector256.LoadUnsafe(ref p, (nuint)(d * PanelRows + half));
                    Vector256<float> y = Vector256.LoadUnsafe(ref p, (nuint)(d * PanelRows + half + 8));
                    Vector256<float> c = Vector256.Create(Unsafe.Add(ref q0, d));
                    a0 = Vector256.FusedMultiplyAdd(c, x, a0);
                    b0 = Vector256.FusedMultiplyAdd(c, y, b0);
                    c = Vector256.Create(Unsafe.Add(ref q1, d));
                    a1 = Vector256.FusedMultiplyAdd(c, x, a1);
                    b1 = Vector256.FusedMultiplyAdd(c, y, b1);
                    c = Vector256.Create(Unsafe.Add(ref q2, d));
                    a2 = Vector256.FusedMultiplyAdd(c, x, a2);
                    b2 = Vector256.FusedMultiplyAdd(c, y, b2);
                    c = Vector256.Create(Unsafe.Add(ref q3, d));
                    a3 = Vector256.FusedMultiplyAdd(c, x, a3);
                    b3 = Vector256.FusedMultiplyAdd(c, y, b3);
                    c = Vector256.Create(Unsafe.Add(ref q4, d));
                    a4 = Vector256.FusedMultiplyAdd(c, x, a4);
                    b4 = Vector256.FusedMultiplyAdd(c, y, b4);
                    c = Vector256.Create(Unsafe.Add(ref q5, d));
                    a5 = Vector256.FusedMultiplyAdd(c, x, a5);
                    b5 = Vector256.FusedMultiplyAdd(c, y, b5);
                }

                a0.StoreUnsafe(ref s, (nuint)(0 * PanelRows + half + 0)); b0.StoreUnsafe(ref s, (nuint)(0 * PanelRows + half + 8));
                a1.StoreUnsafe(ref s, (nuint)(1 * PanelRows + half + 0)); b1.StoreUnsafe(ref s, (nuint)(1 * PanelRows + half + 8));
                a2.StoreUnsafe(ref s, (nuint)(2 * PanelRows + half + 0)); b2.StoreUnsafe(ref s, (nuint)(2 * PanelRows + half + 8));
                a3.StoreUnsafe(ref s, (nuint)(3 * PanelRows + half + 0)); b3.StoreUnsafe(ref s, (nuint)(3 * PanelRows + half + 8));
                a4.StoreUnsafe(ref s, (nuint)(4 * PanelRows + half + 0)); b4.StoreUnsafe(ref s, (nuint)(4 * PanelRows + half + 8));
                a5.StoreUnsafe(ref s, (nuint)(5 * PanelRows + half + 0)); b5.StoreUnsafe(ref s, (nuint)(5 * PanelRows + half + 8));
            }

            return;
        }

        // Partial tile or no SIMD: plain loops over the panel.
        for (int qi = 0; qi < queryCount; qi++)
        {
            ReadOnlySpan<float> q = queries.Slice(qi * dim, dim);
            Span<float> row = scores.Slice(qi * PanelRows, PanelRows);
            row.Clear();
            for (int d = 0; d < dim; d++)
            {
                float v = q[d];
                ReadOnlySpan<float> col = panel.Slice(d * PanelRows, PanelRows);
                for (int r = 0; r < PanelRows; r++)
                {
                    row[r] += v * col[r];
                }
            }
        }
    }
}
