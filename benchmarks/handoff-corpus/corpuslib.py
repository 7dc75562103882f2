"""Writers for the three transcript formats and a small procedural code/log filler.

Nothing here knows how Ghostie.Sync extracts or summarizes: it only knows the public shape of each
format (see README.md for the sources) and how to make file contents and command output look like a
real repository's. Every random choice goes through a `random.Random` the caller seeds.
"""

from __future__ import annotations

import datetime as _dt
import json
import random
import uuid as _uuid

# ----------------------------------------------------------------------------------------------
# ids and clocks


def rid(rng: random.Random) -> str:
    """A version-4 UUID drawn from rng (deterministic)."""
    return str(_uuid.UUID(int=rng.getrandbits(128), version=4))


def short_hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def b62(rng: random.Random, n: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "".join(rng.choice(alphabet) for _ in range(n))


class Clock:
    def __init__(self, rng: random.Random, start: str):
        self.rng = rng
        self.t = _dt.datetime.fromisoformat(start.replace("Z", "+00:00"))

    def tick(self, lo: float = 0.4, hi: float = 9.0) -> _dt.datetime:
        self.t += _dt.timedelta(milliseconds=int(self.rng.uniform(lo, hi) * 1000))
        return self.t

    def jump(self, minutes: float) -> None:
        self.t += _dt.timedelta(minutes=minutes)

    def iso(self) -> str:
        return self.t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.t.microsecond // 1000:03d}Z"

    def epoch(self) -> float:
        return round(self.t.timestamp() + (self.t.microsecond % 1000) / 1e6, 6)


def dumps_line(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# ----------------------------------------------------------------------------------------------
# Claude Code session JSONL


class ClaudeCodeSession:
    """Builds a ~/.claude/projects/<project>/<session>.jsonl transcript line by line.

    Assistant turns are written the way Claude Code writes them: one line per content block
    (thinking, text, tool_use) sharing one message id, each line's parentUuid the previous line.
    Tool results come back as user-role lines holding tool_result blocks plus a toolUseResult.
    """

    def __init__(self, rng, *, cwd, branch, version, model, start, slug=None):
        self.rng = rng
        self.session_id = rid(rng)
        self.cwd = cwd
        self.branch = branch
        self.version = version
        self.model = model
        self.slug = slug
        self.clock = Clock(rng, start)
        self.lines: list[dict] = []
        self.parent: str | None = None
        self.person_messages: list[dict] = []  # {"uuid", "text"} of what the person typed
        self.files = {}  # path (absolute) -> content, the simulated working tree
        self.todos = []
        self.in_side = None  # agentId while sidechain lines are being written

    # -- plumbing
    def _base(self, type_, *, sidechain=False, parent="__chain__"):
        self.clock.tick()
        u = rid(self.rng)
        sidechain = sidechain or bool(self.in_side)
        d = {
            "parentUuid": self.parent if parent == "__chain__" else parent,
            "isSidechain": sidechain,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": self.version,
            "gitBranch": self.branch,
        }
        if self.slug:
            d["slug"] = self.slug
        if sidechain and self.in_side:
            d["agentId"] = self.in_side
        d["type"] = type_
        d["uuid"] = u
        d["timestamp"] = self.clock.iso()
        return d

    def _emit(self, d, *, chain=True):
        self.lines.append(d)
        if chain:
            self.parent = d["uuid"]
        return d["uuid"]

    def abs(self, rel: str) -> str:
        return rel if rel.startswith("/") else f"{self.cwd}/{rel}"

    # -- what the person types
    def person(self, text: str, *, reminders: list[str] | None = None, pause: float = 0.0):
        """A message the person typed. Returns its uuid."""
        if pause:
            self.clock.jump(pause)
        d = self._base("user")
        if reminders:
            content = [{"type": "text", "text": text}] + [
                {"type": "text", "text": f"<system-reminder>\n{r}\n</system-reminder>"} for r in reminders
            ]
        else:
            content = text
        d["message"] = {"role": "user", "content": content}
        if self.todos is not None:
            d["todos"] = []
        d["permissionMode"] = "default"
        self.person_messages.append({"uuid": d["uuid"], "text": text})
        return self._emit(d)

    def interrupted(self, for_tool_use=False):
        d = self._base("user")
        t = "[Request interrupted by user for tool use]" if for_tool_use else "[Request interrupted by user]"
        d["message"] = {"role": "user", "content": [{"type": "text", "text": t}]}
        return self._emit(d)

    def meta(self, text: str):
        d = self._base("user")
        d["isMeta"] = True
        d["message"] = {"role": "user", "content": text}
        return self._emit(d)

    def slash(self, name: str, args: str, stdout: str | None):
        """A local slash command: the caveat (meta), the command echo, the command's stdout."""
        self.meta(
            "Caveat: The messages below were generated by the user while running local commands. "
            "DO NOT respond to these messages or otherwise consider them in your response unless "
            "the user explicitly asks you to."
        )
        d = self._base("user")
        d["message"] = {
            "role": "user",
            "content": f"<command-name>/{name}</command-name>\n            <command-message>{name}</command-message>\n            <command-args>{args}</command-args>",
        }
        self._emit(d)
        if stdout is not None:
            d = self._base("user")
            d["message"] = {"role": "user", "content": f"<local-command-stdout>{stdout}</local-command-stdout>"}
            self._emit(d)

    def bash_mode(self, command: str, stdout: str, stderr: str = ""):
        """The person's own `!command` shell escape: an input echo and its output, both user-role."""
        d = self._base("user")
        d["message"] = {"role": "user", "content": f"<bash-input>{command}</bash-input>"}
        self._emit(d)
        d = self._base("user")
        d["message"] = {
            "role": "user",
            "content": f"<bash-stdout>{stdout}</bash-stdout><bash-stderr>{stderr}</bash-stderr>",
        }
        self._emit(d)

    def hook_feedback(self, hook: str, text: str):
        d = self._base("system")
        d["subtype"] = "informational"
        d["content"] = f"{hook} [{text}]"
        d["isMeta"] = False
        d["level"] = "info"
        d.pop("userType", None)
        return self._emit(d)

    def teammate(self, teammate_id: str, color: str, summary: str, body: str):
        """A message from an agent-team teammate: stored as a user-role line, not the person's."""
        d = self._base("user")
        d["message"] = {
            "role": "user",
            "content": f'<teammate-message teammate_id="{teammate_id}" color="{color}" summary="{summary}">\n{body}\n</teammate-message>',
        }
        return self._emit(d)

    def idle(self, teammate_id: str, color: str, summary: str | None = None):
        payload = {
            "type": "idle_notification",
            "from": teammate_id,
            "timestamp": self.clock.iso(),
            "idleReason": "available",
        }
        if summary:
            payload["summary"] = summary
        d = self._base("user")
        d["message"] = {
            "role": "user",
            "content": f'<teammate-message teammate_id="{teammate_id}" color="{color}">\n{json.dumps(payload, separators=(",", ":"))}\n</teammate-message>',
        }
        return self._emit(d)

    # -- assistant
    def _assistant_line(self, block, msg_id, req_id, stop=None, sidechain=False, usage=None):
        d = self._base("assistant", sidechain=sidechain)
        d["message"] = {
            "model": self.model,
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "content": [block],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage
            or {
                "input_tokens": self.rng.randint(2, 12),
                "cache_creation_input_tokens": self.rng.randint(0, 4000),
                "cache_read_input_tokens": self.rng.randint(12000, 160000),
                "output_tokens": self.rng.randint(1, 900),
                "service_tier": "standard",
            },
        }
        d["requestId"] = "req_" + b62(self.rng, 24)
        return self._emit(d)

    def say(self, text: str, *, thinking: str | None = None, sidechain=False):
        """An assistant turn that ends (text only)."""
        msg_id = "msg_" + b62(self.rng, 24)
        if thinking:
            self._assistant_line(
                {"type": "thinking", "thinking": thinking, "signature": b62(self.rng, 88)}, msg_id, None,
                sidechain=sidechain,
            )
        return self._assistant_line({"type": "text", "text": text}, msg_id, None, stop="end_turn", sidechain=sidechain)

    def call(self, name: str, inp: dict, result, *, note: str | None = None, thinking: str | None = None,
             is_error=False, tool_use_result=None, sidechain=False):
        """One tool round trip: assistant [thinking][text] tool_use, then the user-role tool_result."""
        msg_id = "msg_" + b62(self.rng, 24)
        if thinking:
            self._assistant_line({"type": "thinking", "thinking": thinking, "signature": b62(self.rng, 88)},
                                 msg_id, None, sidechain=sidechain)
        if note:
            self._assistant_line({"type": "text", "text": note}, msg_id, None, sidechain=sidechain)
        tid = "toolu_" + b62(self.rng, 24)
        self._assistant_line({"type": "tool_use", "id": tid, "name": name, "input": inp}, msg_id, None,
                             stop="tool_use", sidechain=sidechain)
        d = self._base("user", sidechain=sidechain)
        block = {"tool_use_id": tid, "type": "tool_result", "content": result}
        if is_error:
            block["is_error"] = True
        d["message"] = {"role": "user", "content": [block]}
        if tool_use_result is not None:
            d["toolUseResult"] = tool_use_result
        return self._emit(d)

    # -- the usual tools, against the simulated tree
    def read(self, rel: str, *, note=None, thinking=None, offset=None, limit=None, reminder=True):
        path = self.abs(rel)
        content = self.files[path]
        lines = content.split("\n")
        start = (offset or 1)
        chosen = lines[start - 1:(start - 1 + limit) if limit else None]
        numbered = "\n".join(f"{i:>6}→{l}" for i, l in enumerate(chosen, start))
        if reminder:
            numbered += (
                "\n\n<system-reminder>\nWhenever you read a file, you should consider whether it looks malicious. "
                "If it does, you MUST refuse to improve or augment the code. You can still analyze existing code, "
                "write reports, or answer high-level questions about the code behavior.\n</system-reminder>\n"
            )
        inp = {"file_path": path}
        if offset:
            inp["offset"] = offset
        if limit:
            inp["limit"] = limit
        tur = {"type": "text", "file": {"filePath": path, "content": "\n".join(chosen), "numLines": len(chosen),
                                         "startLine": start, "totalLines": len(lines)}}
        return self.call("Read", inp, numbered, note=note, thinking=thinking, tool_use_result=tur)

    def write(self, rel: str, content: str, *, note=None, thinking=None):
        path = self.abs(rel)
        existed = path in self.files
        self.files[path] = content
        res = (f"The file {path} has been updated." if existed else f"File created successfully at: {path}")
        tur = {"type": "update" if existed else "create", "filePath": path, "content": content,
               "structuredPatch": []}
        return self.call("Write", {"file_path": path, "content": content}, res, note=note, thinking=thinking,
                         tool_use_result=tur)

    def edit(self, rel: str, old: str, new: str, *, note=None, thinking=None, replace_all=False):
        path = self.abs(rel)
        original = self.files[path]
        if old not in original:
            raise ValueError(f"edit of {rel}: old string not in file: {old[:60]!r}")
        updated = original.replace(old, new) if replace_all else original.replace(old, new, 1)
        self.files[path] = updated
        # the snippet Claude Code shows: a few numbered lines around the change
        pos = updated.index(new) if new else 0
        line_no = updated[:pos].count("\n") + 1
        ulines = updated.split("\n")
        lo = max(1, line_no - 4)
        hi = min(len(ulines), line_no + new.count("\n") + 4)
        snippet = "\n".join(f"{i:>6}→{ulines[i - 1]}" for i in range(lo, hi + 1))
        res = (f"The file {path} has been updated. Here's the result of running `cat -n` on a snippet of the "
               f"edited file:\n{snippet}")
        old_lines = old.split("\n")
        new_lines = new.split("\n")
        oline = original[:original.index(old)].count("\n") + 1
        patch = [{"oldStart": oline, "oldLines": len(old_lines), "newStart": oline, "newLines": len(new_lines),
                  "lines": [f"-{l}" for l in old_lines] + [f"+{l}" for l in new_lines]}]
        tur = {"filePath": path, "oldString": old, "newString": new, "originalFile": original,
               "structuredPatch": patch, "userModified": False, "replaceAll": replace_all}
        inp = {"file_path": path, "old_string": old, "new_string": new}
        if replace_all:
            inp["replace_all"] = True
        return self.call("Edit", inp, res, note=note, thinking=thinking, tool_use_result=tur)

    def bash(self, command: str, stdout: str, *, description=None, stderr="", code=0, note=None, thinking=None,
             timeout=None):
        inp = {"command": command}
        if timeout:
            inp["timeout"] = timeout
        if description:
            inp["description"] = description
        if code != 0:
            body = f"Exit code {code}\n" + "\n".join(x for x in (stdout, stderr) if x)
            tur = f"Error: Exit code {code}\n" + "\n".join(x for x in (stdout, stderr) if x)
            return self.call("Bash", inp, body, note=note, thinking=thinking, is_error=True, tool_use_result=tur)
        body = stdout if not stderr else (stdout + ("\n" if stdout else "") + stderr)
        tur = {"stdout": stdout, "stderr": stderr, "interrupted": False, "isImage": False}
        return self.call("Bash", inp, body, note=note, thinking=thinking, tool_use_result=tur)

    def grep(self, pattern: str, hits: list[str], *, path=None, mode="files_with_matches", note=None,
             thinking=None, glob=None):
        inp = {"pattern": pattern}
        if path:
            inp["path"] = path
        if glob:
            inp["glob"] = glob
        inp["output_mode"] = mode
        if mode == "files_with_matches":
            body = f"Found {len(hits)} file{'s' if len(hits) != 1 else ''}\n" + "\n".join(hits) if hits else "No files found"
            tur = {"mode": mode, "filenames": hits, "numFiles": len(hits)}
        else:
            body = "\n".join(hits) if hits else "No matches found"
            tur = {"mode": mode, "numFiles": 0, "filenames": [], "content": body, "numLines": len(hits)}
        return self.call("Grep", inp, body, note=note, thinking=thinking, tool_use_result=tur)

    def glob(self, pattern: str, hits: list[str], *, note=None):
        body = "\n".join(hits) if hits else "No files found"
        tur = {"filenames": hits, "durationMs": self.rng.randint(3, 90), "numFiles": len(hits), "truncated": False}
        return self.call("Glob", {"pattern": pattern}, body, note=note, tool_use_result=tur)

    def todo(self, items: list[tuple[str, str, str]], *, note=None):
        """items: (content, status, activeForm)."""
        new = [{"content": c, "status": s, "activeForm": a} for c, s, a in items]
        old = self.todos
        self.todos = new
        res = ("Todos have been modified successfully. Ensure that you continue to use the todo list to track "
               "your progress. Please proceed with the current tasks if applicable")
        return self.call("TodoWrite", {"todos": new}, res, note=note, tool_use_result={"oldTodos": old, "newTodos": new})

    def task(self, description: str, prompt: str, subagent_type: str, report: str, *, note=None,
             sidechain_steps=None, agent_id=None):
        """A sub-agent (Task tool). sidechain_steps, when given, are written inline as isSidechain lines
        (the older single-file layout): a list of callables taking this session, run with sidechain=True."""
        agent_id = agent_id or short_hex(self.rng, 8)
        msg_id = "msg_" + b62(self.rng, 24)
        if note:
            self._assistant_line({"type": "text", "text": note}, msg_id, None)
        tid = "toolu_" + b62(self.rng, 24)
        self._assistant_line({"type": "tool_use", "id": tid, "name": "Task",
                              "input": {"description": description, "prompt": prompt,
                                        "subagent_type": subagent_type}}, msg_id, None, stop="tool_use")
        main_parent = self.parent
        if sidechain_steps:
            saved = self.parent
            self.parent = None
            self.in_side = agent_id
            d = self._base("user", sidechain=True, parent=None)
            d["message"] = {"role": "user", "content": prompt}
            self._emit(d)
            for step in sidechain_steps:
                step(self)
            self.in_side = None
            self.parent = saved
        d = self._base("user", parent=main_parent)
        text = f"{report}\n\nagentId: {agent_id} (for resuming to continue this agent's work if needed)"
        d["message"] = {"role": "user", "content": [{"tool_use_id": tid, "type": "tool_result",
                                                      "content": [{"type": "text", "text": text}]}]}
        d["toolUseResult"] = {"status": "completed", "prompt": prompt, "agentId": agent_id,
                              "content": [{"type": "text", "text": report}],
                              "totalDurationMs": self.rng.randint(40000, 400000),
                              "totalTokens": self.rng.randint(20000, 90000),
                              "totalToolUseCount": self.rng.randint(6, 60)}
        return self._emit(d)

    def side_say(self, text):
        return self.say(text, sidechain=True)

    def compact(self, summary: str, *, trigger="auto", pre_tokens=None):
        """Claude Code's compaction: a compact_boundary system line that starts a new chain (parentUuid null,
        logicalParentUuid the old tip), then the summary as a user-role line flagged isCompactSummary."""
        d = self._base("system", parent=None)
        d["subtype"] = "compact_boundary"
        d["content"] = "Conversation compacted"
        d["isMeta"] = False
        d["level"] = "info"
        d["logicalParentUuid"] = self.parent
        d["compactMetadata"] = {"trigger": trigger, "preTokens": pre_tokens or self.rng.randint(150000, 175000)}
        self._emit(d)
        d = self._base("user")
        d["message"] = {
            "role": "user",
            "content": "This session is being continued from a previous conversation that ran out of context. "
                       "The conversation is summarized below:\n" + summary +
                       "\nPlease continue the conversation from where we left it off without asking the user any "
                       "further questions. Continue with the last task that you were asked to work on.",
        }
        d["isVisibleInTranscriptOnly"] = True
        d["isCompactSummary"] = True
        return self._emit(d)

    def title(self, text):
        """A `summary` line (the session's title) as Claude Code prepends them."""
        self.lines.insert(0, {"type": "summary", "summary": text, "leafUuid": self.parent})

    def snapshot(self):
        d = {"type": "file-history-snapshot", "messageId": rid(self.rng),
             "snapshot": {"messageId": rid(self.rng), "trackedFileBackups": {}, "timestamp": self.clock.iso()},
             "isSnapshotUpdate": False}
        self.lines.append(d)

    def render(self) -> bytes:
        return ("\n".join(dumps_line(l) for l in self.lines) + "\n").encode("utf-8")


# ----------------------------------------------------------------------------------------------
# ChatGPT data export (conversations.json)


class ChatGPTConversation:
    def __init__(self, rng, title, start, model="gpt-4o"):
        self.rng = rng
        self.clock = Clock(rng, start)
        self.title = title
        self.model = model
        self.id = rid(rng)
        self.mapping = {}
        self.create_time = self.clock.epoch()
        root = "client-created-root"
        self.mapping[root] = {"id": root, "message": None, "parent": None, "children": []}
        self.tip = root
        sys_id = self._add(root, "system", "", hidden=True)
        self.tip = sys_id
        self.person_messages = []

    def _add(self, parent, role, text, *, content_type="text", hidden=False, name=None, recipient="all",
             extra_meta=None, content=None, end_turn=None):
        self.clock.tick(2, 40)
        nid = rid(self.rng)
        meta = {}
        if hidden:
            meta["is_visually_hidden_from_conversation"] = True
        if role == "assistant":
            meta.update({"finish_details": {"type": "stop", "stop_tokens": [200002]}, "is_complete": True,
                         "model_slug": self.model, "default_model_slug": self.model,
                         "parent_id": parent, "request_id": short_hex(self.rng, 16) + "-IAD",
                         "timestamp_": "absolute"})
        if role == "user":
            meta.update({"request_id": short_hex(self.rng, 16) + "-IAD", "message_source": None,
                         "timestamp_": "absolute", "message_type": None})
        if extra_meta:
            meta.update(extra_meta)
        msg = {
            "id": nid,
            "author": {"role": role, "name": name, "metadata": {}},
            "create_time": None if role == "system" else self.clock.epoch(),
            "update_time": None,
            "content": content or {"content_type": content_type, "parts": [text]},
            "status": "finished_successfully",
            "end_turn": end_turn if end_turn is not None else (True if role == "assistant" else None),
            "weight": 0.0 if hidden else 1.0,
            "metadata": meta,
            "recipient": recipient,
            "channel": None,
        }
        self.mapping[nid] = {"id": nid, "message": msg, "parent": parent, "children": []}
        self.mapping[parent]["children"].append(nid)
        return nid

    def user(self, text, *, parent=None, pause=0.0):
        if pause:
            self.clock.jump(pause)
        nid = self._add(parent or self.tip, "user", text)
        self.tip = nid
        self.person_messages.append({"id": nid, "text": text})
        return nid

    def assistant(self, text, *, parent=None):
        nid = self._add(parent or self.tip, "assistant", text)
        self.tip = nid
        return nid

    def code_run(self, code, output):
        """Code interpreter: assistant writes code to `python`, the tool answers with execution_output."""
        nid = self._add(self.tip, "assistant", "", content={"content_type": "code", "language": "unknown",
                                                            "response_format_name": None, "text": code},
                        recipient="python", end_turn=False)
        self.tip = nid
        nid = self._add(self.tip, "tool", "", name="python",
                        content={"content_type": "execution_output", "text": output},
                        extra_meta={"is_complete": True, "aggregate_result": {"status": "success", "code": code,
                                                                               "final_expression_output": None}})
        self.tip = nid
        return nid

    def branch_from(self, node_id):
        """Go back to node_id (an edit or a regenerate happens from there)."""
        self.tip = node_id

    def to_json(self):
        return {
            "title": self.title,
            "create_time": self.create_time,
            "update_time": self.clock.epoch(),
            "mapping": self.mapping,
            "moderation_results": [],
            "current_node": self.tip,
            "plugin_ids": None,
            "conversation_id": self.id,
            "conversation_template_id": None,
            "gizmo_id": None,
            "gizmo_type": None,
            "is_archived": False,
            "is_starred": None,
            "safe_urls": [],
            "blocked_urls": [],
            "default_model_slug": self.model,
            "conversation_origin": None,
            "voice": None,
            "async_status": None,
            "disabled_tool_ids": [],
            "is_do_not_remember": False,
            "memory_scope": "global_enabled",
            "sugar_item_id": None,
            "id": self.id,
        }


def chatgpt_export(conversations) -> bytes:
    return json.dumps([c.to_json() for c in conversations], ensure_ascii=False, indent=None).encode("utf-8")


# ----------------------------------------------------------------------------------------------
# Claude.ai data export (conversations.json)


class ClaudeAiConversation:
    def __init__(self, rng, name, start, account_uuid):
        self.rng = rng
        self.clock = Clock(rng, start)
        self.uuid = rid(rng)
        self.name = name
        self.account = account_uuid
        self.created = self.clock.iso()
        self.messages = []
        self.person_messages = []

    def _msg(self, sender, text, attachments=None):
        self.clock.tick(3, 50)
        start = self.clock.iso()
        self.clock.tick(1, 30)
        stop = self.clock.iso()
        m = {
            "uuid": rid(self.rng),
            "text": text,
            "content": [{"start_timestamp": start, "stop_timestamp": stop, "type": "text", "text": text,
                         "citations": []}],
            "sender": sender,
            "created_at": start,
            "updated_at": stop,
            "attachments": attachments or [],
            "files": [],
        }
        self.messages.append(m)
        return m["uuid"]

    def human(self, text, attachments=None, pause=0.0):
        if pause:
            self.clock.jump(pause)
        u = self._msg("human", text, attachments)
        self.person_messages.append({"uuid": u, "text": text})
        return u

    def assistant(self, text):
        return self._msg("assistant", text)

    def to_json(self):
        return {"uuid": self.uuid, "name": self.name, "summary": "", "created_at": self.created,
                "updated_at": self.clock.iso(), "account": {"uuid": self.account}, "chat_messages": self.messages}


def claude_ai_export(conversations) -> bytes:
    return json.dumps([c.to_json() for c in conversations], ensure_ascii=False, indent=2).encode("utf-8")


# ----------------------------------------------------------------------------------------------
# procedural filler: source files, test logs


class Filler:
    """Makes plausible source code and tool output from a per-session vocabulary."""

    def __init__(self, rng: random.Random, nouns: list[str], verbs: list[str]):
        self.rng = rng
        self.nouns = nouns
        self.verbs = verbs

    def _n(self):
        return self.rng.choice(self.nouns)

    def _v(self):
        return self.rng.choice(self.verbs)

    def snake(self):
        return f"{self._v()}_{self._n()}"

    def camel(self):
        v, n = self._v(), self._n()
        return v + "".join(p.capitalize() for p in n.split("_"))

    def pascal(self):
        return "".join(p.capitalize() for p in self._n().split("_")) + self.rng.choice(
            ["", "Store", "Client", "Record", "Spec", "Batch", "Result", "State", "Window", "Plan"])

    # -- python
    def py_function(self, indent="", method=False):
        r = self.rng
        name = self.snake()
        args = ["self"] if method else []
        for _ in range(r.randint(0, 3)):
            args.append(f"{self._n()}: {r.choice(['str', 'int', 'float', 'bool', 'dict[str, Any]', 'list[str]', 'Path', 'datetime'])}")
        args = list(dict.fromkeys(args))
        ret = r.choice(["None", "bool", "int", "str", "dict[str, Any]", "list[dict[str, Any]]", "Optional[str]"])
        out = [f"{indent}def {name}({', '.join(args)}) -> {ret}:"]
        b = indent + "    "
        if r.random() < 0.4:
            out.append(f'{b}"""{self._v().capitalize()} the {self._n().replace("_", " ")}."""')
        for _ in range(r.randint(2, 9)):
            k = r.randint(0, 9)
            a, c = self._n(), self._n()
            if k == 0:
                out.append(f"{b}{a} = {c}.get({r.choice(['key', 'name', 'id', 'slug'])!r}) or {r.randint(0, 99)}")
            elif k == 1:
                out.append(f"{b}if not {a}:")
                out.append(f"{b}    raise ValueError(f\"missing {a}: {{{c}!r}}\")")
            elif k == 2:
                out.append(f"{b}for {a} in {c}s:")
                out.append(f"{b}    {self.snake()}({a})")
            elif k == 3:
                out.append(f"{b}log.debug(\"{self._v()} %s\", {a})")
            elif k == 4:
                out.append(f"{b}{a} = [{c} for {c} in {self._n()}s if {c}.{self._n()}]")
            elif k == 5:
                out.append(f"{b}try:")
                out.append(f"{b}    {a} = self.{self.snake()}({c})" if method else f"{b}    {a} = {self.snake()}({c})")
                out.append(f"{b}except {r.choice(['KeyError', 'OSError', 'TimeoutError', 'ValueError'])} as exc:")
                out.append(f"{b}    log.warning(\"{self._v()} failed: %s\", exc)")
                out.append(f"{b}    {a} = None")
            elif k == 6:
                out.append(f"{b}{a}_total += len({c})")
            elif k == 7:
                out.append(f"{b}with open({a}_path, encoding=\"utf-8\") as fh:")
                out.append(f"{b}    {c} = json.load(fh)")
            elif k == 8:
                out.append(f"{b}assert {a} is not None, \"{c}\"")
            else:
                out.append(f"{b}{a}[{c}.{self._n()}] = {c}")
        out.append(f"{b}return {r.choice(['None', 'True', 'result', 'out', '{}', 'len(items)', 'value'])}" if ret != "None" else f"{b}return None")
        return "\n".join(out)

    def py_module(self, header: str = "", snippets: list[str] | None = None, n: int = 12) -> str:
        r = self.rng
        parts = [header.rstrip() if header else
                 "from __future__ import annotations\n\nimport json\nimport logging\nfrom datetime import datetime\nfrom pathlib import Path\nfrom typing import Any, Optional\n\nlog = logging.getLogger(__name__)"]
        funcs = []
        for i in range(n):
            if r.random() < 0.3:
                cls = self.pascal()
                body = "\n\n".join(self.py_function("    ", method=True) for _ in range(r.randint(2, 4)))
                funcs.append(f"class {cls}:\n    def __init__(self, {self._n()}: str) -> None:\n        self.{self._n()} = {{}}\n\n{body}")
            else:
                funcs.append(self.py_function())
        for s in snippets or []:
            funcs.insert(r.randint(0, len(funcs)), s.strip("\n"))
        return "\n\n\n".join(parts + funcs) + "\n"

    # -- typescript
    def ts_function(self):
        r = self.rng
        name = self.camel()
        params = ", ".join(f"{self._n().split('_')[0]}: {r.choice(['string', 'number', 'boolean', 'Props', 'Item[]', 'Record<string, unknown>'])}"
                           for _ in range(r.randint(0, 3)))
        out = [f"export {'async ' if r.random() < 0.3 else ''}function {name}({params}) {{"]
        for _ in range(r.randint(2, 8)):
            k = r.randint(0, 6)
            a, c = self._n().split("_")[0], self._n().split("_")[0]
            if k == 0:
                out.append(f"  const {a} = {c}?.{self._n().split('_')[0]} ?? {r.randint(0, 50)};")
            elif k == 1:
                out.append(f"  if (!{a}) return {r.choice(['null', 'undefined', '[]', 'false'])};")
            elif k == 2:
                out.append(f"  for (const {a} of {c}s) {{\n    {self.camel()}({a});\n  }}")
            elif k == 3:
                out.append(f"  const {a}s = {c}s.filter((x) => x.{self._n().split('_')[0]} !== undefined);")
            elif k == 4:
                out.append(f"  await {self.camel()}({a});")
            elif k == 5:
                out.append(f"  console.debug('{self._v()}', {a});")
            else:
                out.append(f"  {a}.set({c}.id, {c});")
        out.append(f"  return {r.choice(['result', 'null', 'items', 'true', 'state'])};\n}}")
        return "\n".join(out)

    def ts_module(self, header="", snippets=None, n=10):
        r = self.rng
        parts = [header.rstrip() if header else f"import {{ {self.pascal()} }} from './{self._n()}';\nimport type {{ Item, Props }} from '../types';"]
        funcs = [self.ts_function() for _ in range(n)]
        for s in snippets or []:
            funcs.insert(r.randint(0, len(funcs)), s.strip("\n"))
        return "\n\n".join(parts + funcs) + "\n"

    # -- go
    def go_function(self):
        r = self.rng
        name = self.pascal() if r.random() < 0.5 else self.camel()
        recv = f"(s *{self.pascal()}) " if r.random() < 0.5 else ""
        params = ", ".join(f"{self._n().split('_')[0]} {r.choice(['string', 'int', 'context.Context', '[]byte', 'time.Duration', '*Config'])}"
                           for _ in range(r.randint(0, 3)))
        out = [f"func {recv}{name}({params}) {r.choice(['error', '(int, error)', 'bool', '(string, error)', ''])} {{".replace(")  {", ") {")]
        for _ in range(r.randint(2, 8)):
            k = r.randint(0, 5)
            a, c = self._n().split("_")[0], self._n().split("_")[0]
            if k == 0:
                out.append(f"\t{a}, err := {self.camel()}({c})\n\tif err != nil {{\n\t\treturn fmt.Errorf(\"{self._v()} {a}: %w\", err)\n\t}}")
            elif k == 1:
                out.append(f"\tfor _, {a} := range {c}s {{\n\t\t{self.camel()}({a})\n\t}}")
            elif k == 2:
                out.append(f"\tlog.Printf(\"{self._v()} %v\", {a})")
            elif k == 3:
                out.append(f"\tif {a} == nil {{\n\t\treturn nil\n\t}}")
            elif k == 4:
                out.append(f"\t{a} := make(map[string]{r.choice(['int', 'string', 'bool'])}, {r.randint(0, 64)})")
            else:
                out.append(f"\tdefer {a}.Close()")
        out.append("\treturn nil\n}")
        return "\n".join(out)

    def go_module(self, pkg, header="", snippets=None, n=10):
        parts = [header.rstrip() if header else f"package {pkg}\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\t\"log\"\n\t\"time\"\n)"]
        funcs = [self.go_function() for _ in range(n)]
        for s in snippets or []:
            funcs.insert(self.rng.randint(0, len(funcs)), s.strip("\n"))
        return "\n\n".join(parts + funcs) + "\n"

    # -- logs
    def pytest_log(self, module, failures=None, n=40, seconds=None):
        r = self.rng
        names = [f"test_{self.snake()}" for _ in range(n)]
        lines = ["============================= test session starts ==============================",
                 "platform linux -- Python 3.11.9, pytest-8.2.1, pluggy-1.5.0",
                 f"rootdir: {module}", "configfile: pyproject.toml", "plugins: anyio-4.4.0, cov-5.0.0",
                 f"collected {n + len(failures or [])} items", ""]
        for nm in names:
            lines.append(f"tests/{self._n()}_test.py::{nm} PASSED{' ' * r.randint(1, 20)}[{r.randint(1, 99):>3}%]")
        fails = failures or []
        for fname, _ in fails:
            lines.append(f"{fname} FAILED")
        if fails:
            lines.append("")
            lines.append("=================================== FAILURES ===================================")
            for fname, body in fails:
                lines.append(f"_______________________ {fname.split('::')[-1]} _______________________")
                lines.append(body)
            lines.append("=========================== short test summary info ============================")
            for fname, body in fails:
                lines.append(f"FAILED {fname} - {body.strip().splitlines()[-1][:90]}")
        secs = seconds or round(r.uniform(2, 40), 2)
        lines.append(f"{'=' * 20} {len(fails)} failed, {n} passed in {secs}s {'=' * 20}" if fails
                     else f"{'=' * 28} {n} passed in {secs}s {'=' * 28}")
        return "\n".join(lines)

    def go_test_log(self, pkgs, failures=None):
        r = self.rng
        out = []
        for p in pkgs:
            for _ in range(r.randint(4, 14)):
                out.append(f"=== RUN   Test{self.pascal()}")
                out.append(f"--- PASS: Test{self.pascal()} ({r.uniform(0, 0.4):.2f}s)")
            if failures and p in failures:
                out.append(failures[p])
                out.append(f"FAIL\t{p}\t{r.uniform(0.1, 3):.3f}s")
            else:
                out.append(f"ok  \t{p}\t{r.uniform(0.1, 3):.3f}s")
        return "\n".join(out)

    def jest_log(self, files, failures=None):
        r = self.rng
        out = []
        for f in files:
            failed = failures and f in failures
            out.append(f"{'FAIL' if failed else 'PASS'} {f} ({r.uniform(0.5, 9):.3f} s)")
            for _ in range(r.randint(2, 7)):
                out.append(f"  {'✓'} {self._v()}s {self._n().replace('_', ' ')} ({r.randint(1, 90)} ms)")
            if failed:
                out.append(failures[f])
        nf = len(failures or {})
        out.append(f"\nTest Suites: {str(nf) + ' failed, ' if nf else ''}{len(files) - nf} passed, {len(files)} total")
        out.append(f"Tests:       {str(nf) + ' failed, ' if nf else ''}{r.randint(40, 300)} passed")
        out.append(f"Time:        {r.uniform(4, 60):.3f} s")
        return "\n".join(out)

    def git_log(self, subjects):
        r = self.rng
        out = []
        for s in subjects:
            out.append(f"{short_hex(r, 7)} {s}")
        return "\n".join(out)

    def listing(self, paths):
        r = self.rng
        return "\n".join(f"-rw-r--r--  1 dev  staff  {r.randint(200, 40000):>6} {r.choice(['Mar', 'Apr', 'May'])} {r.randint(1, 28):>2} {r.randint(0, 23):02d}:{r.randint(0, 59):02d} {p}" for p in paths)
