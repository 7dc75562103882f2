"""Prints the ratio table of benchmarks/compare-vectors.sh from the contestants' JSON files."""
import json, sys

out = sys.argv[1]
g = json.load(open(f"{out}/ghostie.json"))
f = json.load(open(f"{out}/faiss.json"))
h = json.load(open(f"{out}/hnswlib.json"))

def at_recall(sweep, floor=0.95):
    ok = [s for s in sweep if s["recall"] >= floor]
    return max(ok, key=lambda s: s["qps"]) if ok else None

rows = []
def row(name, ours, theirs, ratio, target, met):
    rows.append((name, ours, theirs, ratio, target, "met" if met else "NOT met"))

stream = max(g["stream_gbps"], h["stream_gbps"])
r = g["exact_single_vs_stream_median_ratio"]
row("exact single-query vs streaming read", f'{g["exact_single_gbps"]:.1f} GB/s ({g["exact_single_qps"]:.0f} q/s)',
    f'stream {g["stream_gbps"]:.1f} GB/s (C# pass), {h["stream_gbps"]:.1f} (C++ pass)', f"{r:.2f} (paired median)", ">= 0.75", r >= 0.75)
row("exact single-query vs FAISS single", f'{g["exact_single_qps"]:.0f} q/s', f'{f["flat_single_qps"]:.0f} q/s',
    f'{g["exact_single_qps"] / f["flat_single_qps"]:.2f}', "(info)", True)
rb = g["exact_batch_qps"] / f["flat_batch_qps"]
row("exact batched vs FAISS IndexFlatIP", f'{g["exact_batch_qps"]:.0f} q/s (recall {g["exact_batch_recall"]:.3f})',
    f'{f["flat_batch_qps"]:.0f} q/s (recall {f["flat_batch_recall"]:.3f})', f"{rb:.2f}", ">= 1.00", rb >= 1.0)
og, oh = at_recall(g["sweep"]), at_recall(h["sweep"])
if og and oh:
    rq = og["qps"] / oh["qps"]
    row("HNSW qps at recall@10 >= 0.95", f'{og["qps"]:.0f} q/s (ef {og["ef"]}, recall {og["recall"]:.3f})',
        f'{oh["qps"]:.0f} q/s (ef {oh["ef"]}, recall {oh["recall"]:.3f})', f"{rq:.2f}", ">= 1.00", rq >= 1.0)
for s in g["sweep"]:
    t = next((x for x in h["sweep"] if x["ef"] == s["ef"]), None)
    if t:
        rows.append((f'  ef={s["ef"]}', f'recall {s["recall"]:.3f}, {s["qps"]:.0f} q/s', f'recall {t["recall"]:.3f}, {t["qps"]:.0f} q/s', f'{s["qps"] / t["qps"]:.2f}', "", ""))
rbuild = g["build_s"] / h["build_s"]
row("HNSW build time (M=16, efC=200)", f'{g["build_s"]:.1f} s', f'{h["build_s"]:.1f} s', f"{rbuild:.2f}", "<= 1.50", rbuild <= 1.5)
rr = g["build_s"] / g["reload_s"]
row("reload vs rebuild (ours)", f'reload {g["reload_s"]:.3f} s', f'rebuild {g["build_s"]:.1f} s', f"{rr:.0f}x", ">= 10x", rr >= 10)
raw_graph = g["raw_vector_bytes"] + (g["index_bytes"] - g["raw_vector_bytes"])
rs = g["file_bytes"] / g["index_bytes"]
row("index file vs raw vectors + graph", f'{g["file_bytes"] / 1e6:.1f} MB file', f'{g["index_bytes"] / 1e6:.1f} MB vectors+links (hnswlib file {h["file_bytes"] / 1e6:.1f} MB)',
    f"{rs:.3f}", "<= 1.10", rs <= 1.10)
w = [max(len(str(x[i])) for x in rows + [("what", "ours", "theirs", "ratio", "target", "")]) for i in range(6)]
print("  ".join(s.ljust(w[i]) for i, s in enumerate(("what", "ours", "theirs", "ratio", "target", ""))))
for x in rows:
    print("  ".join(str(s).ljust(w[i]) for i, s in enumerate(x)))
