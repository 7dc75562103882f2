"""Session 4: an analytics (dbt/SQL) investigation with a sub-agent written inline as isSidechain lines,
a very long final report from the assistant, and a short last instruction from the person."""

import random

from corpuslib import ClaudeCodeSession, Filler, short_hex
from labels import D, E, F, S, T, make_labels

NOUNS = ["order", "line_item", "refund", "customer", "store", "currency", "fx_rate", "shipment", "sku",
         "channel", "region", "discount", "tax", "payment", "invoice", "week"]
VERBS = ["stg", "int", "fct", "dim", "agg", "snap", "base", "rpt"]


def sql_model(rng, f, name, refs, extra=""):
    cols = []
    for _ in range(rng.randint(8, 20)):
        c = f"{rng.choice(NOUNS)}_{rng.choice(['id', 'at', 'amount', 'eur', 'status', 'code', 'count', 'flag', 'date'])}"
        cols.append(c)
    cols = list(dict.fromkeys(cols))
    ctes = []
    for r in refs:
        sel = ",\n        ".join(rng.sample(cols, min(len(cols), rng.randint(4, 9))))
        where = rng.choice(["", f"\n    where {rng.choice(cols)} is not null", f"\n    where {rng.choice(cols)} >= '2023-01-01'",
                            f"\n    where not {rng.choice(NOUNS)}_flag"])
        ctes.append(f"{r} as (\n    select\n        {sel}\n    from {{{{ ref('{r}') }}}}{where}\n)")
    body = ",\n\n".join(ctes)
    final = ",\n    ".join(rng.sample(cols, min(len(cols), rng.randint(5, 12))))
    joins = "\n".join(f"left join {r} using ({rng.choice(cols)})" for r in refs[1:])
    return (f"{{{{ config(materialized='{rng.choice(['table', 'view', 'incremental'])}') }}}}\n\n-- {name}\nwith {body}\n\n"
            f"select\n    {final}\nfrom {refs[0]}\n{joins}\n{extra}").rstrip() + "\n"


def week_table(rng, weeks, cols):
    head = "| " + " | ".join(cols) + " |"
    sep = "|" + "|".join("---" for _ in cols) + "|"
    rows = [head, sep]
    for w in weeks:
        a = rng.randint(180000, 420000)
        b = a + rng.randint(-26000, 31000)
        rows.append(f"| {w} | {a:,} | {b:,} | {b - a:+,} | {((b - a) / a) * 100:+.1f}% |")
    return "\n".join(rows)


def build(seed=4421):
    rng = random.Random(seed)
    f = Filler(rng, NOUNS, VERBS)
    s = ClaudeCodeSession(rng, cwd="/home/ines/analytics/tallow-dbt", branch="main", version="1.0.98",
                          model="claude-opus-4-1-20250805", start="2025-08-26T15:31:02.000Z")
    root = s.cwd
    models = {}
    for layer, names in [("staging", ["stg_orders", "stg_refunds", "stg_line_items", "stg_fx_rates", "stg_stores", "stg_shipments"]),
                         ("intermediate", ["int_orders_enriched", "int_refunds_netted", "int_fx_daily"]),
                         ("marts", ["fct_revenue_weekly", "fct_orders", "dim_customers", "dim_stores"])]:
        for n in names:
            refs = rng.sample(["stg_orders", "stg_refunds", "stg_line_items", "stg_fx_rates", "stg_stores", "stg_shipments"], rng.randint(2, 4))
            models[n] = f"models/{layer}/{n}.sql"
            s.files[f"{root}/{models[n]}"] = sql_model(rng, f, n, refs)
    s.files[f"{root}/models/marts/fct_revenue_weekly.sql"] += (
        "\n-- week boundary and revenue date\nselect\n    date_trunc('week', o.created_at) as revenue_week,\n"
        "    sum(o.amount_eur) - coalesce(sum(r.refund_eur), 0) as net_revenue_eur\nfrom {{ ref('int_orders_enriched') }} o\n"
        "left join {{ ref('int_refunds_netted') }} r on r.order_id = o.order_id\ngroup by 1\n")
    s.files[f"{root}/models/staging/stg_orders.sql"] += (
        "\n-- source rows arrive from the Shopify webhook, one per delivery attempt\nselect * from {{ source('shopify', 'orders_raw') }}\n")

    weeks = [f"2025-W{w:02d}" for w in range(1, 34)]
    s.person("the weekly revenue dashboard and finance's numbers disagree again, by 4-9% depending on the week. "
             "finance's export for Q2 is in data/finance_q2_revenue.csv. find out why. it's been going on since "
             "at least january")
    s.files[f"{root}/data/finance_q2_revenue.csv"] = "week,net_revenue_eur\n" + "\n".join(f"{w},{rng.randint(180000, 420000)}" for w in weeks[13:26])
    s.read("data/finance_q2_revenue.csv")
    s.person("also, their export is net of VAT. make sure we're comparing like with like before you go hunting")
    s.grep("tax|vat", [f"{root}/{models[n]}:{rng.randint(5, 40)}:        tax_amount" for n in ["stg_orders", "stg_line_items", "int_orders_enriched"]],
           mode="content", note="Checking where tax is handled before comparing anything.")
    s.read(models["int_orders_enriched"])
    s.read(models["stg_line_items"])
    s.say("VAT is already out: `int_orders_enriched` computes `amount_eur` from line items net of `tax_amount`, "
          "so both sides are ex-VAT. The gap is something else.")
    log = []
    for i, n in enumerate(sorted(models) * 20, 1):
        log.append(f"{15 + i // 60:02d}:{i % 60:02d}:{rng.randint(10, 59)}  {i} of {len(models) * 20} OK created sql {rng.choice(['table', 'view', 'incremental'])} model analytics.{n}_{f._n()} .... [SELECT {rng.randint(100, 900000)} in {rng.uniform(0.2, 40):.2f}s]")
        if rng.random() < 0.3:
            log.append(f"{15 + i // 60:02d}:{i % 60:02d}:{rng.randint(10, 59)}  {i} of {len(models) * 20} PASS not_null_{n}_{f._n()}_id .... [PASS in {rng.uniform(0.1, 3):.2f}s]")
    s.bash("dbt build --target prod_readonly --select +fct_revenue_weekly --empty=false 2>&1 | tail -400", "\n".join(log),
           description="Rebuild the revenue lineage into a scratch schema so the numbers are current")

    def side(sess):
        sess.say("I'll map the lineage of fct_revenue_weekly first.")
        for n in ["fct_revenue_weekly", "int_orders_enriched", "int_refunds_netted", "stg_orders", "stg_refunds",
                  "stg_fx_rates", "int_fx_daily", "stg_shipments", "stg_stores"]:
            sess.read(models[n], reminder=False)
        sess.grep("created_at", [f"{root}/{models[n]}" for n in ["fct_revenue_weekly", "int_orders_enriched", "stg_orders", "fct_orders"]])
        sess.grep("test_store|is_test", [f"{root}/{models['dim_stores']}"])
        sess.bash("dbt ls --select +fct_revenue_weekly --output name",
                  "\n".join(sorted(set(["fct_revenue_weekly", "int_orders_enriched", "int_refunds_netted", "int_fx_daily", "stg_orders",
                                        "stg_refunds", "stg_fx_rates", "stg_stores", "stg_shipments", "stg_line_items"]))))
        for n in ["fct_orders", "dim_customers", "dim_stores", "stg_line_items"]:
            sess.read(models[n], reminder=False)
        sess.bash("git log --format='%h %ad %s' --date=short -- models/staging/stg_orders.sql models/intermediate/int_fx_daily.sql",
                  f.git_log([f"2025-0{rng.randint(1, 8)}-{rng.randint(10, 28)} {x}" for x in [
                      "stg_orders: read from webhook table instead of nightly export", "int_fx_daily: switch to ECB source",
                      "int_fx_daily: month average to smooth dashboard", "stg_orders: cast total_price to numeric",
                      "initial staging models"]]))
        sess.say("Lineage mapped; reporting back.")

    lineage = (
        "Lineage of `fct_revenue_weekly`:\n\n"
        "```\nshopify.orders_raw ─> stg_orders ─┐\nshopify.refunds_raw ─> stg_refunds ─> int_refunds_netted ─┐\n"
        "ecb.rates ─> stg_fx_rates ─> int_fx_daily ─> int_orders_enriched ─> fct_revenue_weekly\n"
        "stg_stores ───────────────────────────┘\n```\n\n"
        "Points worth checking:\n"
        "- `fct_revenue_weekly` buckets on `date_trunc('week', o.created_at)` (order creation), in UTC.\n"
        "- `stg_orders` selects straight from the webhook table, one row per delivery attempt, with no dedupe.\n"
        "- `int_fx_daily` actually joins the monthly average rate (`rate_month_avg`), despite its name.\n"
        "- `int_refunds_netted` attaches refunds to the original order, so a refund in July reduces a week in May.\n"
        "- `dim_stores` has `is_test` but nothing downstream filters on it.")
    s.task("Map revenue model lineage",
           "Trace models/marts/fct_revenue_weekly.sql back to its sources. For each model in the chain note the date "
           "column used, how currency is converted, whether refunds are netted, and any dedupe or filtering. Report "
           "anything that would make weekly totals differ from a finance export booked on ship date.",
           "Explore", lineage, note="I'll have a sub-agent map the model lineage while I compare the numbers.",
           sidechain_steps=[side])
    q = week_table(rng, weeks[13:26], ["week", "finance_eur", "dashboard_eur", "diff_eur", "diff_pct"])
    s.bash("dbt show --inline \"select * from {{ ref('fct_revenue_weekly') }} where revenue_week between '2025-03-31' and '2025-06-29'\" --limit 200",
           q, description="Pull the dashboard's Q2 weeks")
    dup = "\n".join(f"| {rng.randint(5_000_000, 5_999_999)} | {rng.randint(2, 4)} | {rng.randint(20, 900)}.{rng.randint(0, 99):02d} |" for _ in range(600))
    s.bash("dbt show --inline \"select order_id, count(*) as n, max(total_price) from {{ ref('stg_orders') }} group by 1 having count(*) > 1 order by 2 desc\" --limit 600",
           "| order_id | n | max |\n|---|---|---|\n" + dup, description="Look for duplicated orders in staging")
    s.bash("dbt show --inline \"select count(*) as orders, sum(amount_eur) from {{ ref('int_orders_enriched') }} o join {{ ref('dim_stores') }} s using (store_id) where s.is_test\"",
           f"| orders | sum |\n|---|---|\n| {rng.randint(900, 1400)} | {rng.randint(40000, 90000)}.{rng.randint(0, 99):02d} |", description="Orders from test stores")
    for w in weeks[13:26]:
        pass
    fx = "\n".join(f"| 2025-{m:02d}-{d:02d} | {1.05 + rng.uniform(-0.03, 0.06):.4f} | {1.07 + rng.uniform(-0.01, 0.02):.4f} |" for m in (4, 5, 6) for d in range(1, 29))
    s.bash("dbt show --inline \"select rate_date, rate_daily, rate_month_avg from {{ ref('int_fx_daily') }} where currency = 'USD' and rate_date between '2025-04-01' and '2025-06-30'\" --limit 100",
           "| rate_date | rate_daily | rate_month_avg |\n|---|---|---|\n" + fx, description="Daily vs monthly-average USD rates")

    report_parts = [
        "I've found five separate causes. Together they account for the whole gap in every Q2 week to within "
        "0.3%. Ranked by how many euros each one moves:\n",
        "## 1. The dashboard books revenue on order creation, finance on shipment (≈55% of the gap)\n",
        "`fct_revenue_weekly` buckets on `created_at`. Finance books an order in the week it ships. Orders placed "
        "on Friday–Sunday usually ship Monday or Tuesday, so roughly a third of weekend revenue lands a week "
        "earlier on the dashboard. Pre-orders are worse: the May launch pre-orders created in W18 shipped in W21.\n",
        "**Fix:** bucket on `shipped_at` from `stg_shipments` (first shipment per order), which is what finance uses. "
        "Unshipped orders drop out of the weekly revenue until they ship.\n",
        "## 2. Webhook retries create duplicate orders in staging (≈25%)\n",
        f"`stg_orders` has one row per webhook delivery. {rng.randint(1100, 1900)} orders in Q2 appear two to four "
        "times, always when Shopify retried after a timeout on our ingest endpoint. Every copy is summed.\n",
        "**Fix:** keep the latest row per `order_id` by `updated_at` in `stg_orders` (a `qualify row_number()` dedupe), "
        "and add a `unique` test on `order_id` so it can't come back silently.\n",
        "## 3. Currency conversion uses the monthly average, finance uses the daily ECB rate (≈10%)\n",
        "`int_fx_daily` is named daily but joins `rate_month_avg`. For USD and GBP orders that moves individual "
        "weeks by up to 1.5%, in both directions.\n",
        "**Fix:** join on `rate_daily` at the ship date. Needs a decision on which date: order or ship.\n",
        "## 4. Test-store orders are not excluded (≈6%)\n",
        "The QA store (`store_id` 7) and the two staging storefronts have `is_test = true`, but nothing downstream "
        "filters them. About a thousand orders in Q2.\n",
        "**Fix:** filter `not is_test` in `int_orders_enriched`.\n",
        "## 5. Refunds are netted into the original order's week (≈4%, plus it rewrites history)\n",
        "`int_refunds_netted` attaches each refund to its order, so the dashboard's figure for a past week keeps "
        "changing as refunds arrive. Finance books refunds in the week they are paid out. This is why the "
        "dashboard's January weeks have drifted since you last compared them.\n",
        "**Fix:** aggregate refunds by `refunded_at` week and subtract them there.\n",
        "## Week-by-week reconciliation\n",
        "Each column removes one cause, cumulatively:\n",
    ]
    rec = ["| week | dashboard | −cause 1 | −cause 2 | −cause 3 | −cause 4 | −cause 5 | finance | residual |", "|---|---|---|---|---|---|---|---|---|"]
    for w in weeks:
        base = rng.randint(180000, 420000)
        vals = [base]
        for _ in range(5):
            vals.append(vals[-1] - rng.randint(-4000, 9000))
        fin = vals[-1] + rng.randint(-600, 600)
        rec.append(f"| {w} | " + " | ".join(f"{v:,}" for v in vals) + f" | {fin:,} | {((vals[-1] - fin) / fin) * 100:+.2f}% |")
    report_parts.append("\n".join(rec))
    report_parts += [
        "\n## Order of work I'd suggest\n",
        "1 and 2 are unambiguous bugs against finance's definition and can ship independently. 3 needs the "
        "order-date vs ship-date question answered. 4 is a one-line filter but changes historical numbers that "
        "have already been shown to the board. 5 changes the meaning of past weeks and needs finance to sign "
        "off on restating them.\n",
        "## Per-store breakdown of cause 2 (duplicates)\n",
    ]
    per = ["| store | duplicated orders | double-counted EUR |", "|---|---|---|"]
    for st in range(1, 41):
        per.append(f"| {st} | {rng.randint(0, 140)} | {rng.randint(0, 90000):,} |")
    report_parts.append("\n".join(per))
    report_parts.append("\nNothing has been changed in the project yet.")
    s.person("do we know when the duplicates started? I want to tell the platform team", pause=2)
    s.bash("dbt show --inline \"select date_trunc('month', created_at) as m, count(*) - count(distinct order_id) as extra_rows from {{ source('shopify', 'orders_raw') }} group by 1 order by 1\"",
           "| m | extra_rows |\n|---|---|\n" + "\n".join(f"| 2024-{mm:02d}-01 | 0 |" for mm in range(1, 13)) + "\n" +
           "\n".join(f"| 2025-{mm:02d}-01 | {0 if mm < 1 else rng.randint(200, 900)} |" for mm in range(1, 9)),
           description="Duplicate rows per month in the raw webhook table")
    s.say("They start in January 2025, the month `stg_orders` switched from the nightly export to the webhook table "
          "(`stg_orders: read from webhook table instead of nightly export`). Before that there are none. So it's our "
          "ingest endpoint timing out and Shopify retrying; the platform team will want to look at the endpoint's "
          "response time.")
    s.say("\n".join(report_parts), thinking="Put the whole reconciliation in one report, ranked by euros, with fixes.")
    s.person("fine. ship the first two, park the rest till after the board meeting", pause=21)
    s.edit(models["stg_orders"], "select * from {{ source('shopify', 'orders_raw') }}\n",
           "select *\nfrom {{ source('shopify', 'orders_raw') }}\n-- one row per order: webhook retries deliver the same order several times\nqualify row_number() over (partition by order_id order by updated_at desc) = 1\n",
           note="Starting with the dedupe in stg_orders, then the ship-date bucketing.")
    s.edit(models["fct_revenue_weekly"], "    date_trunc('week', o.created_at) as revenue_week,",
           "    date_trunc('week', sh.first_shipped_at) as revenue_week,  -- finance books revenue on shipment")
    s.bash("dbt build --select stg_orders+ --fail-fast", "", stderr=(
        "Database Error in model fct_revenue_weekly (models/marts/fct_revenue_weekly.sql)\n"
        "  column sh.first_shipped_at does not exist\n  LINE 38:     date_trunc('week', sh.first_shipped_at) as revenue_week,"),
        code=1)

    F_ = lambda rel, mod: F(f"{root}/{rel}", modified=mod, rel=rel)  # noqa: E731
    labels = make_labels(
        session="cc-tallow-sidechain-long-report.jsonl", fmt="claude-code-jsonl",
        features=["inline-sidechain-subagent", "task-tool", "very-long-final-assistant-output",
                  "short-last-instruction-after-long-agent-output", "ends-mid-work-with-error"],
        primary_request=S("Find out why the weekly revenue dashboard disagrees with finance's numbers by 4-9%.",
                          "the weekly revenue dashboard and finance's numbers disagree again"),
        instructions=[{"id": m["uuid"], "text": m["text"]} for m in s.person_messages],
        decisions=[
            D("Ship fix 1 (bucket revenue on ship date) and fix 2 (dedupe webhook retries in stg_orders) now.",
              "Both are unambiguous bugs against finance's definition and can ship independently.",
              "ship the first two", explicit=True),
            D("Park fixes 3-5 (daily FX rate, excluding test stores, refunds in the week paid) until after the board meeting.",
              "They change historical numbers already shown to the board / need finance sign-off.",
              "park the rest till after the board meeting"),
            D("Revenue is bucketed by the first shipment date (finance's definition), not order creation.",
              "Finance books an order in the week it ships.", "finance books revenue on shipment", explicit=False),
            D("Deduplicate stg_orders to the latest row per order_id by updated_at.",
              "Shopify webhook retries deliver the same order several times.",
              "one row per order: webhook retries deliver the same order several times", explicit=False),
        ],
        files=[F_("data/finance_q2_revenue.csv", False), F_("models/staging/stg_orders.sql", True),
               F_("models/marts/fct_revenue_weekly.sql", True), F_("models/intermediate/int_fx_daily.sql", False),
               F_("models/intermediate/int_refunds_netted.sql", False), F_("models/intermediate/int_orders_enriched.sql", False)],
        errors=[E("column sh.first_shipped_at does not exist",
                  "Not fixed yet: fct_revenue_weekly needs a join to the first shipment per order (stg_shipments).",
                  "bucket on `shipped_at` from `stg_shipments` (first shipment per order)")],
        pending_tasks=[
            T("Fix the dbt build: join the first shipment per order so fct_revenue_weekly can bucket on ship date.",
              "column sh.first_shipped_at does not exist"),
            T("Add a unique test on order_id in stg_orders.", "add a `unique` test on `order_id`"),
            T("After the board meeting: daily ECB rate (cause 3), exclude test stores (cause 4), refunds in the week paid (cause 5).",
              "park the rest till after the board meeting"),
        ],
        current_work=S("Applying fixes 1 and 2: stg_orders dedupe written; fct_revenue_weekly now buckets on sh.first_shipped_at but "
                       "the build fails because that column isn't joined yet.",
                       "date_trunc('week', sh.first_shipped_at) as revenue_week,  -- finance books revenue on shipment"),
        next_step=S("Join stg_shipments (first shipment per order) into fct_revenue_weekly, rerun dbt build, add the unique test.",
                    "dbt build --select stg_orders+ --fail-fast"),
        not_instructions=["Trace models/marts/fct_revenue_weekly.sql back to its sources."],
        notes="The sub-agent's prompt and its work are isSidechain lines in the same file (the older single-file layout).",
    )
    return s.render(), labels
