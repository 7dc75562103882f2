#!/usr/bin/env python3
"""Checks the handoff fidelity corpus: every session parses in its format, sizes are in range, and every
verbatim string a label quotes occurs in its session (instructions in the very message they name).

    python3 benchmarks/handoff-corpus/validate.py [DIR]

Exit status 0 when everything holds, 1 otherwise (each problem printed).
"""

from __future__ import annotations

import gzip
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "Ghostie.Sync.Handoff.Tests", "Corpus", "fidelity"))
COMPACT_PREFIX = ("This session is being continued from a previous conversation that ran out of context. "
                  "The conversation is summarized below:")
LONG_MIN = 200_000
# user-role lines Claude Code writes itself (command echoes, shell escapes, teammates, interruptions)
INJECTED = ("<command-name>", "<command-message>", "<local-command-stdout>", "<bash-input>", "<bash-stdout>",
            "<teammate-message", "[Request interrupted by user")
SMALL_RANGE = (30_000, 60_000)
REPO_BUDGET = 4_000_000


class Problems(list):
    def add(self, where, what):
        self.append(f"{where}: {what}")


def strings(obj, out):
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            strings(v, out)
    elif isinstance(obj, list):
        for v in obj:
            strings(v, out)
    return out


# ---------------------------------------------------------------------------------------------- formats


def check_claude_code(name, data, p):
    """Returns ({uuid: text of a person-typed message}, searchable text)."""
    text = data.decode("utf-8")
    if not text.endswith("\n"):
        p.add(name, "last line has no newline")
    seen = {}
    tool_ids = set()
    persons = {}
    corpus = []
    session_ids = set()
    for n, raw in enumerate(text.split("\n")[:-1], 1):
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            p.add(name, f"line {n} is not JSON: {exc}")
            continue
        if not isinstance(obj, dict) or "type" not in obj:
            p.add(name, f"line {n} is not an object with a type")
            continue
        strings(obj, corpus)
        t = obj["type"]
        if t in ("summary", "file-history-snapshot"):
            continue
        u = obj.get("uuid")
        if not u or u in seen:
            p.add(name, f"line {n}: missing or repeated uuid {u!r}")
        parent = obj.get("parentUuid")
        if parent is not None and parent not in seen:
            p.add(name, f"line {n}: parentUuid {parent} is not an earlier line")
        if parent in seen and seen[parent].get("isSidechain") != obj.get("isSidechain") and not obj.get("isSidechain"):
            p.add(name, f"line {n}: main-chain line hangs off a sidechain line")
        if t == "system" and obj.get("subtype") == "compact_boundary":
            if parent is not None:
                p.add(name, f"line {n}: compact_boundary must start a new chain (parentUuid null)")
            if obj.get("logicalParentUuid") not in seen:
                p.add(name, f"line {n}: compact_boundary logicalParentUuid is not an earlier line")
        if parent is None and t != "system" and n > 3 and not obj.get("isSidechain"):
            p.add(name, f"line {n}: a second root on the main chain")
        session_ids.add(obj.get("sessionId"))
        seen[u] = obj
        msg = obj.get("message") or {}
        content = msg.get("content")
        if t == "assistant":
            for b in content or []:
                if b.get("type") == "tool_use":
                    tool_ids.add(b["id"])
        if t == "user":
            if obj.get("isCompactSummary") and not (isinstance(content, str) and content.startswith(COMPACT_PREFIX)):
                p.add(name, f"line {n}: isCompactSummary without the compaction preamble")
            if isinstance(content, list):
                for b in content:
                    if b.get("type") == "tool_result" and b.get("tool_use_id") not in tool_ids:
                        p.add(name, f"line {n}: tool_result for unknown tool_use_id {b.get('tool_use_id')}")
            typed = None
            if not obj.get("isMeta") and not obj.get("isCompactSummary") and not obj.get("isSidechain"):
                if isinstance(content, str):
                    typed = content
                elif isinstance(content, list) and content and content[0].get("type") == "text" \
                        and not any(b.get("type") == "tool_result" for b in content):
                    typed = content[0]["text"]
            if typed is not None and not typed.startswith(INJECTED):
                persons[u] = typed
    if len(session_ids) != 1:
        p.add(name, f"expected one sessionId, found {len(session_ids)}")
    return persons, "\n".join(corpus)


def check_chatgpt(name, data, labels, p):
    convs = json.loads(data)
    if not isinstance(convs, list) or not convs:
        p.add(name, "conversations.json must be a non-empty list")
        return {}, ""
    target = None
    for c in convs:
        cid = c.get("conversation_id") or c.get("id")
        m = c.get("mapping")
        if not isinstance(m, dict) or c.get("current_node") not in m:
            p.add(name, f"conversation {cid}: current_node not in mapping")
            continue
        for k, node in m.items():
            if node.get("id") != k:
                p.add(name, f"{cid}: node key {k} != id")
            par = node.get("parent")
            if par is not None and (par not in m or k not in m[par]["children"]):
                p.add(name, f"{cid}: node {k} has parent {par} that does not list it")
            for ch in node.get("children", []):
                if ch not in m or m[ch].get("parent") != k:
                    p.add(name, f"{cid}: child {ch} of {k} does not point back")
        # current path: from current_node up to the root
        path, cur, hops = [], c["current_node"], 0
        while cur is not None and hops <= len(m):
            path.append(cur)
            cur = m[cur]["parent"]
            hops += 1
        if cur is not None:
            p.add(name, f"{cid}: parent chain from current_node does not reach a root (cycle?)")
        if cid == labels.get("conversation_id"):
            target = (m, list(reversed(path)))
    if target is None:
        p.add(name, f"labelled conversation {labels.get('conversation_id')} not found")
        return {}, ""
    m, path = target
    persons, corpus = {}, []
    for k in path:
        msg = m[k]["message"]
        if not msg:
            continue
        strings(msg.get("content"), corpus)
        if msg["author"]["role"] == "user":
            persons[k] = "".join(x for x in msg["content"].get("parts", []) if isinstance(x, str))
    return persons, "\n".join(corpus)


def check_claude_ai(name, data, labels, p):
    convs = json.loads(data)
    if not isinstance(convs, list) or not convs:
        p.add(name, "conversations.json must be a non-empty list")
        return {}, ""
    target = None
    for c in convs:
        msgs = c.get("chat_messages")
        if not isinstance(msgs, list):
            p.add(name, f"{c.get('uuid')}: no chat_messages list")
            continue
        ids = set()
        last = ""
        for mm in msgs:
            if mm.get("sender") not in ("human", "assistant"):
                p.add(name, f"{c.get('uuid')}: sender {mm.get('sender')!r}")
            if mm.get("uuid") in ids:
                p.add(name, f"{c.get('uuid')}: repeated message uuid")
            ids.add(mm.get("uuid"))
            if mm.get("created_at", "") < last:
                p.add(name, f"{c.get('uuid')}: messages out of time order")
            last = mm.get("created_at", "")
            joined = "".join(b.get("text", "") for b in mm.get("content", []) if b.get("type") == "text")
            if joined != mm.get("text"):
                p.add(name, f"{c.get('uuid')}: text and content[] disagree for {mm.get('uuid')}")
        if c.get("uuid") == labels.get("conversation_id"):
            target = msgs
    if target is None:
        p.add(name, f"labelled conversation {labels.get('conversation_id')} not found")
        return {}, ""
    persons = {mm["uuid"]: mm["text"] for mm in target if mm["sender"] == "human"}
    corpus = []
    for mm in target:
        corpus.append(mm["text"])
        for a in mm.get("attachments", []):
            corpus.append(a.get("extracted_content", ""))
    return persons, "\n".join(corpus)


# ---------------------------------------------------------------------------------------------- labels


def check_labels(name, labels, persons, corpus, p):
    def need(s, what):
        if not isinstance(s, str) or not s:
            p.add(name, f"{what}: empty")
        elif s not in corpus:
            p.add(name, f"{what}: not found verbatim in the session: {s[:80]!r}")

    ins = labels["instructions"]
    order = list(persons)
    prev = -1
    for i in ins:
        mid = i["message_id"]
        if mid not in persons:
            p.add(name, f"instruction {i['index']}: {mid} is not a message the person typed")
            continue
        if i.get("verbatim") and i["text"] != persons[mid]:
            p.add(name, f"instruction {i['index']}: text differs from the message")
        pos = order.index(mid)
        if pos <= prev:
            p.add(name, f"instruction {i['index']}: out of order")
        prev = pos
    if not ins:
        p.add(name, "no instructions")
    else:
        if [x["last"] for x in ins].count(True) != 1 or not ins[-1]["last"]:
            p.add(name, "exactly the final instruction must be flagged last")
        if labels["last_instruction"]["message_id"] != ins[-1]["message_id"]:
            p.add(name, "last_instruction does not name the final instruction")
        # the last instruction is the person's last typed message that asks for something
        if order and order[-1] != ins[-1]["message_id"]:
            p.add(name, "a person message follows the flagged last instruction")
    need(labels["primary_request"]["evidence"], "primary_request.evidence")
    for k, d in enumerate(labels["decisions"]):
        if not d.get("reason"):
            p.add(name, f"decision {k}: no reason")
        for q in d["evidence"]:
            need(q, f"decision {k} evidence")
    for k, fl in enumerate(labels["files"]):
        need(fl["path"], f"file {k}")
    for k, e in enumerate(labels["errors"]):
        need(e["error"], f"error {k}")
        need(e["fix_evidence"], f"error {k} fix_evidence")
    for k, t in enumerate(labels["pending_tasks"]):
        need(t["evidence"], f"pending {k}")
    need(labels["current_work"]["evidence"], "current_work.evidence")
    need(labels["next_step"]["evidence"], "next_step.evidence")
    for k, q in enumerate(labels.get("not_instructions", [])):
        need(q, f"not_instructions {k}")
        if any(q in t for t in (persons[i["message_id"]] for i in ins if i["message_id"] in persons)):
            p.add(name, f"not_instructions {k} occurs inside a labelled instruction")


def main() -> int:
    root = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR
    p = Problems()
    total = 0
    rows = []
    for sub, small in (("", False), ("small", True)):
        d = os.path.join(root, sub)
        for fn in sorted(os.listdir(d)):
            if not fn.endswith(".labels.json"):
                continue
            with open(os.path.join(d, fn), encoding="utf-8") as fh:
                labels = json.load(fh)
            sess = labels["session"]
            path = os.path.join(d, sess)
            if not os.path.exists(path):
                p.add(fn, f"session file {sess} missing")
                continue
            raw = open(path, "rb").read()
            data = gzip.decompress(raw) if sess.endswith(".gz") else raw
            total += len(raw) + os.path.getsize(os.path.join(d, fn))
            name = os.path.join(sub, sess)
            if labels.get("uncompressed_bytes") != len(data):
                p.add(name, "uncompressed_bytes in labels does not match")
            if small and not (SMALL_RANGE[0] <= len(data) <= SMALL_RANGE[1]):
                p.add(name, f"small session is {len(data)} bytes, outside {SMALL_RANGE}")
            if not small and len(data) < LONG_MIN:
                p.add(name, f"long session is only {len(data)} bytes")
            if sess.endswith(".gz") != (len(data) > 300_000):
                p.add(name, "gzip exactly when over 300 kB")
            fmt = labels["format"]
            before = len(p)
            if fmt == "claude-code-jsonl":
                persons, corpus = check_claude_code(name, data, p)
            elif fmt == "chatgpt-export":
                persons, corpus = check_chatgpt(name, data, labels, p)
            elif fmt == "claude-ai-export":
                persons, corpus = check_claude_ai(name, data, labels, p)
            else:
                p.add(name, f"unknown format {fmt}")
                continue
            check_labels(name, labels, persons, corpus, p)
            whole = "\n".join(strings(json.loads(data), [])) if fmt != "claude-code-jsonl" else ""
            for q in labels.get("off_path_distractors", []):
                if q in corpus:
                    p.add(name, f"off-path distractor is on the current path: {q[:60]!r}")
                elif q not in whole:
                    p.add(name, f"off-path distractor is nowhere in the file: {q[:60]!r}")
            rows.append((name, fmt, len(data), len(raw), len(labels["instructions"]), len(labels["decisions"]),
                         len(labels["files"]), "ok" if len(p) == before else "PROBLEMS"))
    for r in rows:
        print(f"{r[0]:46} {r[1]:18} {r[2]:>8} B (stored {r[3]:>7})  instr {r[4]:>2}  decisions {r[5]:>2}  files {r[6]:>2}  {r[7]}")
    print(f"total stored (sessions + labels): {total} bytes")
    gen_dir = HERE
    extra = sum(os.path.getsize(os.path.join(gen_dir, f)) for f in os.listdir(gen_dir) if os.path.isfile(os.path.join(gen_dir, f)))
    if total + extra > REPO_BUDGET:
        p.add("corpus", f"{total + extra} bytes with the generator, over the {REPO_BUDGET} budget")
    if len(rows) < 8 + 2:
        p.add("corpus", f"only {len(rows)} sessions")
    for x in p:
        print("PROBLEM", x)
    print("OK" if not p else f"{len(p)} problem(s)")
    return 0 if not p else 1


if __name__ == "__main__":
    sys.exit(main())
