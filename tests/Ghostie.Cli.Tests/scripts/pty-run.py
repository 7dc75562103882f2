#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and answers its prompts, as a person at a terminal would.

Usage: pty-run.py STEPS.json -- COMMAND [ARGS...]

STEPS.json is a list of {"expect": "text", "send": "answer"}: wait until "text" appears in the output (after the
previous match), pause briefly, then type "answer" ("\\r" is Enter, "\\u0003" Ctrl+C, "\\u0004" Ctrl+D). Prints one JSON
object: {"exit": <exit code or -signal>, "output": "<everything the terminal showed>", "failed_step": <index or null>}.
Standard library only.
"""
import json
import os
import pty
import select
import sys
import time

TIMEOUT = 60.0


def main():
    steps = json.load(open(sys.argv[1], encoding="utf-8"))
    command = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    output = b""
    position = 0
    failed = None

    def read(timeout):
        nonlocal output
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        output += chunk
        return True

    for index, step in enumerate(steps):
        want = step["expect"].encode("utf-8")
        deadline = time.monotonic() + TIMEOUT
        alive = True
        while output.find(want, position) < 0 and alive and time.monotonic() < deadline:
            alive = read(0.1)
        at = output.find(want, position)
        if at < 0:
            failed = index
            break
        position = at + len(want)
        time.sleep(0.3)  # the prompt is written before the terminal is switched to reading keys
        while select.select([fd], [], [], 0)[0] and read(0):
            pass
        os.write(fd, step["send"].encode("utf-8"))
    deadline = time.monotonic() + TIMEOUT
    while failed is None and time.monotonic() < deadline and read(0.2):
        pass
    try:
        _, status = os.waitpid(pid, os.WNOHANG if failed is not None else 0)
    except ChildProcessError:
        status = 0
    if failed is not None:
        try:
            os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    print(json.dumps({"exit": code, "output": output.decode("utf-8", "replace"), "failed_step": failed}))


if __name__ == "__main__":
    main()
