"""The label record for one session. Written by the story that generated the session, from what the story
put there, never by reading the session back through an extractor."""

SCHEMA = "ghostie-handoff-fidelity-labels/1"


def make_labels(*, session, fmt, features, primary_request, instructions, decisions, files, errors,
                pending_tasks, current_work, next_step, not_instructions=(), conversation_id=None, notes=None):
    """instructions: list of dicts {"id", "text"} in order (the person's own messages that ask for something);
    the last one is flagged. Each verbatim string (instruction text, evidence quotes, error messages, file
    paths) must occur in the session; validate.py checks that."""
    ins = []
    for i, m in enumerate(instructions):
        ins.append({"index": i, "message_id": m["id"], "text": m["text"], "verbatim": True,
                    "last": i == len(instructions) - 1})
    out = {
        "schema": SCHEMA,
        "session": session,
        "format": fmt,
    }
    if conversation_id:
        out["conversation_id"] = conversation_id
    out.update({
        "features": list(features),
        "primary_request": primary_request,
        "instructions": ins,
        "last_instruction": {"message_id": ins[-1]["message_id"], "text": ins[-1]["text"]},
        "decisions": list(decisions),
        "files": list(files),
        "errors": list(errors),
        "pending_tasks": list(pending_tasks),
        "current_work": current_work,
        "next_step": next_step,
        "not_instructions": list(not_instructions),
    })
    if notes:
        out["notes"] = notes
    return out


def D(decision, reason, *evidence, explicit=True, superseded_by=None):
    d = {"decision": decision, "reason": reason, "evidence": list(evidence), "stated_explicitly": explicit}
    if superseded_by:
        d["superseded_by"] = superseded_by
    return d


def F(path, *, modified, rel=None, by=None):
    d = {"path": path, "modified": modified}
    if by:
        d["by"] = by
    if rel:
        d["relative"] = rel
    return d


def E(error, fix, fix_evidence):
    return {"error": error, "fix": fix, "fix_evidence": fix_evidence}


def T(task, evidence):
    return {"task": task, "evidence": evidence}


def S(text, evidence):
    return {"text": text, "evidence": evidence}
