#!/usr/bin/env python3
"""Writes the handoff fidelity corpus: sessions and their hand labels.

    python3 benchmarks/handoff-corpus/generate.py [--out DIR]

Deterministic: fixed seeds, no clock, no environment, gzip with mtime 0, so a rerun reproduces every file
byte for byte (on the same zlib; see README.md). Sessions over 300 kB are written gzip-compressed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import story_ledger  # noqa: E402
import story_team  # noqa: E402
import story_compaction  # noqa: E402
import story_sidechain  # noqa: E402
import story_meta  # noqa: E402
import story_chatgpt  # noqa: E402
import story_claudeai  # noqa: E402
import story_small  # noqa: E402

DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "Ghostie.Sync.Handoff.Tests", "Corpus", "fidelity"))
GZIP_OVER = 300_000

LONG = [story_ledger.build, story_team.build, story_compaction.build, story_sidechain.build, story_meta.build,
        story_chatgpt.build_schema, story_chatgpt.build_analysis, story_claudeai.build]
SMALL = [story_small.build_cc, story_small.build_chatgpt, story_small.build_claudeai]


def write(out_dir: str, data: bytes, labels: dict) -> tuple[str, int, int]:
    name = labels["session"]
    stem = name[:-3] if name.endswith(".gz") else name
    if len(data) > GZIP_OVER:
        if not name.endswith(".gz"):
            raise SystemExit(f"{stem} is {len(data)} bytes; its label must name it {stem}.gz")
        payload = gzip.compress(data, compresslevel=9, mtime=0)
    else:
        if name.endswith(".gz"):
            raise SystemExit(f"{stem} is only {len(data)} bytes; its label must name it {stem} (no .gz)")
        payload = data
    labels = dict(labels)
    labels["uncompressed_bytes"] = len(data)
    with open(os.path.join(out_dir, name), "wb") as fh:
        fh.write(payload)
    label_name = stem.rsplit(".", 1)[0] + ".labels.json"
    with open(os.path.join(out_dir, label_name), "w", encoding="utf-8", newline="\n") as fh:
        json.dump(labels, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
    return name, len(data), len(payload)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", help="substring of a session name")
    args = ap.parse_args()
    small_dir = os.path.join(args.out, "small")
    os.makedirs(small_dir, exist_ok=True)
    for group, target in ((LONG, args.out), (SMALL, small_dir)):
        for build in group:
            data, labels = build()
            if args.only and args.only not in labels["session"]:
                continue
            name, raw, stored = write(target, data, labels)
            print(f"{os.path.relpath(os.path.join(target, name), args.out):48} {raw:>9} bytes  stored {stored:>9}")


if __name__ == "__main__":
    main()
