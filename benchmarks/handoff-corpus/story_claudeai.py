"""Session 8: a Claude.ai data export (conversations.json with chat_messages), attachments with extracted content."""

import random

from corpuslib import ClaudeAiConversation, Filler, claude_ai_export, rid, short_hex
from labels import D, E, S, T, make_labels

NOUNS = ["site", "visit", "observation", "photo", "species", "plot", "transect", "surveyor", "form", "answer",
         "queue", "batch", "device", "region", "project"]
VERBS = ["sync", "queue", "upload", "merge", "save", "load", "validate", "retry", "capture", "attach"]


def sync_log(rng, n=2300):
    out = []
    for i in range(n):
        ts = f"2025-06-{3 + i // 300:02d}T{(i // 12) % 24:02d}:{(i * 5) % 60:02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z"
        k = rng.random()
        if k < 0.5:
            out.append(f"{ts} [sync] push batch={rng.randint(1, 9999)} ops={rng.randint(1, 80)} bytes={rng.randint(800, 90000)} net={rng.choice(['wifi', '4g', '3g', '3g', 'edge'])}")
        elif k < 0.7:
            out.append(f"{ts} [sync] pull since={rng.randint(10**12, 2 * 10**12)} got={rng.randint(0, 300)}")
        elif k < 0.8:
            out.append(f"{ts} [upload] photo {short_hex(rng, 12)}.jpg {rng.randint(3800, 8400)} kB attempt={rng.randint(1, 4)} {rng.choice(['ok', 'ok', 'timeout after 30000 ms', 'ECONNRESET'])}")
        elif k < 0.86:
            out.append(f"{ts} [sync] ERROR SQLITE_CONSTRAINT_UNIQUE: UNIQUE constraint failed: observations.client_id (batch retry {rng.randint(1, 3)})")
        else:
            out.append(f"{ts} [db] {rng.choice(['vacuum', 'checkpoint', 'migrate v14 ok', 'open'])} {rng.randint(1, 400)} ms")
    return "\n".join(out)


def build(seed=8819):
    rng = random.Random(seed)
    f = Filler(rng, NOUNS, VERBS)
    account = rid(rng)
    other = ClaudeAiConversation(rng, "Regex for Dutch postcodes", "2025-05-20T08:00:00.000Z", account)
    other.human("regex for a dutch postcode, with or without the space")
    other.assistant("`^[1-9][0-9]{3} ?(?!SA|SD|SS)[A-Z]{2}$` — four digits not starting with 0, an optional space, two "
                    "capitals, excluding the combinations SA, SD and SS that PostNL doesn't issue.")

    c = ClaudeAiConversation(rng, "Offline sync design for the field survey app", "2025-06-05T07:45:00.000Z", account)
    schema = f.ts_module(header="// src/db/schema.ts\nimport { appSchema, tableSchema } from './schema-helpers';", n=150)
    c.human(
        "Our field survey app (React Native, Expo) has to work offline for whole days: ecologists walk transects "
        "in places with no signal and sync in the evening. Right now it's AsyncStorage blobs plus a hand-rolled "
        "queue and it loses data. I'd like to redesign the local storage and the sync. The current schema file is "
        "attached. Backend is a Postgres + Node API we control, but the backend team is two people.",
        attachments=[{"file_name": "schema.ts", "file_size": len(schema), "file_type": "text/typescript", "extracted_content": schema}])
    c.assistant(
        "Thanks, that's a clear picture. A few things stand out in the schema: every form answer lives inside the "
        "`visit` blob, so two edits to one visit always conflict; photos are stored as base64 inside the same blob, "
        "which is why AsyncStorage hits its size limit; and the queue has no idempotency, so a retried push can apply "
        "twice.\n\nFor the local store, the serious options in Expo land are:\n\n"
        "1. **WatermelonDB**: lazy, fast, built-in sync primitives. But its sync protocol expects the backend to "
        "implement its pull/push endpoints and change-tracking semantics.\n"
        "2. **SQLite directly** (expo-sqlite or op-sqlite) with your own thin data layer. More code on the client, but "
        "the backend contract is whatever you design.\n"
        "3. **A CRDT document store** (Automerge, Yjs): great merges, but heavy for tabular survey data and hard to "
        "query.\n\nWhich way the backend team can move matters most here. Would they implement Watermelon's protocol?")
    c.human("they won't. they already said they're not reshaping the API around a client library. sqlite it is then, op-sqlite "
            "because expo-sqlite was slow for us on the old Android tablets the rangers use")
    c.assistant(
        "op-sqlite is a good fit for low-end Android: it's JSI-based and avoids the bridge. Proposed local schema, "
        "one row per thing that can be edited independently:\n\n```sql\ncreate table visits (\n  client_id text primary key,  -- uuid v7 made on the device\n"
        "  server_id integer,\n  site_id text not null,\n  started_at text not null,\n  hlc text not null,  -- hybrid logical clock of the last local change\n"
        "  deleted_at text\n);\n\ncreate table answers (\n  client_id text primary key,\n  visit_id text not null references visits(client_id),\n"
        "  question_key text not null,\n  value_json text,\n  hlc text not null,\n  unique (visit_id, question_key)\n);\n\n"
        "create table photos (\n  client_id text primary key,\n  visit_id text not null,\n  local_uri text not null,\n  sha256 text not null,\n"
        "  upload_state text not null default 'pending'\n);\n\ncreate table outbox (\n  op_id text primary key,\n  table_name text not null,\n"
        "  row_id text not null,\n  patch_json text not null,\n  hlc text not null\n);\n```\n\nWrites go to the table and "
        "the outbox in one transaction, so nothing can be saved without being queued.")
    c.human("how do we merge when two people edit the same visit offline? it happens, the team leader fixes species "
            "names while the surveyor is still adding counts")
    c.assistant(
        "Since answers are separate rows, most of those edits don't even touch the same row: the leader edits "
        "`species` answers, the surveyor edits `count` answers. For the rows that do collide you have a choice:\n\n"
        "- **Last writer wins per row**, ordered by a hybrid logical clock (HLC): simple and deterministic, and "
        "with one answer per row it's effectively per field.\n- **Per-field merge inside a row** for rows with several "
        "fields (the visit header: weather, start time, notes).\n- **Keep both and ask**: safest, but someone has to "
        "resolve conflicts on a phone in a field.\n\nHLC rather than wall clock, because tablet clocks drift and "
        "some rangers' devices are hours off after a battery swap.")
    c.human("last writer wins per field, with the HLC. the visit header too, field by field. nobody is going to "
            "resolve conflicts on a phone in the rain")
    log = sync_log(rng)
    c.human("meanwhile, here's a sync log from one of the tablets on the current build, three days in the Veluwe. "
            "there's a constraint error that keeps coming back, and photo uploads look terrible",
            attachments=[{"file_name": "sync-veluwe-0603.log", "file_size": len(log), "file_type": "text/plain", "extracted_content": log}])
    c.assistant(
        "Two distinct problems in that log:\n\n**1. `SQLITE_CONSTRAINT_UNIQUE: UNIQUE constraint failed: observations.client_id`** "
        "shows up right after a push batch that timed out. The client doesn't know whether the server applied the batch, "
        "retries, and the server-side insert hits the unique key; in the current build the whole batch is then "
        "rejected, and everything after that row stays unsynced. The fix is to make every op idempotent: "
        "`insert ... on conflict (client_id) do update set ... where excluded.hlc > observations.hlc`. Then a replay "
        "is harmless and a stale replay can't overwrite newer data.\n\n**2. Photos are 4–8 MB and travel inside the "
        "sync batch.** On 3G the batch takes longer than the 30 s timeout, so it fails, is retried whole, and fails "
        "again. Everything queued behind the photos waits.\n\nSplitting photos out of the sync into their own "
        "resumable uploads (tus, or S3 multipart with presigned URLs) means the data syncs in seconds and photos "
        "trickle up when they can.")
    c.human("agreed on both. photos go separately. we already have S3, so presigned multipart rather than running a tus server")
    c.assistant(
        "Then the photo flow is:\n\n1. On capture: write the file to the app's document directory, compute sha256, "
        "insert a `photos` row (`upload_state = 'pending'`) and an outbox op with only the metadata.\n2. The sync pushes "
        "the metadata; the server answers with an upload id and presigned part URLs.\n3. An upload worker sends 5 MB "
        "parts, records each finished part locally, resumes from the last one after a restart.\n4. On complete, "
        "the server checks the sha256 and marks the photo available.\n\nSketch of the worker:\n\n```ts\n" +
        f.ts_module(n=8) + "```")
    c.human("what about deletes? right now a deleted visit can come back from another tablet")
    c.assistant(
        "That's the classic resurrection bug: device A deletes, device B (which hasn't synced) still has the row and "
        "pushes an edit, the server re-creates it. Use tombstones: a delete sets `deleted_at` and an HLC, and is "
        "synced like any other change. LWW then does the right thing: an edit older than the delete loses. Keep "
        "tombstones at least as long as a device can plausibly stay offline, and purge after that.")
    c.human("tombstones, kept for 90 days. some teams go out for a month and the tablets sit in a drawer after")
    c.human("ok. write this up as an ADR in our format (context / decision / consequences) so I can drop it in the "
            "repo. keep the sql out of it, link to it instead", pause=25)
    data = claude_ai_export([other, c])
    labels = make_labels(
        session="claudeai-field-sync.conversations.json", fmt="claude-ai-export", conversation_id=c.uuid,
        features=["claude-ai-export", "attachments-with-extracted-content", "design-discussion", "multiple-conversations"],
        primary_request=S("Redesign the field survey app's offline local storage and sync so it stops losing data.",
                          "I'd like to redesign the local storage and the sync"),
        instructions=[{"id": m["uuid"], "text": m["text"]} for m in c.person_messages],
        decisions=[
            D("Use SQLite through op-sqlite with an own data layer, not WatermelonDB.",
              "The backend team won't reshape the API around a client library's protocol; expo-sqlite was slow on the rangers' old Android tablets.",
              "sqlite it is then, op-sqlite because expo-sqlite was slow for us on the old Android tablets"),
            D("Resolve conflicts last-writer-wins per field, ordered by a hybrid logical clock, including the visit header.",
              "Nobody will resolve conflicts on a phone in the field; tablet clocks drift.",
              "last writer wins per field, with the HLC"),
            D("Make every sync op idempotent (upsert on client_id, only if the incoming HLC is newer).",
              "A retried batch after a timeout hit the unique constraint and blocked the rest of the queue.",
              "agreed on both"),
            D("Upload photos separately from the sync, via S3 presigned multipart uploads rather than a tus server.",
              "4-8 MB photos in the batch exceed the 30 s timeout on 3G; S3 already exists.",
              "photos go separately. we already have S3, so presigned multipart rather than running a tus server"),
            D("Deletes are tombstones kept for 90 days.", "Teams go out for a month and tablets sit unused afterwards.",
              "tombstones, kept for 90 days"),
        ],
        files=[],
        errors=[E("SQLITE_CONSTRAINT_UNIQUE: UNIQUE constraint failed: observations.client_id",
                  "Idempotent upsert: insert ... on conflict (client_id) do update ... where excluded.hlc is newer.",
                  "on conflict (client_id) do update")],
        pending_tasks=[T("Write an ADR (context / decision / consequences) without SQL, linking to it instead.",
                         "write this up as an ADR in our format (context / decision / consequences)")],
        current_work=S("Sync design settled: op-sqlite, outbox, HLC last-writer-wins per field, idempotent ops, separate photo uploads, tombstones.",
                       "Use tombstones"),
        next_step=S("Write the ADR.", "so I can drop it in the repo"),
        notes="Two attachments (schema.ts, a sync log) are part of the person's messages through extracted_content.",
    )
    return data, labels
