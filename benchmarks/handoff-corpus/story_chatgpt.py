"""Sessions 6 and 7: ChatGPT data exports (conversations.json). Each export holds several conversations; the
labelled one is the most recently updated. Edits and regenerations leave branches off the current path; only
the path from current_node back to the root counts."""

import random

from corpuslib import ChatGPTConversation, Filler, chatgpt_export
from labels import D, E, S, T, make_labels

TABLES = ["clinics", "practitioners", "patients", "appointments", "appointment_slots", "rooms", "invoices",
          "invoice_lines", "payments", "reminders", "referrals", "notes", "attachments", "audit_events",
          "waitlist_entries", "insurance_policies", "opening_hours", "holidays", "services", "service_prices",
          "consent_forms", "sms_messages", "email_messages", "staff_roles", "staff_members", "treatment_plans",
          "treatment_steps", "questionnaires", "questionnaire_answers", "webhooks", "api_tokens", "exports"]


def rls_block(rng, tables):
    out = []
    for t in tables:
        out.append(f"alter table {t} add column if not exists tenant_id uuid;\n"
                   f"update {t} set tenant_id = c.tenant_id from clinics c where {t}.clinic_id = c.id and {t}.tenant_id is null;\n"
                   f"alter table {t} alter column tenant_id set not null;\n"
                   f"create index concurrently if not exists {t}_tenant_idx on {t} (tenant_id{', ' + rng.choice(['created_at', 'id', 'starts_at', 'updated_at'])});\n"
                   f"alter table {t} enable row level security;\nalter table {t} force row level security;\n"
                   f"create policy {t}_tenant on {t}\n  using (tenant_id = current_setting('app.tenant_id', true)::uuid)\n"
                   f"  with check (tenant_id = current_setting('app.tenant_id', true)::uuid);\n")
    return "\n".join(out)


def build_schema(seed=6607):
    rng = random.Random(seed)
    f = Filler(rng, [t[:-1] for t in TABLES], ["load", "sync", "book", "bill"])
    others = []
    o = ChatGPTConversation(rng, "Sourdough hydration maths", "2025-01-04T09:12:00Z")
    o.user("if my starter is 100% hydration and I use 150 g of it in a 1 kg flour dough at 72%, how much water do I add?")
    o.assistant("Your 150 g of starter is 75 g flour and 75 g water. Total flour is 1,075 g, so 72% hydration means "
                "774 g of water in total. Subtract the starter's 75 g: add about 699 g of water.")
    others.append(o)
    o = ChatGPTConversation(rng, "Rename files by EXIF date", "2025-01-19T20:40:00Z")
    o.user("one-liner to rename jpgs in a folder to their exif date, macOS")
    o.assistant("With exiftool installed: `exiftool '-FileName<DateTimeOriginal' -d '%Y-%m-%d_%H%M%S%%-c.%%e' .` "
                "The `%-c` adds a counter when two photos share a second.")
    others.append(o)

    c = ChatGPTConversation(rng, "Multi-tenant Postgres: RLS migration", "2025-02-11T10:02:00Z")
    first = c.user("we're moving our clinic booking app to multi-tenant. should we use a schema per tenant in postgres?")
    c.assistant("Schema-per-tenant gives strong isolation and easy per-tenant backups. For a few dozen tenants it's "
                "a comfortable choice: each clinic gets `tenant_x.appointments` and so on, and you switch with "
                "`search_path`.\n\n" + "\n".join(f"create schema tenant_{i:04d};" for i in range(1, 40)))
    # the person edits the first message: a new branch from the same parent
    c.branch_from(c.mapping[first]["parent"])
    c.person_messages.pop()
    c.user("we're moving our clinic booking app to multi-tenant postgres. about 4,000 clinics today, maybe 10k in "
           "two years, one shared database. schema per tenant or row-level security? we deploy migrations several "
           "times a week")
    c.assistant(
        "At 4,000 growing to 10,000 tenants with frequent migrations, I'd go with a shared schema and row-level "
        "security.\n\n"
        "**Why not schema-per-tenant at that size**\n- every migration runs 4,000–10,000 times; a migration that "
        "takes 2 s per schema becomes 2–5 hours, and a failure halfway leaves tenants on different versions\n"
        "- the catalog grows to hundreds of thousands of relations, which slows `pg_dump`, autovacuum scheduling "
        "and planning\n- connection poolers can't share connections across `search_path` settings cleanly\n\n"
        "**RLS in outline**\n1. every tenant-owned table gets `tenant_id uuid not null`\n2. a policy compares it "
        "with a setting the app sets per request\n3. `force row level security` so even the table owner is "
        "filtered\n4. the app connects as a role without `BYPASSRLS`\n\nWant me to sketch the policies for your tables?")
    c.user("yes. here are the tables: " + ", ".join(TABLES) + ". everything hangs off clinics.clinic_id today")
    c.assistant("Here's a first pass for all of them. Each table gets the column, a backfill from `clinics`, an index, "
                "and a policy:\n\n```sql\n" + rls_block(rng, TABLES) + "```\n\nThe app then runs "
                "`set app.tenant_id = '<uuid>'` after taking a connection.")
    c.user("we use pgbouncer in transaction mode. does `set` even work there?")
    c.assistant(
        "Good catch: no. In transaction pooling a plain `SET` sticks to the server connection, and the next "
        "transaction on that connection, possibly another tenant's request, inherits it. That's a data leak "
        "waiting to happen.\n\nUse `SET LOCAL` (or `set_config('app.tenant_id', $1, true)`) inside each "
        "transaction. It's reset at commit or rollback, so it can't leak across pooled clients:\n\n```sql\nbegin;\n"
        "select set_config('app.tenant_id', $1, true);\n-- ... queries ...\ncommit;\n```\n\nIn your ORM that "
        "means wrapping each request in a transaction that starts with that call. Reads outside a transaction "
        "would see no tenant and return nothing, which is the safe failure.")
    c.user("ok, set_config at the start of every transaction then. what about primary keys, we have bigserial everywhere")
    r1 = c.assistant("Keep bigserial. It's compact and fast, and RLS doesn't care about key types.")
    # regenerate: a sibling answer from the same user message; the second one is on the current path
    c.branch_from(c.mapping[r1]["parent"])
    c.assistant(
        "You can keep `bigserial`, but two things push towards UUIDs once data is multi-tenant:\n\n"
        "- **Merging and moving tenants.** Sequences are per database; if you ever split tenants across two "
        "clusters or import a clinic from the old single-tenant install, ids collide.\n"
        "- **Enumeration.** Sequential ids in URLs tell one clinic how many appointments another booked.\n\n"
        "UUIDv4 fragments B-tree indexes because inserts land at random pages. **UUIDv7** is time-ordered, so "
        "inserts append like a sequence. Postgres 17 has no built-in `uuidv7()` yet, but generating it in the "
        "app is a few lines, or use the `pg_uuidv7` extension.\n\nFor existing tables you don't need to rewrite "
        "keys: keep the bigint PK and add a `public_id uuid` for anything exposed. New tables can start on "
        "UUIDv7.")
    c.user("new tables on uuidv7 from the app, existing ones keep bigint plus a public_id. we're on pg16 on RDS, no "
           "custom extensions allowed there anyway")
    c.assistant("That works on RDS. The app-side generator, in Python since your backend is Django:\n\n```python\n"
                "import os, time, uuid\n\ndef uuid7() -> uuid.UUID:\n    ms = int(time.time() * 1000)\n    rand = int.from_bytes(os.urandom(10), 'big')\n"
                "    value = (ms & ((1 << 48) - 1)) << 80 | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))\n"
                "    return uuid.UUID(int=value)\n```\n\nAnd the `public_id` columns:\n\n```sql\n" +
                "\n".join(f"alter table {t} add column public_id uuid unique;" for t in TABLES) + "\n```")
    cols = ["id bigint not null", "clinic_id bigint not null", "created_at timestamptz not null default now()",
            "updated_at timestamptz not null default now()"]
    desc = []
    for t in TABLES:
        desc.append(f'                                  Table "public.{t}"\n     Column      |           Type           | Collation | Nullable | Default | Storage  | Stats target | Description\n'
                    '-----------------+--------------------------+-----------+----------+---------+----------+--------------+-------------')
        for col in cols + [f"{rng.choice(TABLES)[:-1]}_id bigint" for _ in range(rng.randint(4, 8))] + [f"{f._n()}_{rng.choice(['note', 'status', 'code'])} text" for _ in range(rng.randint(10, 18))]:
            name, typ = col.split(" ", 1)
            desc.append(f" {name:<15} | {typ.split(' not null')[0].split(' default')[0]:<24} |           | {'not null' if 'not null' in typ else '':<8} |         | plain    |              |")
        desc.append(f'Indexes:\n    "{t}_pkey" PRIMARY KEY, btree (id)\n    "{t}_clinic_idx" btree (clinic_id)')
        fk = rng.sample(TABLES, 2)
        desc.append("Foreign-key constraints:\n" + "\n".join(f'    "{t}_{x[:-1]}_fk" FOREIGN KEY ({x[:-1]}_id) REFERENCES {x}(id)' for x in fk) + "\n")
    c.user("before I try this on staging, here's \\d+ for all of them. anything that would break? especially foreign keys\n\n" + "\n".join(desc))
    c.assistant(
        "Most foreign keys stay inside one clinic, so RLS is transparent for them. Three need attention:\n\n"
        "1. **`referrals.to_practitioner_id`** points at a practitioner who may belong to *another* clinic. With RLS on "
        "`practitioners`, the referring clinic can no longer see the target, and the FK check itself still passes "
        "(FK checks bypass RLS), so you'd get rows whose joins silently return nothing.\n"
        "2. **`audit_events`** has no `clinic_id` for system events (logins to the admin panel). The backfill would leave "
        "`tenant_id` null and the `not null` step fails.\n"
        "3. **`webhooks`** and **`api_tokens`** are looked up *before* the tenant is known (the token tells you the "
        "tenant). Under RLS that lookup returns nothing.\n\n"
        "For 3 the usual answer is a narrow `security definer` function that resolves a token to a tenant and nothing "
        "else. For 2, a separate table for system events. For 1 it depends on whether cross-clinic referrals are a real feature.")
    c.user("cross-clinic referrals are a real feature, GPs refer to physios in other practices all the time. keep them, but "
           "move them to their own table outside RLS that stores both tenant ids. the token lookup as a security definer "
           "function is fine. system audit events go to a separate table")
    c.assistant("Here's the shape for those three:\n\n```sql\ncreate table cross_referrals (\n  id bigserial primary key,\n"
                "  public_id uuid not null unique,\n  from_tenant_id uuid not null,\n  to_tenant_id uuid not null,\n"
                "  from_practitioner_id bigint not null references practitioners(id),\n  to_practitioner_id bigint not null references practitioners(id),\n"
                "  created_at timestamptz not null default now()\n);\n-- visible to either side\nalter table cross_referrals enable row level security;\n"
                "create policy cross_referrals_either on cross_referrals using (\n  current_setting('app.tenant_id', true)::uuid in (from_tenant_id, to_tenant_id));\n\n"
                "create function resolve_api_token(p_hash bytea) returns uuid\n  language sql security definer set search_path = public as $$\n"
                "  select tenant_id from api_tokens where token_hash = p_hash and revoked_at is null\n$$;\nrevoke all on function resolve_api_token(bytea) from public;\n"
                "grant execute on function resolve_api_token(bytea) to app_user;\n\ncreate table system_audit_events (like audit_events including all);\n```\n\n"
                "Strictly, `cross_referrals` does have a policy, but one that lets both tenants see the row, which is the point.")
    c.user("can you write pytest tests that prove one tenant can't read or write another's rows, for every table? we use pytest-django")
    tests = ["import uuid\n\nimport pytest\nfrom django.db import connection, transaction\n\nTENANT_A = uuid.UUID('0190d1c4-0000-7000-8000-00000000000a')\nTENANT_B = uuid.UUID('0190d1c4-0000-7000-8000-00000000000b')\n\n\n"
             "def as_tenant(tenant):\n    cur = connection.cursor()\n    cur.execute(\"select set_config('app.tenant_id', %s, true)\", [str(tenant)])\n    return cur\n"]
    for t in TABLES:
        tests.append(f"\n@pytest.mark.django_db(transaction=True)\ndef test_{t}_isolated(seed_two_tenants):\n    with transaction.atomic():\n        cur = as_tenant(TENANT_A)\n"
                     f"        cur.execute('select count(*) from {t} where tenant_id = %s', [str(TENANT_B)])\n        assert cur.fetchone()[0] == 0\n"
                     f"    with transaction.atomic():\n        cur = as_tenant(TENANT_A)\n        with pytest.raises(Exception, match='row-level security'):\n"
                     f"            cur.execute('insert into {t} (tenant_id, clinic_id) values (%s, 1)', [str(TENANT_B)])\n")
    c.assistant("One test per table, each in its own transaction so `set_config(..., true)` is scoped the way production "
                "uses it. `seed_two_tenants` is a fixture that inserts a row for each tenant in every table as the owner "
                "role before RLS is forced.\n\n```python\n" + "".join(tests) + "```\n\nRun them as the application role, "
                "not the owner, or they prove nothing: add `OPTIONS: {'options': '-c role=app_user'}` to the test database settings.")
    c.user("tried the policies on a staging copy. got this on the first query from the app:\n\n"
           "ERROR:  unrecognized configuration parameter \"app.tenant_id\"", pause=90)
    c.assistant(
        "That happens when a query runs before anything set `app.tenant_id` in the session, for example a "
        "health check or a Django management command. `current_setting('app.tenant_id')` raises when the "
        "parameter was never defined.\n\nThe policies above already pass `true` as the second argument "
        "(`current_setting('app.tenant_id', true)`), which returns NULL instead of raising, so the row is simply "
        "not visible. The error means at least one policy or view was created from an earlier draft without it. "
        "Find them with:\n\n```sql\nselect schemaname, tablename, policyname, qual\nfrom pg_policies\n"
        "where qual like '%current_setting(''app.tenant_id'')%';\n```\n\nRecreate those with the two-argument form.")
    c.user("found two old ones on invoices and payments, fixed. next one: the backfill fails with\n\n"
           "ERROR:  new row violates row-level security policy for table \"appointments\"")
    c.assistant(
        "The backfill `update` runs as the table owner, and `force row level security` now applies to the owner "
        "too. With no `app.tenant_id` set, the `with check` clause rejects every updated row.\n\nTwo clean "
        "options:\n1. Run the backfill **before** `force row level security` (enable it at the end of the "
        "migration), or\n2. run the migration as a dedicated role with `BYPASSRLS`.\n\nOption 1 keeps the "
        "migration self-contained. Reordered for one table:\n\n```sql\nalter table appointments add column if not exists tenant_id uuid;\n"
        "update appointments a set tenant_id = c.tenant_id from clinics c where a.clinic_id = c.id;\n"
        "alter table appointments alter column tenant_id set not null;\nalter table appointments enable row level security;\n"
        "alter table appointments force row level security;\ncreate policy appointments_tenant on appointments using (...) with check (...);\n```")
    c.user("option 1. the migration role having bypassrls makes our security people nervous")
    c.assistant("Makes sense. Then every table follows the same order: column, backfill, not null, index, enable, "
                "force, policy. The backfills on the big tables (appointments has ~90M rows?) should run in batches "
                "so they don't hold locks for long:\n\n```sql\n" +
                "\n".join(f"-- {t}\ndo $$\ndeclare n int;\nbegin\n  loop\n    update {t} x set tenant_id = c.tenant_id from clinics c\n"
                          f"    where x.clinic_id = c.id and x.tenant_id is null and x.id in (select id from {t} where tenant_id is null limit 50000);\n"
                          f"    get diagnostics n = row_count;\n    exit when n = 0;\n    commit;\n  end loop;\nend $$;\n" for t in TABLES) + "```")
    c.user("appointments is 140M actually. does commit inside a do block work?")
    c.assistant("Only from Postgres 11 on, and only when the `DO` block isn't itself inside a transaction. Most "
                "migration runners (Django's included) wrap each migration in a transaction, so the `commit` would "
                "fail with `invalid transaction termination`. For Django mark that migration `atomic = False`, or run "
                "the batches from a management command. For 140M rows at 50k per batch that's 2,800 batches; with "
                "the index on `(clinic_id)` already there, expect 20–40 minutes.")
    plan = ["Limit  (cost=0.57..4127.33 rows=50 width=312) (actual time=0.081..2417.902 rows=50 loops=1)",
            "  ->  Index Scan Backward using appointments_starts_at_idx on appointments  (cost=0.57..11833920.11 rows=143377 width=312) (actual time=0.080..2417.871 rows=50 loops=1)",
            "        Filter: (tenant_id = (current_setting('app.tenant_id'::text, true))::uuid)",
            f"        Rows Removed by Filter: {rng.randint(3_000_000, 4_000_000)}"]
    plan += [f"        Buffers: shared hit={rng.randint(100000, 900000)} read={rng.randint(1000, 90000)}" for _ in range(3)]
    plan += ["Planning Time: 0.412 ms", "Execution Time: 2418.015 ms"]
    c.user("the appointment list on staging went from 40 ms to 2.4 s after enabling RLS. explain analyze:\n\n" + "\n".join(plan))
    c.assistant("The planner walks `appointments_starts_at_idx` backwards and filters by tenant afterwards, discarding "
                "millions of rows from other clinics before it finds 50 of this one. The index created in the "
                "migration is on `(tenant_id, id)`, which doesn't help an `order by starts_at`. Make it "
                "`(tenant_id, starts_at desc)`:\n\n```sql\ncreate index concurrently appointments_tenant_starts_idx on appointments (tenant_id, starts_at desc);\n"
                "drop index concurrently appointments_tenant_idx;\n```\n\nThe general rule under RLS: every index a list "
                "view uses should lead with `tenant_id`. Here's that check for the other tables' list queries:\n\n" +
                "\n".join(f"- `{t}`: list ordered by `{rng.choice(['created_at', 'starts_at', 'updated_at', 'id'])}` → index `({'tenant_id'}, {rng.choice(['created_at', 'starts_at', 'updated_at', 'id'])} desc)`" for t in TABLES))
    c.user("index fixed it, 31 ms. ok")
    c.user("management command for the backfill then, separate from the schema migration. ok write me the final "
           "migration as one sql file I can hand to Bram for review, with the rollback at the bottom", pause=30)

    others_sorted = others + [c]
    data = chatgpt_export(others_sorted)
    labels = make_labels(
        session="chatgpt-rls-migration.conversations.json", fmt="chatgpt-export", conversation_id=c.id,
        features=["chatgpt-export", "multiple-conversations", "edited-message-branch", "regenerated-answer-branch",
                  "long-code-answers", "last-instruction-is-a-request-with-no-answer-yet"],
        primary_request=S("Decide how to make the clinic booking Postgres database multi-tenant (~4,000 to 10,000 clinics) "
                          "and produce the migration.", "schema per tenant or row-level security?"),
        instructions=[{"id": m["id"], "text": m["text"]} for m in c.person_messages if m["text"] != "index fixed it, 31 ms. ok"],
        decisions=[
            D("Shared schema with row-level security, not schema-per-tenant.",
              "With 4,000-10,000 tenants and migrations several times a week, per-schema migrations would take hours and drift.",
              "I'd go with a shared schema and row-level"),
            D("Set the tenant with set_config('app.tenant_id', $1, true) (SET LOCAL) at the start of every transaction.",
              "pgbouncer runs in transaction mode; a plain SET would leak the tenant across pooled clients.",
              "set_config at the start of every transaction then"),
            D("New tables use app-generated UUIDv7 keys; existing tables keep bigint keys and get a public_id uuid.",
              "Avoid id collisions and enumeration; RDS on pg16 allows no custom extensions.",
              "new tables on uuidv7 from the app, existing ones keep bigint plus a public_id"),
            D("Backfill before enabling/forcing RLS in each table's migration, instead of a BYPASSRLS migration role.",
              "A migration role with BYPASSRLS makes the security team nervous.",
              "option 1. the migration role having bypassrls makes our security people nervous"),
            D("Cross-clinic referrals move to their own table (cross_referrals) storing both tenant ids, visible to either side.",
              "Cross-clinic referrals are a real feature (GPs refer to physios in other practices).",
              "keep them, but move them to their own table outside RLS that stores both tenant ids"),
            D("Resolve API tokens to a tenant through a narrow security definer function.",
              "Tokens are looked up before the tenant is known.", "the token lookup as a security definer function is fine"),
            D("System audit events (no clinic) go to a separate table.", "They have no clinic_id, so the tenant backfill can't fill them.",
              "system audit events go to a separate table"),
            D("Run the large backfill as a separate Django management command, not inside the schema migration.",
              "Commit inside a DO block fails inside the migration runner's transaction; appointments has 140M rows.",
              "management command for the backfill then, separate from the schema migration"),
        ],
        files=[],
        errors=[
            E("ERROR:  unrecognized configuration parameter \"app.tenant_id\"",
              "Two old policies (invoices, payments) used the one-argument current_setting; recreated with current_setting('app.tenant_id', true).",
              "found two old ones on invoices and payments, fixed"),
            E("ERROR:  new row violates row-level security policy for table \"appointments\"",
              "Reordered each table's migration: backfill before enable/force RLS.",
              "Run the backfill **before** `force row level security`"),
            E("Execution Time: 2418.015 ms", "Index on (tenant_id, starts_at desc) instead of (tenant_id, id).",
              "index fixed it, 31 ms"),
        ],
        pending_tasks=[T("Write the final migration as one SQL file for Bram to review, rollback at the bottom.",
                         "write me the final migration as one sql file I can hand to Bram for review"),
                       T("Write the backfill management command (batched, separate from the schema migration).",
                         "management command for the backfill then")],
        current_work=S("Settled the migration design (RLS, set_config per transaction, ordering, batched backfill).",
                       "column, backfill, not null, index, enable, force, policy"),
        next_step=S("Produce the single migration SQL file with rollback for Bram.",
                    "with the rollback at the bottom"),
        not_instructions=[],
        notes="The first user message was edited: the abandoned branch asks about schema-per-tenant and is answered in favour "
              "of it; it is not on the current_node path and must not count. The answer 'Keep bigserial' was regenerated; "
              "only the second answer is on the path. Files: none (a chat, no tool calls).",
    )
    # abandoned-branch text, for scorers that want to check it is NOT carried over
    labels["off_path_distractors"] = ["should we use a schema per tenant in postgres?", "Keep bigserial. It's compact and fast"]
    return data, labels


def build_analysis(seed=7703):
    rng = random.Random(seed)
    f = Filler(rng, ["kwh", "import", "export", "pv", "load"], ["sum", "mean"])
    small = ChatGPTConversation(rng, "Excel: lookup across two sheets", "2025-03-02T12:00:00Z", model="gpt-4o")
    small.user("xlookup across sheets when the key is in column C on the other sheet?")
    small.assistant("`=XLOOKUP(A2, Sheet2!C:C, Sheet2!F:F, \"not found\")` returns column F of the row where Sheet2's C matches A2.")
    c = ChatGPTConversation(rng, "Solar self-consumption and battery sizing", "2025-03-09T08:30:00Z", model="gpt-4o")
    c.user("I've attached a year of readings from my smart meter and the inverter (p1_and_inverter_2024.csv, 15 minute "
           "intervals). I want to know how much of my solar I use myself and whether a home battery makes sense. "
           "start by loading it and telling me what's in there")
    days = [f"2024-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)]
    head = "\n".join(f"{d} {h:02d}:{q:02d}  {rng.uniform(0, 0.9):.3f}  {rng.uniform(0, 1.4):.3f}  {rng.uniform(0, 2.2):.3f}"
                     for d in days[:10] for h in range(6, 20) for q in (0, 15, 30, 45))
    c.code_run("import pandas as pd\ndf = pd.read_csv('/mnt/data/p1_and_inverter_2024.csv', parse_dates=['timestamp'])\n"
               "print(df.shape)\nprint(df.dtypes)\nprint(df.head(560).to_string())",
               "(35136, 4)\ntimestamp    datetime64[ns]\nimport_kwh          float64\nexport_kwh          float64\npv_kwh              float64\ndtype: object\n" + head)
    c.assistant("The file has 35,136 rows: one every 15 minutes for all of 2024 (a leap year, so 366 days), with "
                "`import_kwh` and `export_kwh` from the P1 meter and `pv_kwh` from the inverter. No missing "
                "timestamps. Before computing anything: your consumption isn't in the file directly, but it "
                "follows as `pv − export + import` for each interval.")
    c.user("the hourly numbers in the inverter app look different. should we resample to hourly to match?")
    c.assistant("I'd keep the 15-minute data. Resampling to hourly lets a midday export spike offset an import "
                "in the same hour on paper, which overstates self-consumption and understates what a battery "
                "could catch. The inverter app averages, which is likely why it looks different.")
    c.user("ok keep 15 min")
    monthly = "\n".join(f"2024-{m:02d}  pv {rng.uniform(80, 620):7.1f}  self {rng.uniform(60, 300):6.1f}  export {rng.uniform(10, 380):6.1f}  import {rng.uniform(120, 480):6.1f}  ratio {rng.uniform(0.3, 0.85):.2f}" for m in range(1, 13))
    daily = "\n".join(f"{d}  pv {rng.uniform(0, 30):5.2f}  load {rng.uniform(6, 18):5.2f}  export {rng.uniform(0, 20):5.2f}" for d in days)
    c.code_run("df['load_kwh'] = df.pv_kwh - df.export_kwh + df.import_kwh\ndf['self_kwh'] = df.pv_kwh - df.export_kwh\n"
               "m = df.resample('MS', on='timestamp').sum()\nprint(m.round(1).to_string())\nd = df.resample('D', on='timestamp').sum()\nprint(d.round(2).to_string())",
               monthly + "\n\n" + daily)
    c.assistant("Self-consumption over the year is about 41%: you produced roughly 4,900 kWh and used ~2,000 of it "
                "directly. July stands out, though: production drops to almost nothing for twelve days "
                "(8–19 July) while the weather that month was normal. That looks like an outage, not a cloudy spell.")
    c.user("yes the inverter was dead for two weeks in july, replaced under warranty. leave those days out, they'd "
           "just skew everything")
    c.code_run("outage = (df.timestamp >= '2024-07-08') & (df.timestamp < '2024-07-20')\nclean = df[~outage]\n"
               "for cap in [5, 7.5, 10, 12.5, 15, 20]:\n    print(cap, simulate(clean, cap_kwh=cap, eff=0.9).round(1).to_dict())",
               "\n".join(f"{cap} {{'extra_self_kwh': {rng.uniform(300, 1500):.1f}, 'cycles': {rng.uniform(150, 330):.1f}, 'saving_eur': {rng.uniform(90, 420):.1f}}}" for cap in [5, 7.5, 10, 12.5, 15, 20]))
    c.assistant("With the outage excluded and 90% round-trip efficiency, the simulated battery adds:\n\n"
                "| capacity | extra self-use | cycles/yr | saving/yr |\n|---|---|---|---|\n| 5 kWh | ~690 kWh | ~310 | ~€190 |\n"
                "| 10 kWh | ~1,150 kWh | ~250 | ~€315 |\n| 15 kWh | ~1,330 kWh | ~190 | ~€365 |\n| 20 kWh | ~1,400 kWh | ~150 | ~€385 |\n\n"
                "The curve flattens after 10 kWh: summer evenings can't use more than that, and in winter there's "
                "nothing to store. With quotes you mentioned (€6,500 for 10 kWh, €9,000 for 15 kWh), payback is "
                "about 21 and 25 years at today's tariff.")
    first_q = c.user("what if net metering ends in 2027 like they keep saying")
    r = c.assistant("Then exports are worth little and the battery looks much better: payback around 9 years.")
    c.branch_from(first_q)
    c.code_run("for cap in [10, 15]:\n    print(cap, payback(clean, cap, quote[cap], export_tariff_after_2027=0.07))",
               "10 {'payback_years': 11.8}\n15 {'payback_years': 14.1}")
    c.assistant("If net metering ends in 2027 and exports earn about €0.07/kWh afterwards, payback drops to about "
                "12 years for 10 kWh and 14 for 15 kWh. The 10 kWh battery stays the better buy either way, and "
                "both quotes carry a 10-year warranty, so the 15 kWh's extra capacity pays off only after the warranty ends.")
    c.user("10 then. the 15 only pays off after its warranty runs out, that's not a bet I want to make")
    c.user("we also charge the car at home, about 11 kWh every other evening. what happens if I move that to midday on sunny days?")
    weeks = "\n".join(f"2024-06-{10 + i // 96:02d} {(i % 96) // 4:02d}:{(i % 4) * 15:02d}  pv {rng.uniform(0, 1.3):.3f}  load {rng.uniform(0.05, 0.9):.3f}  load_ev_midday {rng.uniform(0.05, 3.0):.3f}  export {rng.uniform(0, 1.1):.3f}" for i in range(96 * 10))
    weeks2 = "\n".join(f"2024-01-{15 + i // 96:02d} {(i % 96) // 4:02d}:{(i % 4) * 15:02d}  pv {rng.uniform(0, 0.3):.3f}  load {rng.uniform(0.05, 0.9):.3f}  load_ev_midday {rng.uniform(0.05, 3.0):.3f}  export {rng.uniform(0, 0.1):.3f}" for i in range(96 * 7))
    c.code_run("ev = shift_ev(clean, kwh=11, every_days=2, window=('11:00', '15:00'), only_if_pv_forecast_kwh=12)\n"
               "print(ev.loc['2024-06-10':'2024-06-16'].round(3).to_string())\nprint(ev.loc['2024-01-15':'2024-01-21'].round(3).to_string())\n"
               "print(compare(clean, ev, battery_kwh=10))", weeks + "\n\n" + weeks2 +
               "\n{'self_consumption': {'before': 0.41, 'ev_shift': 0.52, 'ev_shift_and_10kwh': 0.71}, 'saving_eur': {'ev_shift': 164.0, 'ev_shift_and_10kwh': 441.0}}")
    c.assistant("Moving the car to 11:00–15:00 on days with a decent forecast lifts self-consumption from 41% to about "
                "52% on its own, worth roughly €165 a year, for nothing. Combined with the 10 kWh battery it reaches "
                "about 71%. The two don't compete much: the car soaks up the midday peak, the battery the early evening. "
                "In winter (the January week above) there's rarely enough sun, so the car goes back to evenings.")
    c.user("I'm home three days a week anyway, so midday charging on those days is easy. let's assume that, not every sunny day")
    c.code_run("ev3 = shift_ev(clean, kwh=11, weekdays=['Mon', 'Wed', 'Fri'], window=('11:00', '15:00'))\nprofile = ev3.groupby([ev3.timestamp.dt.month, ev3.timestamp.dt.hour]).mean()\nprint(profile.round(3).to_string())\nprint(compare(clean, ev3, battery_kwh=10))",
               "\n".join(f"{m:>2} {h:>2}  pv {rng.uniform(0, 1.2):.3f}  load {rng.uniform(0.1, 1.5):.3f}  export {rng.uniform(0, 0.8):.3f}  import {rng.uniform(0, 0.8):.3f}" for m in range(1, 13) for h in range(24)) +
               "\n{'self_consumption': {'before': 0.41, 'ev_shift': 0.49, 'ev_shift_and_10kwh': 0.68}, 'saving_eur': {'ev_shift': 131.0, 'ev_shift_and_10kwh': 402.0}}")
    c.assistant("With midday charging only on your three home days: self-consumption 49% from the car alone, about 68% "
                "with the 10 kWh battery, roughly €400 a year together. The battery's payback at today's tariff "
                "improves to about 16 years, and to about 10 if net metering ends in 2027.")
    c.user("make me a one-page summary I can send to the installer, plain text, no tables", pause=15)
    data = chatgpt_export([small, c])
    labels = make_labels(
        session="chatgpt-solar-analysis.conversations.json", fmt="chatgpt-export", conversation_id=c.id,
        features=["chatgpt-export", "code-interpreter-tool-messages", "regenerated-answer-branch", "uploaded-data"],
        primary_request=S("Work out solar self-consumption from a year of 15-minute meter data and whether a home battery makes sense.",
                          "I want to know how much of my solar I use myself and whether a home battery makes sense"),
        instructions=[{"id": m["id"], "text": m["text"]} for m in c.person_messages],
        decisions=[
            D("Keep the 15-minute resolution instead of resampling to hourly.",
              "Hourly lets midday exports offset imports on paper, overstating self-consumption.", "ok keep 15 min"),
            D("Exclude 8-19 July 2024 from the analysis.", "The inverter was dead then (replaced under warranty).",
              "leave those days out, they'd just skew everything"),
            D("Choose the 10 kWh battery, not 15 kWh.",
              "The 15 kWh only pays off after its 10-year warranty runs out.",
              "10 then. the 15 only pays off after its warranty runs out"),
            D("Assume midday EV charging only on the three days a week the person works from home.",
              "Those days are easy to charge at midday; not every sunny day.",
              "I'm home three days a week anyway, so midday charging on those days is easy"),
        ],
        files=[],
        errors=[],
        pending_tasks=[T("Write a one-page plain-text summary (no tables) for the installer.",
                         "make me a one-page summary I can send to the installer, plain text, no tables")],
        current_work=S("Battery sizing done (10 kWh) and EV midday charging on home days modelled: ~68% self-consumption, ~€400/yr.",
                       "about 68% with the 10 kWh battery"),
        next_step=S("Write the installer summary.", "one-page summary I can send to the installer"),
        notes="The first answer to the net-metering question was regenerated; only the second (with the code run) is on the "
              "current path. The data file is named by the person (p1_and_inverter_2024.csv) but no tool touched a path "
              "the person owns, so files is empty.",
    )
    labels["off_path_distractors"] = ["payback around 9 years"]
    return data, labels
