#!/usr/bin/env bash
# Compares ObjectCipher seal/open throughput with `openssl speed` on this machine, in one run (about 7 minutes).
#
#   benchmarks/compare-openssl.sh                 # from the repository root (or anywhere)
#   OPENSSL_SECONDS=5 BDN_ITERATIONS=15 benchmarks/compare-openssl.sh   # longer, steadier
#   benchmarks/compare-openssl.sh --report         # print the table of the last run again, measuring nothing
#
# What runs:
#   1. openssl speed -elapsed -evp {aes-256-gcm,chacha20-poly1305} -bytes {65536,16777216} [-decrypt]
#   2. EnvelopeBenchmarks (Release, BenchmarkDotNet --job short with 10 measured iterations instead of 3, JSON
#      exporter) for 64 KiB and 16 MiB payloads; 3 iterations is too few on a shared, noisy machine
#   3. openssl speed again, so drift on a shared machine shows; the reference is the mean of both passes
# Then prints, per cipher, size and direction: our MB/s (span and stream API), the raw BCL AEAD's MB/s, openssl's
# MB/s, and ours as a percentage of openssl next to the target (AES-256-GCM >= 90%, ChaCha20-Poly1305 >= 85%).
# "span / BCL" is the cost of our framing alone (format v2: header, associated data, the writer session or the
# reader's session cache; the key of a session is derived once, so the benchmark's repeated objects do not pay it).
# MB/s is 10^6 bytes of plaintext per second, the unit openssl speed uses. Seal is compared with openssl encrypt,
# open with openssl -decrypt. Needs: dotnet, openssl, python3.
# Results: $ARTIFACTS (default BenchmarkDotNet.Artifacts/compare-openssl/ under the repository root, git-ignored),
# including summary.md with the table.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${OPENSSL_SECONDS:-3}
iterations=${BDN_ITERATIONS:-10}
out=${ARTIFACTS:-$repo/BenchmarkDotNet.Artifacts/compare-openssl}
ciphers=(aes-256-gcm chacha20-poly1305)
sizes=(65536 16777216)

for tool in dotnet openssl python3; do
    command -v "$tool" >/dev/null || { echo "compare-openssl: '$tool' is not on PATH" >&2; exit 1; }
done

openssl_tsv="$out/openssl.tsv"

openssl_pass() {
    local pass=$1 cipher size op value
    for cipher in "${ciphers[@]}"; do
        for size in "${sizes[@]}"; do
            for op in seal open; do
                local args=(speed -elapsed -mr -seconds "$seconds" -bytes "$size" -evp "$cipher")
                [[ $op == open ]] && args+=(-decrypt)
                # -mr prints "+F:<n>:<name>:<bytes per second>"
                value=$(openssl "${args[@]}" 2>/dev/null | awk -F: '/^\+F:/ { print $4 }')
                if [[ -z $value ]]; then
                    echo "compare-openssl: 'openssl ${args[*]}' printed no result" >&2
                    exit 1
                fi
                printf '%s\t%s\t%s\t%s\t%s\n' "$pass" "$cipher" "$size" "$op" "$value" >>"$openssl_tsv"
                printf '  openssl %-17s %9s bytes %-4s %8.0f MB/s\n' "$cipher" "$size" "$op" "$(awk -v v="$value" 'BEGIN { print v / 1e6 }')"
            done
        done
    done
}

measure() {
    rm -rf "$out"
    mkdir -p "$out"
    printf 'pass\tcipher\tbytes\top\tbytes_per_second\n' >"$openssl_tsv"
    (openssl version; awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo; nproc; date '+%Y-%m-%d %H:%M %Z'; echo "$iterations") \
        >"$out/environment.txt"

    # Sample the load average while measuring: other work on a 2-core machine shows up here, and in the
    # difference between the two openssl passes.
    (while :; do cut -d' ' -f1 /proc/loadavg; sleep 10; done) >"$out/load.txt" &
    sampler=$!
    trap 'kill "$sampler" 2>/dev/null || true' EXIT

    echo "== openssl speed, pass 1 ($(openssl version))"
    openssl_pass before

    echo "== BenchmarkDotNet EnvelopeBenchmarks (--job short --iterationCount $iterations), log: $out/benchmarkdotnet.log"
    local filters=() size started
    for size in "${sizes[@]}"; do
        filters+=("*EnvelopeBenchmarks.*(PayloadSize: $size,*")
    done
    started=$(date +%s)
    if ! dotnet run -c Release --project "$repo/benchmarks/Ghostie.Sync.Benchmarks" -- \
            --filter "${filters[@]}" --job short --iterationCount "$iterations" --exporters json --artifacts "$out/bdn" \
            >"$out/benchmarkdotnet.log" 2>&1; then
        tail -n 40 "$out/benchmarkdotnet.log" >&2
        echo "compare-openssl: the benchmark run failed; full log in $out/benchmarkdotnet.log" >&2
        exit 1
    fi
    echo "  done in $(( $(date +%s) - started )) s"

    echo "== openssl speed, pass 2"
    openssl_pass after
    kill "$sampler" 2>/dev/null || true
}

case ${1:-} in
    "") measure ;;
    --report) [[ -f $openssl_tsv ]] || { echo "compare-openssl: no earlier run in $out" >&2; exit 1; } ;;
    *) echo "usage: $0 [--report]" >&2; exit 2 ;;
esac

python3 - "$out" <<'PY'
import csv, glob, json, os, sys, statistics

out = sys.argv[1]
with open(os.path.join(out, "environment.txt")) as f:
    openssl_version, cpu_model, cores, run_date, iterations = f.read().splitlines()[:5]
names = {"aes-256-gcm": "Aes256Gcm", "chacha20-poly1305": "ChaCha20Poly1305"}
labels = {"Aes256Gcm": "AES-256-GCM", "ChaCha20Poly1305": "ChaCha20-Poly1305"}
targets = {"Aes256Gcm": 0.90, "ChaCha20Poly1305": 0.85}

passes = {}
with open(os.path.join(out, "openssl.tsv")) as f:
    for row in csv.DictReader(f, delimiter="\t"):
        key = (names[row["cipher"]], int(row["bytes"]), row["op"])
        passes.setdefault(key, []).append(float(row["bytes_per_second"]) / 1e6)

reports = glob.glob(os.path.join(out, "bdn", "results", "*EnvelopeBenchmarks*.json"))
if len(reports) != 1:
    sys.exit(f"compare-openssl: expected one EnvelopeBenchmarks JSON report, found {reports}")
with open(reports[0]) as f:
    report = json.load(f)

ours = {}
for b in report["Benchmarks"]:
    params = dict(p.split("=", 1) for p in b["Parameters"].split("&"))
    size, cipher = int(params["PayloadSize"]), params["Cipher"]
    stats = b.get("Statistics")
    if not stats:
        sys.exit(f"compare-openssl: {b['FullName']} has no measurements (did it fail?)")
    mean_ns = stats["Mean"]
    ours[(cipher, size, b["Method"])] = {
        "mbps": size / mean_ns * 1e3,  # bytes/ns * 1e9 / 1e6
        "rsd": stats["StandardDeviation"] / mean_ns,
        "alloc": b["Memory"]["BytesAllocatedPerOperation"],
    }

methods = {"seal": ("Seal", "SealStream", "BclEncrypt"), "open": ("Open", "OpenStream", "BclDecrypt")}
host = report["HostEnvironmentInfo"]
lines = [
    f"Run {run_date}; {cpu_model}, {cores} cores (shared); {openssl_version}; "
    f"{host.get('RuntimeVersion', '.NET ?')}; BenchmarkDotNet {host.get('BenchmarkDotNetVersion', '?')} --job short --iterationCount {iterations}.",
    "",
    "| cipher | size | op | ours, span (MB/s) | ours, stream (MB/s) | BCL AEAD, 64 KiB calls (MB/s) | openssl speed (MB/s, 2 passes) | span / BCL | span / openssl | stream / openssl | target | met (span) |",
    "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
]
all_met = True
for cipher in ("Aes256Gcm", "ChaCha20Poly1305"):
    for size in sorted({k[1] for k in ours}):
        for op, (span_m, stream_m, bcl_m) in methods.items():
            span, stream, bcl = (ours.get((cipher, size, m)) for m in (span_m, stream_m, bcl_m))
            ref = passes.get((cipher, size, op))
            if not (span and stream and bcl and ref):
                sys.exit(f"compare-openssl: missing results for {cipher} {size} {op}")
            ref_mean = statistics.mean(ref)
            ratio, stream_ratio = span["mbps"] / ref_mean, stream["mbps"] / ref_mean
            met = ratio >= targets[cipher]
            all_met &= met
            size_label = f"{size // 1024} KiB" if size < 1 << 20 else f"{size // (1 << 20)} MiB"
            lines.append(
                f"| {labels[cipher]} | {size_label} | {op} | {span['mbps']:,.0f} (±{span['rsd']:.0%}) | {stream['mbps']:,.0f} (±{stream['rsd']:.0%}) "
                f"| {bcl['mbps']:,.0f} | {ref_mean:,.0f} ({' / '.join(f'{v:,.0f}' for v in ref)}) | {span['mbps'] / bcl['mbps']:.0%} | {ratio:.0%} | {stream_ratio:.0%} "
                f"| ≥ {targets[cipher]:.0%} | {'yes' if met else 'no'} |")

lines += ["", "Allocated per operation (bytes; BenchmarkDotNet MemoryDiagnoser):", "",
          "| cipher | size | " + " | ".join(m for ms in methods.values() for m in ms) + " |",
          "|---|---|" + "--:|" * 6]
for cipher in ("Aes256Gcm", "ChaCha20Poly1305"):
    for size in sorted({k[1] for k in ours}):
        cells = [str(ours[(cipher, size, m)]["alloc"]) for ms in methods.values() for m in ms]
        lines.append(f"| {labels[cipher]} | {size} | " + " | ".join(cells) + " |")

drift = max(abs(v[0] - v[-1]) / statistics.mean(v) for v in passes.values())
lines += ["", f"All span targets met: {'yes' if all_met else 'no'}"]
loads = []
if os.path.exists(os.path.join(out, "load.txt")):
    with open(os.path.join(out, "load.txt")) as f:
        loads = [float(x) for x in f.read().split()]
if loads:
    # Our own benchmark keeps about one core busy, so a 1-minute load average near 1 is an idle machine.
    lines.append(f"1-minute load average during the run: {min(loads):.1f} to {max(loads):.1f} ({len(loads)} samples).")
if loads and max(loads) > 2.0:
    lines.append("WARNING: the load average went above 2 on this run: something else was using the CPU; run again when the machine is idle.")
if drift > 0.10:
    lines.append(f"WARNING: openssl's two passes differ by up to {drift:.0%}: the machine was busy during this run; "
                 "run again when it is idle before trusting these ratios.")
text = "\n".join(lines)
print(text)
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write(text + "\n")
PY
echo "(table saved to $out/summary.md)"
