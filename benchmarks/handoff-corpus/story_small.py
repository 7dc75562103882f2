"""The small corpus for fast tests: three short sessions (30-60 kB), one per format, each with its own story."""

import random

from corpuslib import (ChatGPTConversation, ClaudeAiConversation, ClaudeCodeSession, Filler, chatgpt_export,
                       claude_ai_export, rid)
from labels import D, E, F, S, T, make_labels

PANIC_OLD = '''pub fn first_heading(doc: &str) -> &str {
    let line = doc.lines().find(|l| l.starts_with('#')).unwrap();
    line.trim_start_matches('#').trim()
}'''

PANIC_NEW = '''pub fn first_heading(doc: &str) -> Option<&str> {
    doc.lines()
        .find(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
}'''


def rust_module(rng, f, snippets, n):
    fns = []
    for _ in range(n):
        name = f.snake()
        body = "\n".join(f"    let {f._n()} = {f._n()}.{rng.choice(['len()', 'clone()', 'trim()', 'is_empty()'])};" for _ in range(rng.randint(2, 7)))
        fns.append(f"pub fn {name}({f._n()}: &str) -> usize {{\n{body}\n    {rng.randint(0, 9)}\n}}")
    for sn in snippets:
        fns.insert(rng.randint(0, len(fns)), sn)
    return "use std::path::Path;\n\n" + "\n\n".join(fns) + "\n"


def build_cc(seed=9901):
    rng = random.Random(seed)
    f = Filler(rng, ["heading", "slug", "front_matter", "link", "anchor", "page", "toc"], ["parse", "render", "collect", "strip"])
    s = ClaudeCodeSession(rng, cwd="/home/kees/src/quillmark", branch="main", version="2.0.8",
                          model="claude-sonnet-4-5-20250929", start="2025-09-30T19:20:00.000Z")
    root = s.cwd
    s.files[f"{root}/src/toc.rs"] = rust_module(rng, f, [PANIC_OLD], 14)
    s.files[f"{root}/src/main.rs"] = rust_module(rng, f, [], 10)
    s.person("quillmark panics on an empty markdown file: `thread 'main' panicked at src/toc.rs:41:58: called "
             "`Option::unwrap()` on a `None` value`. fix it so a file without headings just gets no toc")
    s.grep("unwrap\\(\\)", [f"{root}/src/toc.rs:41:    let line = doc.lines().find(|l| l.starts_with('#')).unwrap();"], mode="content")
    s.read("src/toc.rs")
    s.edit("src/toc.rs", PANIC_OLD, PANIC_NEW, note="Returning an Option instead of unwrapping; callers decide what no heading means.")
    s.bash("cargo build", "", stderr="error[E0308]: mismatched types\n  --> src/main.rs:27:20\n   |\n27 |     let title: &str = toc::first_heading(&doc);\n   |                ----   ^^^^^^^^^^^^^^^^^^^^^^^^ expected `&str`, found `Option<&str>`", code=101)
    s.read("src/main.rs")
    s.files[f"{root}/src/main.rs"] += "\nfn title_of(doc: &str) -> String {\n    let title: &str = toc::first_heading(&doc);\n    title.to_string()\n}\n"
    s.edit("src/main.rs", "    let title: &str = toc::first_heading(&doc);\n    title.to_string()",
           "    toc::first_heading(doc).unwrap_or(\"\").to_string()")
    s.compact("Analysis:\nThe user reported a panic in quillmark on an empty markdown file. `first_heading` in src/toc.rs unwrapped "
              "the result of finding a heading. It now returns Option<&str>; main.rs was adapted.\n\nSummary:\n"
              "1. Primary Request and Intent: a file without headings must produce no TOC instead of panicking.\n"
              "2. Files: src/toc.rs (first_heading returns Option), src/main.rs (title_of uses unwrap_or(\"\")).\n"
              "3. Errors and fixes: E0308 mismatched types in main.rs after the signature change; fixed with unwrap_or.\n"
              "4. Pending Tasks: add a regression test for the empty file.\n5. Current Work: cargo build after the main.rs change.\n",
              trigger="manual", pre_tokens=41200)
    s.bash("cargo build && cargo test", "   Compiling quillmark v0.3.1 (/home/kees/src/quillmark)\n    Finished `test` profile [unoptimized + debuginfo] target(s) in 3.91s\n     Running unittests src/main.rs\n\nrunning 23 tests\n" +
           "\n".join(f"test toc::tests::{f.snake()} ... ok" for _ in range(23)) + "\n\ntest result: ok. 23 passed; 0 failed; 0 ignored")
    s.write("tests/empty_file.rs", "use assert_cmd::Command;\n\n#[test]\nfn empty_file_gets_no_toc() {\n    let out = Command::cargo_bin(\"quillmark\").unwrap().arg(\"tests/fixtures/empty.md\").output().unwrap();\n    assert!(out.status.success());\n    assert!(!String::from_utf8_lossy(&out.stdout).contains(\"<nav class=\\\"toc\\\">\"));\n}\n")
    s.write("tests/fixtures/empty.md", "")
    s.bash("cargo test --test empty_file", "running 1 test\ntest empty_file_gets_no_toc ... ok\n\ntest result: ok. 1 passed; 0 failed")
    s.person("should an empty title be an empty string or should we fall back to the file name?")
    s.say("The file name is more useful in the browser tab and in the sitemap than an empty `<title>`. "
          "Most static site generators (Hugo, Zola) do the same. I'd use the file stem, `empty` for `empty.md`.")
    s.person("file stem, yes")
    s.edit("src/main.rs", "    toc::first_heading(doc).unwrap_or(\"\").to_string()",
           "    toc::first_heading(doc).map(str::to_string).unwrap_or_else(|| stem.to_string())")
    s.say("Done. Titles fall back to the file stem when there's no heading, the TOC is omitted, and there's a "
          "regression test for the empty file. All 24 tests pass. " + " ".join(
              f"`{f.snake()}` is unaffected." for _ in range(3)))
    s.person("commit it", pause=2)
    F_ = lambda rel, mod: F(f"{root}/{rel}", modified=mod, rel=rel)  # noqa: E731
    labels = make_labels(
        session="cc-quillmark-small.jsonl", fmt="claude-code-jsonl",
        features=["small", "compaction", "errors-and-fixes", "one-word-last-instruction"],
        primary_request=S("Fix the panic on markdown files without headings so they just get no table of contents.",
                          "fix it so a file without headings just gets no toc"),
        instructions=[{"id": m["uuid"], "text": m["text"]} for m in s.person_messages],
        decisions=[D("first_heading returns Option<&str> instead of unwrapping.", "A document may have no heading.",
                     "Returning an Option instead of unwrapping"),
                   D("A page without a heading gets its file stem as title.", "More useful than an empty title in tabs and sitemaps.",
                     "file stem, yes")],
        files=[F_("src/toc.rs", True), F_("src/main.rs", True), F_("tests/empty_file.rs", True), F_("tests/fixtures/empty.md", True)],
        errors=[E("called `Option::unwrap()` on a `None` value", "first_heading returns an Option.", "pub fn first_heading(doc: &str) -> Option<&str>"),
                E("error[E0308]: mismatched types", "main.rs adapted to the Option.", "unwrap_or")],
        pending_tasks=[T("Commit the fix.", "commit it")],
        current_work=S("Fix, fallback title and regression test done; 24 tests pass.", "All 24 tests pass."),
        next_step=S("Commit.", "commit it"),
    )
    return s.render(), labels


def build_chatgpt(seed=9902):
    rng = random.Random(seed)
    c = ChatGPTConversation(rng, "GitHub Actions cache never hits", "2025-04-14T06:50:00Z")
    wf = ("name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
          "      - uses: actions/cache@v4\n        with:\n          path: ~/.cache/pip\n          key: pip-${{ runner.os }}-${{ github.sha }}\n"
          "      - run: pip install -r requirements.txt\n      - run: pytest -q\n")
    log = "\n".join(f"Collecting {rng.choice(['numpy', 'pandas', 'scipy', 'requests', 'pydantic', 'sqlalchemy', 'httpx', 'rich'])}=={rng.randint(1, 3)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}\n  Downloading {rng.choice(['numpy', 'pandas', 'scipy'])}-{rng.randint(1, 2)}.{rng.randint(0, 9)}-cp311-cp311-manylinux_2_17_x86_64.whl ({rng.randint(1, 60)}.{rng.randint(0, 9)} MB)" for _ in range(180))
    c.user("our CI cache never hits, every run downloads everything again. workflow:\n\n" + wf + "\nand the install step log:\n\n" + log)
    c.assistant("The key includes `${{ github.sha }}`, which is different on every commit, so every run writes a new "
                "cache and never finds an old one. Key it on what actually determines the contents, the "
                "requirements file:\n\n```yaml\n      - uses: actions/cache@v4\n        with:\n          path: ~/.cache/pip\n"
                "          key: pip-${{ runner.os }}-${{ hashFiles('requirements.txt') }}\n          restore-keys: |\n            pip-${{ runner.os }}-\n```\n\n"
                "`restore-keys` lets a run with changed requirements start from the most recent cache instead of empty.")
    edited_from = c.tip
    c.user("would setup-python's built-in cache be better?")
    c.assistant("Yes, `actions/setup-python@v5` with `cache: 'pip'` does the same keying for you.")
    c.branch_from(edited_from)
    c.person_messages.pop()
    c.user("would setup-python's built-in cache be simpler? we pin python 3.11 anyway")
    c.assistant("It would: `actions/setup-python@v5` with `cache: 'pip'` hashes your requirements files and restores "
                "`~/.cache/pip` for you, and since you pin 3.11 you need the step anyway:\n\n```yaml\n      - uses: actions/setup-python@v5\n"
                "        with:\n          python-version: '3.11'\n          cache: 'pip'\n```\n\nThen drop the `actions/cache` step. "
                "Note it caches pip's download cache, not the installed packages, so installs still take some seconds.\n\n" +
                "\n".join(f"- `{rng.choice(['numpy', 'pandas', 'scipy', 'httpx'])}` wheel {rng.randint(1, 60)} MB: served from cache after the first run" for _ in range(40)))
    c.user("setup-python's cache then, drop the separate cache step")
    c.user("the install still takes 90 s, here's the log with the cache hitting:\n\n" + "\n".join(
        f"Using cached {rng.choice(['numpy', 'pandas', 'scipy', 'requests'])}-{rng.randint(1, 2)}.{rng.randint(0, 9)}-cp311-cp311-manylinux_2_17_x86_64.whl ({rng.randint(1, 60)} MB)\nBuilding wheel for {rng.choice(['pyproj', 'fiona', 'shapely-legacy', 'gdal'])} (pyproject.toml): started" for _ in range(120)))
    c.assistant("The download is cached now; the time goes into *building* wheels for packages that have no prebuilt "
                "wheel for your platform (`Building wheel for gdal ...`). Options: pin versions that ship manylinux wheels, "
                "or cache the built wheels with `pip wheel -w wheelhouse` keyed on the requirements hash.")
    c.user("pin versions with wheels, I don't want another cache to babysit. which gdal version has wheels for 3.11?", pause=5)
    data = chatgpt_export([c])
    labels = make_labels(
        session="chatgpt-ci-cache-small.conversations.json", fmt="chatgpt-export", conversation_id=c.id,
        features=["small", "chatgpt-export", "edited-message-branch"],
        primary_request=S("Make the GitHub Actions pip cache actually hit.", "our CI cache never hits"),
        instructions=[{"id": m["id"], "text": m["text"]} for m in c.person_messages],
        decisions=[D("Use setup-python's built-in pip cache and drop the separate actions/cache step.",
                     "Python 3.11 is pinned so the step exists anyway; it keys on the requirements hash.",
                     "setup-python's cache then, drop the separate cache step"),
                   D("Pin package versions that ship prebuilt wheels instead of caching built wheels.",
                     "No second cache to maintain.", "pin versions with wheels, I don't want another cache to babysit")],
        files=[],
        errors=[E("key: pip-${{ runner.os }}-${{ github.sha }}", "Key on hashFiles('requirements.txt'), then setup-python's cache.",
                  "cache: 'pip'")],
        pending_tasks=[T("Find a gdal version with wheels for Python 3.11 and pin it.", "which gdal version has wheels for 3.11?")],
        current_work=S("Cache fixed; remaining time is wheel builds for packages without prebuilt wheels.", "Building wheel for gdal"),
        next_step=S("Answer which gdal version ships wheels for 3.11 and pin versions with wheels.", "which gdal version has wheels for 3.11?"),
        notes="The second question was edited; the first version ('would setup-python's built-in cache be better?') is off the current path.",
    )
    labels["off_path_distractors"] = ["would setup-python's built-in cache be better?"]
    return data, labels


def build_claudeai(seed=9903):
    rng = random.Random(seed)
    c = ClaudeAiConversation(rng, "Nightly backup script for the NAS", "2025-07-02T21:10:00.000Z", rid(rng))
    script = "#!/bin/sh\n# current backup\n" + "\n".join(
        f"rsync -a --delete /volume1/{rng.choice(['photos', 'docs', 'music', 'homes', 'video'])}/{rng.choice(['2021', '2022', '2023', 'archive', 'shared'])}/ /volumeUSB1/usbshare/backup/{i}/" for i in range(250))
    c.human("this is our nightly backup on the synology. it runs rsync with --delete to a usb disk. last week a "
            "folder got deleted by accident and by the next morning it was gone from the backup too. how do I fix "
            "this without buying anything?",
            attachments=[{"file_name": "backup.sh", "file_size": len(script), "file_type": "text/x-sh", "extracted_content": script}])
    c.assistant("`--delete` makes the USB disk an exact mirror, so a mistake is mirrored within a day. Keep history "
                "instead: restic or borg give deduplicated snapshots you can restore from days back, and both run on "
                "DSM through Docker or a static binary. Alternatively, rsync's `--link-dest` makes dated snapshot "
                "folders where unchanged files are hard links, so each night costs only the changed data.")
    c.human("restic. I don't want to learn borg's repository format, and restic has a static binary I can just copy over")
    c.assistant("A restic version of the job:\n\n```sh\n#!/bin/sh\nset -eu\nexport RESTIC_REPOSITORY=/volumeUSB1/usbshare/restic\n"
                "export RESTIC_PASSWORD_FILE=/root/.restic-pass\n/usr/local/bin/restic backup /volume1/photos /volume1/docs /volume1/homes --exclude-caches\n"
                "/usr/local/bin/restic forget --keep-daily 14 --keep-weekly 8 --keep-monthly 12 --prune\n```\n\n"
                "Schedule it in DSM's Task Scheduler as root. Test a restore before you trust it: `restic restore latest --target /tmp/r --include /volume1/docs/x`.\n\n" +
                "\n".join(f"- `/volume1/{rng.choice(['photos', 'docs', 'homes'])}/{rng.choice(['2021', '2022', 'shared'])}`: covered" for _ in range(60)))
    c.human("ran it, got: Fatal: unable to open config file: stat /volumeUSB1/usbshare/restic/config: no such file or directory")
    c.assistant("The repository doesn't exist yet: run `restic init` once with the same two environment variables, then the backup.")
    c.human("init worked, first backup took 3 hours, fine. keep 14 daily is more than I need, make it 7 daily and keep the rest")
    c.assistant("Change the forget line to `--keep-daily 7 --keep-weekly 8 --keep-monthly 12 --prune`.")
    c.human("now write me a short note for my brother, he'll be the one restoring if I'm away. he's not technical", pause=3)
    data = claude_ai_export([c])
    labels = make_labels(
        session="claudeai-nas-backup-small.conversations.json", fmt="claude-ai-export", conversation_id=c.uuid,
        features=["small", "claude-ai-export", "attachment"],
        primary_request=S("Stop accidental deletions from propagating into the NAS backup, without buying anything.",
                          "how do I fix this without buying anything?"),
        instructions=[{"id": m["uuid"], "text": m["text"]} for m in c.person_messages],
        decisions=[D("Use restic snapshots instead of an rsync --delete mirror (not borg).",
                     "No wish to learn borg's repository format; restic has a static binary to copy over.", "restic. I don't want to learn borg's repository format"),
                   D("Retention: 7 daily, 8 weekly, 12 monthly.", "14 daily is more than needed.", "make it 7 daily and keep the rest")],
        files=[],
        errors=[E("Fatal: unable to open config file: stat /volumeUSB1/usbshare/restic/config: no such file or directory",
                  "Run restic init once to create the repository.", "run `restic init` once")],
        pending_tasks=[T("Write a short non-technical restore note for the brother.", "write me a short note for my brother")],
        current_work=S("restic backup running nightly with the new retention.", "--keep-daily 7 --keep-weekly 8 --keep-monthly 12 --prune"),
        next_step=S("Write the restore note for the brother.", "he'll be the one restoring if I'm away"),
    )
    return data, labels
