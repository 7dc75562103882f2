"""Writes the shared data set of benchmarks/compare-vectors.sh (fixed seed): N x D float32 unit vectors in C clusters
(a random centre per cluster plus Gaussian noise, so neighbours are structured, not uniform noise), NQ queries
drawn the same way, and the exact top-K neighbour ids of every query (inner product) as ground truth."""
import sys
import numpy as np

n, d, nq, k, clusters, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
rng = np.random.default_rng(20261121)
centres = rng.standard_normal((clusters, d)).astype(np.float32)
centres /= np.linalg.norm(centres, axis=1, keepdims=True)

def draw(count):
    labels = rng.integers(0, clusters, count)
    x = centres[labels] + rng.standard_normal((count, d)).astype(np.float32) * (0.9 / np.sqrt(d)) * rng.uniform(0.5, 1.5, (count, 1)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x, dtype=np.float32)

base = draw(n)
queries = draw(nq)
base.tofile(f"{out}/base.f32")
queries.tofile(f"{out}/queries.f32")
# Exact ground truth in blocks (float32 inner products, ties broken by id).
gt = np.empty((nq, k), dtype=np.int32)
for s in range(0, nq, 100):
    scores = queries[s:s + 100] @ base.T
    idx = np.argpartition(-scores, k, axis=1)[:, :k]
    for i in range(idx.shape[0]):
        order = np.lexsort((idx[i], -scores[i, idx[i]]))
        gt[s + i] = idx[i][order]
gt.tofile(f"{out}/gt.i32")
print(f"data: {n} x {d} base, {nq} queries, {clusters} clusters, k={k}")
