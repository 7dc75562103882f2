#!/usr/bin/env bash
# Ghostie's local vector index beside FAISS (IndexFlatIP) and hnswlib (C++ headers, -O3 -march=native) in ONE run on
# the same data: N x D float32 unit vectors with cluster structure, NQ queries, k=K, one thread each.
# Usage: bash benchmarks/compare-vectors.sh        (N=100000 D=384 NQ=1000 K=10 SINGLE=200 by default)
# Prints a table of ratios (ours / theirs) and leaves the raw JSON of every contestant in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
D=${D:-384}
NQ=${NQ:-1000}
K=${K:-10}
SINGLE=${SINGLE:-200}      # single (one-at-a-time) exact queries timed; the batch always uses all NQ
CLUSTERS=${CLUSTERS:-100}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
PY=/usr/bin/python3

if ! $PY -c 'import faiss, hnswlib, numpy' 2>/dev/null || [ ! -f /usr/include/hnswlib/hnswlib.h ] || ! ldconfig -p | grep -q libopenblas; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-faiss python3-hnswlib libhnswlib-dev libopenblas0-pthread g++ >/dev/null
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

echo "data: N=$N D=$D NQ=$NQ K=$K clusters=$CLUSTERS -> $OUT; $(nproc) cores; $(lscpu | sed -n 's/^Model name: *//p'); dotnet $(dotnet --version)"
$PY benchmarks/vectors/gen_data.py "$N" "$D" "$NQ" "$K" "$CLUSTERS" "$OUT"
g++ -O3 -march=native -std=c++17 -o "$OUT/hnswlib_bench" benchmarks/vectors/hnswlib_bench.cpp
dotnet build benchmarks/Ghostie.Sync.VectorBench -c Release -v q -nologo >/dev/null
# One thread each: taskset pins every contestant to the same single core.
CORE=${CORE:-0}
taskset -c "$CORE" $PY benchmarks/vectors/faiss_bench.py "$N" "$D" "$NQ" "$K" "$OUT" "$SINGLE" > "$OUT/faiss.json"
taskset -c "$CORE" "$OUT/hnswlib_bench" "$N" "$D" "$NQ" "$K" "$OUT" > "$OUT/hnswlib.json"
DOTNET_gcServer=0 taskset -c "$CORE" dotnet benchmarks/Ghostie.Sync.VectorBench/bin/Release/net10.0/Ghostie.Sync.VectorBench.dll "$N" "$D" "$NQ" "$K" "$OUT" "$SINGLE" > "$OUT/ghostie.json"
$PY benchmarks/vectors/report.py "$OUT"
