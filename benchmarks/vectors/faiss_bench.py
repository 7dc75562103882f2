"""Times are CPU time of the calling thread (FAISS runs on it with one OpenMP/BLAS thread): the machine is shared.
FAISS side of benchmarks/compare-vectors.sh: IndexFlatIP exact search on one thread, one query at a time and in
one batch of all queries. Prints one JSON object."""
import json, sys, time
import numpy as np
import faiss

n, d, nq, k, data = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
single_queries = int(sys.argv[6])
faiss.omp_set_num_threads(1)
base = np.fromfile(f"{data}/base.f32", dtype=np.float32).reshape(n, d)
queries = np.fromfile(f"{data}/queries.f32", dtype=np.float32).reshape(nq, d)
gt = np.fromfile(f"{data}/gt.i32", dtype=np.int32).reshape(nq, k)
index = faiss.IndexFlatIP(d)
index.add(base)

def recall(ids):
    return float(np.mean([len(set(ids[i]) & set(gt[i])) / k for i in range(ids.shape[0])]))

index.search(queries[:20], k)  # warm-up
best_batch = 1e9
for _ in range(3):
    t = time.thread_time(); _, ids = index.search(queries, k); best_batch = min(best_batch, time.thread_time() - t)
batch_recall = recall(ids)
t = time.thread_time()
single_ids = np.empty((single_queries, k), dtype=np.int64)
for i in range(single_queries):
    _, r = index.search(queries[i:i + 1], k)
    single_ids[i] = r[0]
single = time.thread_time() - t
print(json.dumps({"faiss_version": faiss.__version__, "flat_batch_qps": nq / best_batch, "flat_batch_recall": batch_recall,
                  "flat_single_qps": single_queries / single}))
