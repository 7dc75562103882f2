"""Session 1: a tool-heavy Claude Code session on a Python payments service (duplicate payouts)."""

import random

from corpuslib import ClaudeCodeSession, Filler, short_hex
from labels import D, E, F, S, T, make_labels

NOUNS = ["payout", "ledger", "invoice", "batch", "settlement", "account", "iban", "counterparty", "fee",
         "remittance", "statement", "window", "cutoff", "entry", "journal", "posting", "currency", "mandate"]
VERBS = ["reconcile", "post", "load", "build", "match", "fetch", "split", "normalise", "close", "open",
         "flag", "emit", "settle", "reverse", "collect", "render"]

RETRY_OLD = '''def with_retries(send: Callable[[], httpx.Response], attempts: int = 4) -> httpx.Response:
    """Call send() until it works or we run out of attempts."""
    delay = 0.5
    last_exc: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            resp = send()
            resp.raise_for_status()
            return resp
        except Exception as exc:  # noqa: BLE001 - the bank's gateway is flaky
            last_exc = exc
            log.warning("bank call failed (attempt %d/%d): %s", attempt, attempts, exc)
            time.sleep(delay)
            delay *= 2
    raise BankUnavailable(f"gave up after {attempts} attempts") from last_exc'''

RETRY_NEW = '''RETRYABLE_STATUS = frozenset({502, 503, 504})


def _is_retryable(exc: Exception) -> bool:
    if isinstance(exc, (httpx.ConnectTimeout, httpx.ReadTimeout, httpx.RemoteProtocolError)):
        return True
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code in RETRYABLE_STATUS
    return False


def with_retries(send: Callable[[], httpx.Response], attempts: int = 4) -> httpx.Response:
    """Call send() until it works, retrying only gateway errors and timeouts.

    A 4xx (409 in particular) means the bank saw the request; sending it again is how we paid twice.
    """
    delay = 0.5
    last_exc: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            resp = send()
            resp.raise_for_status()
            return resp
        except Exception as exc:  # noqa: BLE001 - classified below
            if not _is_retryable(exc):
                raise
            last_exc = exc
            log.warning("bank call failed (attempt %d/%d): %s", attempt, attempts, exc)
            time.sleep(delay)
            delay *= 2
    raise BankUnavailable(f"gave up after {attempts} attempts") from last_exc'''

CLIENT_POST_OLD = '''    def post_payout(self, payout: Payout) -> str:
        body = payout.to_bank_json()
        resp = with_retries(lambda: self._http.post("/v2/payouts", json=body))
        return resp.json()["payout_id"]'''

CLIENT_POST_NEW = '''    def post_payout(self, payout: Payout) -> str:
        body = payout.to_bank_json()
        # Same key on every attempt: the bank drops a repeat of a key it has already booked.
        headers = {"Idempotency-Key": payout.idempotency_key()}
        resp = with_retries(lambda: self._http.post("/v2/payouts", json=body, headers=headers))
        return resp.json()["payout_id"]'''

WINDOW_OLD = '''def settlement_cutoff(day: date) -> datetime:
    """The moment after which payouts roll to the next banking day."""
    return datetime.combine(day, time(hour=15, minute=30))


def in_window(ts: datetime, day: date) -> bool:
    return settlement_cutoff(day - timedelta(days=1)) < ts <= settlement_cutoff(day)'''

WINDOW_NEW = '''def settlement_cutoff(day: date, tz: ZoneInfo | None = None) -> datetime:
    """The moment after which payouts roll to the next banking day, as an aware datetime.

    The bank defines the cutoff on its own wall clock (settings.SETTLEMENT_TZ), so daylight saving in
    Amsterdam moves it in UTC terms twice a year.
    """
    zone = tz or ZoneInfo(settings.SETTLEMENT_TZ)
    return datetime.combine(day, time(hour=15, minute=30), tzinfo=zone)


def in_window(ts: datetime, day: date) -> bool:
    if ts.tzinfo is None:
        raise ValueError(f"in_window needs an aware timestamp, got naive {ts.isoformat()}")
    return settlement_cutoff(day - timedelta(days=1)) < ts <= settlement_cutoff(day)'''

TEST_OLD = '''def test_client_retries_conflict(fake_bank):
    fake_bank.queue(409, 409, 200)
    client = BankClient(fake_bank.url, token="t")
    client.post_payout(make_payout())
    assert fake_bank.calls == 3'''

TEST_NEW = '''def test_client_does_not_retry_conflict(fake_bank):
    fake_bank.queue(409, 200)
    client = BankClient(fake_bank.url, token="t")
    with pytest.raises(httpx.HTTPStatusError):
        client.post_payout(make_payout())
    assert fake_bank.calls == 1


def test_client_retries_gateway_errors_with_one_key(fake_bank):
    fake_bank.queue(503, 502, 200)
    client = BankClient(fake_bank.url, token="t")
    client.post_payout(make_payout())
    assert fake_bank.calls == 3
    assert len({c.headers["Idempotency-Key"] for c in fake_bank.requests}) == 1'''


def incident_log(rng, f: Filler, n=2600):
    lines = []
    h, m, s = 1, 58, 0
    pay_ids = [f"po_{short_hex(rng, 10)}" for _ in range(300)]
    for i in range(n):
        s += rng.randint(0, 3)
        if s >= 60:
            s -= 60
            m += 1
        if m >= 60:
            m -= 60
            h += 1
        ts = f"2024-05-14T{h:02d}:{m:02d}:{s:02d}.{rng.randint(0, 999):03d}Z"
        k = rng.random()
        pid = rng.choice(pay_ids)
        if k < 0.55:
            lines.append(f"{ts} INFO  settlement.runner  queued payout {pid} amount={rng.randint(100, 990000) / 100:.2f} EUR batch=b{rng.randint(4000, 4100)}")
        elif k < 0.75:
            lines.append(f"{ts} INFO  payments.client   POST /v2/payouts {pid} -> 201 in {rng.randint(80, 900)}ms")
        elif k < 0.82:
            lines.append(f"{ts} WARN  payments.retry    bank call failed (attempt {rng.randint(1, 3)}/4): Server error '503 Service Unavailable' for url 'https://gw.bank.example/v2/payouts'")
        elif k < 0.86:
            lines.append(f"{ts} WARN  payments.retry    bank call failed (attempt {rng.randint(1, 3)}/4): Client error '409 Conflict' for url 'https://gw.bank.example/v2/payouts'")
        elif k < 0.93:
            lines.append(f"{ts} DEBUG ledger.journal    posting {f.snake()} for {pid} ok")
        else:
            lines.append(f"{ts} INFO  settlement.window  cutoff for 2024-05-14 is 2024-05-14 15:30:00 (naive)")
    lines.insert(1900, "2024-05-14T03:12:44.100Z ERROR settlement.runner  duplicate payout detected by bank: po_7f3a9c01d2 (409 Conflict, original booked 03:12:40)")
    lines.insert(2300, "2024-05-14T03:40:02.871Z ERROR settlement.runner  job failed: BankUnavailable: gave up after 4 attempts")
    return "\n".join(lines)


def build(seed=1101):
    rng = random.Random(seed)
    f = Filler(rng, NOUNS, VERBS)
    s = ClaudeCodeSession(rng, cwd="/home/mara/src/harbor-ledger", branch="fix/settlement-retries",
                          version="2.0.31", model="claude-sonnet-4-5-20250929", start="2024-05-15T08:41:07.000Z")
    root = s.cwd
    s.files[f"{root}/ops/incidents/2024-05-settlement.log"] = incident_log(rng, f)
    s.files[f"{root}/src/harbor_ledger/payments/retry.py"] = f.py_module(
        header="from __future__ import annotations\n\nimport logging\nimport time\nfrom typing import Callable\n\nimport httpx\n\nfrom harbor_ledger.errors import BankUnavailable\n\nlog = logging.getLogger(__name__)",
        snippets=[RETRY_OLD], n=3)
    s.files[f"{root}/src/harbor_ledger/payments/client.py"] = f.py_module(
        header="from __future__ import annotations\n\nimport logging\n\nimport httpx\n\nfrom harbor_ledger.models import Payout\nfrom harbor_ledger.payments.retry import with_retries\n\nlog = logging.getLogger(__name__)",
        snippets=["class BankClient:\n    def __init__(self, base_url: str, token: str) -> None:\n        self._http = httpx.Client(base_url=base_url, headers={\"Authorization\": f\"Bearer {token}\"}, timeout=10.0)\n\n" + CLIENT_POST_OLD],
        n=14)
    s.files[f"{root}/src/harbor_ledger/settlement/window.py"] = f.py_module(
        header="from __future__ import annotations\n\nfrom datetime import date, datetime, time, timedelta\n\nfrom harbor_ledger import settings",
        snippets=[WINDOW_OLD], n=6)
    s.files[f"{root}/src/harbor_ledger/settings.py"] = (
        "import os\n\nBANK_URL = os.environ.get(\"BANK_URL\", \"https://gw.bank.example\")\n"
        "BANK_TOKEN = os.environ.get(\"BANK_TOKEN\", \"\")\nSETTLEMENT_BATCH_SIZE = int(os.environ.get(\"SETTLEMENT_BATCH_SIZE\", \"200\"))\n")
    s.files[f"{root}/tests/payments/test_client.py"] = f.py_module(
        header="import httpx\nimport pytest\n\nfrom harbor_ledger.payments.client import BankClient\nfrom tests.factories import make_payout",
        snippets=[TEST_OLD], n=9)
    s.files[f"{root}/tests/settlement/test_window.py"] = f.py_module(
        header="from datetime import date, datetime\n\nfrom harbor_ledger.settlement.window import in_window, settlement_cutoff",
        n=6)
    s.files[f"{root}/requirements.txt"] = "httpx==0.27.0\npydantic==2.7.1\nSQLAlchemy==2.0.30\npsycopg[binary]==3.1.19\nstructlog==24.1.0\n"
    s.files[f"{root}/src/harbor_ledger/models.py"] = f.py_module(n=16)
    s.files[f"{root}/src/harbor_ledger/settlement/runner.py"] = f.py_module(n=18)

    s.snapshot()
    s.slash("model", "", "Set model to \x1b[1mDefault (claude-sonnet-4-5-20250929)\x1b[22m")
    i1 = s.person(
        "nightly settlement job fell over on staging again, third time this week. the log from last night is in "
        "ops/incidents/2024-05-settlement.log. can you dig into what's going on? don't touch any code yet, I "
        "just want to understand it first")
    s.say("I'll start with the log and then follow the stack into the payments code.", thinking=(
        "They want diagnosis only, no edits. Read the incident log first, look for the failure and anything "
        "odd before it, then trace into the retry wrapper and the client."))
    s.read("ops/incidents/2024-05-settlement.log", note=None)
    s.grep("409 Conflict", ["ops/incidents/2024-05-settlement.log"], mode="files_with_matches",
           note="There are 409s mixed in with the 503s. That's suspicious for a payout endpoint, so let me find where the retries come from.")
    s.grep("def with_retries", [f"{root}/src/harbor_ledger/payments/retry.py"])
    s.read("src/harbor_ledger/payments/retry.py")
    s.read("src/harbor_ledger/payments/client.py")
    s.grep("with_retries\\(", [f"{root}/src/harbor_ledger/payments/client.py:{rng.randint(40, 90)}:        resp = with_retries(lambda: self._http.post(\"/v2/payouts\", json=body))",
                               f"{root}/src/harbor_ledger/payments/client.py:{rng.randint(100, 160)}:        resp = with_retries(lambda: self._http.get(f\"/v2/payouts/{{payout_id}}\"))"],
           mode="content", path="src")
    s.read("src/harbor_ledger/settlement/window.py")
    s.read("src/harbor_ledger/settlement/runner.py", limit=120)
    s.bash("git log --oneline -15 -- src/harbor_ledger/payments", f.git_log([
        "payments: bump httpx to 0.27", "retry: back off exponentially instead of fixed 1s",
        "client: log payout ids at info", "retry: catch everything, gateway throws odd errors",
        "settlement: batch size from env", "payments: first cut of v2 payouts API", "ledger: journal entries carry batch id",
        "ci: run tests on 3.11", "client: 10s timeout", "models: Payout.to_bank_json", "settlement: runner skeleton",
        "ledger: initial schema", "repo: ruff config", "repo: initial import", "docs: README"]),
        description="Recent history of the payments package")
    s.say(
        "Here's what I think is happening. Two separate problems, and the first one is the serious one.\n\n"
        "**1. The retry wrapper re-sends payouts the bank already accepted.** `with_retries` in "
        "`src/harbor_ledger/payments/retry.py` catches every exception, including `httpx.HTTPStatusError` for "
        "4xx responses. In the log at 03:12 the gateway answers a payout with a 503 after it has in fact booked "
        "it; we retry, the bank answers 409 Conflict, and we keep retrying the 409 too. The line `duplicate payout "
        "detected by bank: po_7f3a9c01d2` is the bank telling us so. On the runs where the bank doesn't dedupe by "
        "itself (the 409 only comes back when the body is byte-identical), the second attempt is simply booked "
        "as a new payout. That's your duplicate. The commit `retry: catch everything, gateway throws odd errors` "
        "is where it became a catch-all.\n\n"
        "**2. The settlement window uses naive local time.** `settlement_cutoff` builds `15:30` with no tzinfo, "
        "and the containers run in UTC, so the cutoff is 15:30 UTC, which is 17:30 in Amsterdam in summer. "
        "Payouts between 15:30 and 17:30 local land in the wrong banking day. That doesn't cause duplicates, "
        "but it would explain the reconciliation mismatches finance mentioned last month.\n\n"
        "The job failure itself (`BankUnavailable: gave up after 4 attempts` at 03:40) is the retry loop "
        "burning all four attempts on a 409 that will never succeed.\n\n"
        "Nothing is changed yet. When you want, the fix for (1) is to retry only on gateway errors and "
        "timeouts and to send an idempotency key the bank can dedupe on.")

    i2 = s.person(
        "ok that lines up with what finance saw, two payouts doubled on the 14th. fix the retry first. and no "
        "tenacity or anything like it, it took us six weeks to get that approved for the other repo", pause=6)
    s.todo([("Restrict retries to gateway errors and timeouts", "in_progress", "Restricting retries to gateway errors and timeouts"),
            ("Send an Idempotency-Key on payout posts", "pending", "Adding an Idempotency-Key to payout posts"),
            ("Update the client tests for the new retry rules", "pending", "Updating the client tests"),
            ("Make the settlement cutoff timezone-aware", "pending", "Making the settlement cutoff timezone-aware")])
    s.edit("src/harbor_ledger/payments/retry.py", RETRY_OLD, RETRY_NEW,
           note="Keeping the hand-rolled loop and classifying the exception before retrying it.")
    s.edit("src/harbor_ledger/payments/client.py", CLIENT_POST_OLD, CLIENT_POST_NEW)
    s.grep("def idempotency_key", [], path="src/harbor_ledger/models.py", mode="content",
           note="The client now calls `payout.idempotency_key()`; checking whether the model has one.")
    models = s.files[f"{root}/src/harbor_ledger/models.py"]
    s.files[f"{root}/src/harbor_ledger/models.py"] = models + (
        "\n\n@dataclass(frozen=True)\nclass Payout:\n    batch_id: str\n    counterparty_iban: str\n    amount_cents: int\n    currency: str = \"EUR\"\n\n"
        "    def to_bank_json(self) -> dict[str, Any]:\n        return {\"iban\": self.counterparty_iban, \"amount\": self.amount_cents, \"currency\": self.currency, \"reference\": self.batch_id}\n")
    s.edit("src/harbor_ledger/models.py",
           "    def to_bank_json(self) -> dict[str, Any]:",
           "    def idempotency_key(self) -> str:\n        \"\"\"Stable per payout: batch, counterparty and amount, hashed.\"\"\"\n        raw = f\"{self.batch_id}:{self.counterparty_iban}:{self.amount_cents}:{self.currency}\"\n        return hashlib.sha256(raw.encode()).hexdigest()[:32]\n\n    def to_bank_json(self) -> dict[str, Any]:",
           note="It doesn't, so I'll derive one from the fields that identify a payout within a batch.")
    s.edit("src/harbor_ledger/models.py", "from __future__ import annotations\n", "from __future__ import annotations\n\nimport hashlib\nfrom dataclasses import dataclass\n")
    fail_body = (
        "    def test_client_retries_conflict(fake_bank):\n        fake_bank.queue(409, 409, 200)\n        client = BankClient(fake_bank.url, token=\"t\")\n"
        ">       client.post_payout(make_payout())\n\ntests/payments/test_client.py:88: \n_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _\n"
        "src/harbor_ledger/payments/retry.py:31: in with_retries\n    resp.raise_for_status()\n"
        "E   httpx.HTTPStatusError: Client error '409 Conflict' for url 'http://127.0.0.1:50213/v2/payouts'")
    s.bash("python -m pytest tests/payments -q", f.pytest_log(root, failures=[("tests/payments/test_client.py::test_client_retries_conflict", fail_body)], n=31),
           code=1, description="Run the payments tests")
    s.read("tests/payments/test_client.py")
    s.edit("tests/payments/test_client.py", TEST_OLD, TEST_NEW,
           note="That test pinned the old behaviour (retrying a 409 until it passes), which is exactly the bug. Replacing it with one that says a conflict is not retried, and one that checks gateway errors are retried with the same key.")
    s.bash("python -m pytest tests/payments -q", f.pytest_log(root, n=33), description="Run the payments tests again")
    s.todo([("Restrict retries to gateway errors and timeouts", "completed", "Restricting retries to gateway errors and timeouts"),
            ("Send an Idempotency-Key on payout posts", "completed", "Adding an Idempotency-Key to payout posts"),
            ("Update the client tests for the new retry rules", "completed", "Updating the client tests"),
            ("Make the settlement cutoff timezone-aware", "pending", "Making the settlement cutoff timezone-aware")])
    s.say(
        "The retry is fixed, without a new dependency:\n\n"
        "- `retry.py`: only 502/503/504 and connect/read timeouts are retried; anything else (a 409 included) is "
        "raised on the first attempt.\n"
        "- `client.py`: `post_payout` sends an `Idempotency-Key` header, the same value on every attempt.\n"
        "- `models.py`: `Payout.idempotency_key()` hashes batch id, IBAN, amount and currency.\n"
        "- `tests/payments/test_client.py`: the old `test_client_retries_conflict` asserted three calls for "
        "409, 409, 200, so it encoded the bug; it's replaced by a no-retry-on-conflict test and a same-key test.\n\n"
        "33 passed. The timezone issue is still open.")

    i3 = s.person("what about the timezone thing, what would you do there", pause=3)
    s.read("tests/settlement/test_window.py")
    s.read("src/harbor_ledger/settings.py")
    s.say(
        "Two reasonable options:\n\n"
        "1. Store everything in UTC and convert the bank's 15:30 to UTC with a fixed offset. Simple, but wrong "
        "for half the year unless someone remembers to change the offset at each DST switch.\n"
        "2. Make the cutoff an aware datetime in the bank's own zone with `zoneinfo`, and compare aware "
        "timestamps only. DST is handled by the tz database.\n\n"
        "I'd lean to 2, with the zone name in settings so it's visible. Which zone does the bank define the "
        "cutoff in? The code comment says 'bank time' and nothing else.")
    i4 = s.person(
        "the bank publishes the cutoff in Amsterdam time, so that. not UTC. and put the zone in settings, not "
        "buried in window.py")
    s.edit("src/harbor_ledger/settings.py", "SETTLEMENT_BATCH_SIZE",
           "# The bank publishes its cutoff on Amsterdam wall-clock time.\nSETTLEMENT_TZ = os.environ.get(\"SETTLEMENT_TZ\", \"Europe/Amsterdam\")\nSETTLEMENT_BATCH_SIZE")
    s.edit("src/harbor_ledger/settlement/window.py", WINDOW_OLD, WINDOW_NEW)
    s.edit("src/harbor_ledger/settlement/window.py", "from datetime import date, datetime, time, timedelta\n",
           "from datetime import date, datetime, time, timedelta\nfrom zoneinfo import ZoneInfo\n")
    tz_fail = ("E   zoneinfo._common.ZoneInfoNotFoundError: 'No time zone found with key Europe/Amsterdam'\n\n"
               "/usr/local/lib/python3.11/zoneinfo/_common.py:24: ZoneInfoNotFoundError")
    s.bash("docker compose run --rm app python -m pytest tests/settlement -q",
           f.pytest_log("/app", failures=[("tests/settlement/test_window.py::test_cutoff_is_aware", tz_fail)], n=12),
           code=1, description="Run the settlement tests inside the app image")
    s.bash("docker compose run --rm app sh -c 'ls /usr/share/zoneinfo | head; python -c \"import tzdata\"'", "",
           stderr="ls: cannot access '/usr/share/zoneinfo': No such file or directory\nTraceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nModuleNotFoundError: No module named 'tzdata'",
           code=2, description="Check for tz data in the slim image")
    s.say(
        "The tests pass on my machine but fail in the app image: it's `python:3.11-slim`, which ships without "
        "`/usr/share/zoneinfo`, so `ZoneInfo(\"Europe/Amsterdam\")` can't be resolved. The usual fix is the "
        "`tzdata` package from PyPI, which is pure data and is what `zoneinfo` falls back to. That's a new "
        "entry in requirements.txt though, and you said no new dependencies. The alternative is "
        "`apt-get install tzdata` in the Dockerfile. Which do you prefer?")
    i5 = s.person("tzdata is fine, it's just data, not what I meant. pip is simpler than touching the dockerfile")
    s.edit("requirements.txt", "structlog==24.1.0\n", "structlog==24.1.0\ntzdata==2024.1\n")
    s.bash("docker compose build app && docker compose run --rm app python -m pytest -q",
           "\n".join([f"#{i} [app {i}/9] RUN pip install --no-cache-dir -r requirements.txt" for i in range(1, 4)]) + "\n" +
           f.pytest_log("/app", n=74), description="Rebuild the image and run all tests", timeout=600000)
    s.bash("ruff check src tests", "src/harbor_ledger/settlement/window.py:3:1: I001 [*] Import block is un-sorted or un-formatted\nFound 1 error.\n[*] 1 fixable with the `--fix` option.",
           code=1, description="Lint")
    s.bash("ruff check --fix src tests && ruff check src tests", "Found 1 error (1 fixed, 0 remaining).\nAll checks passed!", description="Fix the import order and lint again")
    s.say("All 74 tests pass in the image and lint is clean. `SETTLEMENT_TZ` defaults to `Europe/Amsterdam` in "
          "`settings.py`; `in_window` now refuses naive timestamps instead of silently comparing them.")

    i6 = s.person(
        "can you write up what happened for the incident doc? keep it short, the people reading it are in "
        "finance, not engineers", pause=12)
    doc = (
        "# Duplicate payouts on 14 May 2024\n\n"
        "**What happened.** Two supplier payouts from the night run of 14 May were paid twice.\n\n"
        "**Why.** When the bank's gateway was slow to answer, our system assumed the payment had not gone "
        "through and sent it again. In two cases the bank had in fact already booked the first one.\n\n"
        "**What we changed.** Our system now only re-sends when the bank clearly did not receive the payment, "
        "and every payment carries a unique reference the bank uses to reject a second copy.\n\n"
        "**Also fixed.** Payments made between 15:30 and 17:30 were sometimes counted in the wrong banking day "
        "because our clock and the bank's clock disagreed about the time zone. They now agree.\n\n"
        "**Still to do.** The two duplicate payouts need to be reversed. Finance will confirm the amounts "
        "before we do that.\n")
    s.write("docs/incidents/2024-05-14-duplicate-payouts.md", doc,
            note="Writing it for a non-technical reader: what happened, why, what changed, what's left.")
    s.say("Written to `docs/incidents/2024-05-14-duplicate-payouts.md`, five short paragraphs with no code. "
          "I put the reversal of the two duplicates under 'still to do'. Do you want me to draft the reversal "
          "script too?")
    i7 = s.person(
        "not today. Joost wants to go through the amounts by hand before anything gets reversed. commit what "
        "we've got on this branch and push it")
    s.bash("git status --short", " M requirements.txt\n M src/harbor_ledger/models.py\n M src/harbor_ledger/payments/client.py\n M src/harbor_ledger/payments/retry.py\n M src/harbor_ledger/settings.py\n M src/harbor_ledger/settlement/window.py\n M tests/payments/test_client.py\n?? docs/incidents/2024-05-14-duplicate-payouts.md")
    s.bash("git add -A && git commit -q -m \"payments: retry only gateway errors, send idempotency keys; settlement cutoff in Europe/Amsterdam\" && git log --oneline -1",
           f"{short_hex(rng, 7)} payments: retry only gateway errors, send idempotency keys; settlement cutoff in Europe/Amsterdam")
    s.bash("git push origin fix/settlement-retries", "",
           stderr="To github.com:harbor-finance/harbor-ledger.git\n ! [rejected]        fix/settlement-retries -> fix/settlement-retries (fetch first)\nerror: failed to push some refs to 'github.com:harbor-finance/harbor-ledger.git'\nhint: Updates were rejected because the remote contains work that you do not\nhint: have locally.",
           code=1)
    s.bash("git fetch origin && git log --oneline HEAD..origin/fix/settlement-retries",
           f"{short_hex(rng, 7)} ci: pin actions/setup-python to v5", note="Someone pushed to the branch in the meantime. Looking at what came in before rebasing.")
    s.bash("git pull --rebase origin fix/settlement-retries && git push origin fix/settlement-retries",
           "Successfully rebased and updated refs/heads/fix/settlement-retries.",
           stderr=f"To github.com:harbor-finance/harbor-ledger.git\n   {short_hex(rng, 7)}..{short_hex(rng, 7)}  fix/settlement-retries -> fix/settlement-retries")
    s.say("Pushed. The remote had one CI commit (`ci: pin actions/setup-python to v5`) that wasn't local; I "
          "rebased onto it, no conflicts. The reversal script is not written, as agreed.")
    i8 = s.person("great. open it as a draft PR and put Joost and Ilse on it as reviewers", pause=2)
    s.bash("gh pr create --draft --base main --head fix/settlement-retries --title \"Stop duplicate payouts; settlement cutoff in bank time\" --body-file - --reviewer joost-vd,ilse-k <<'EOF'\nFixes the duplicate payouts of 14 May (see docs/incidents/2024-05-14-duplicate-payouts.md).\nEOF",
           "https://github.com/harbor-finance/harbor-ledger/pull/212", description="Open a draft PR with reviewers")
    s.say("Draft PR is up: https://github.com/harbor-finance/harbor-ledger/pull/212, with Joost and Ilse as "
          "reviewers. Still open after this: the script to reverse the two duplicate payouts, once Joost has "
          "checked the amounts.")
    s.title("Duplicate payouts: retry fix, idempotency keys, Amsterdam cutoff")

    F_ = lambda rel, mod: F(f"{root}/{rel}", modified=mod, rel=rel)  # noqa: E731
    labels = make_labels(
        session="cc-ledger-tool-heavy.jsonl.gz", fmt="claude-code-jsonl",
        features=["tool-heavy", "large-tool-results", "slash-command-meta", "system-reminders-in-tool-results",
                  "todo-list", "errors-and-fixes", "person-revises-own-constraint"],
        primary_request=S("Find out why the nightly settlement job keeps failing on staging and fix the cause "
                          "(duplicate payouts from retries), then the timezone bug in the settlement window.",
                          "can you dig into what's going on?"),
        instructions=[{"id": m["uuid"], "text": m["text"]} for m in s.person_messages],
        decisions=[
            D("Keep the hand-rolled retry loop; no tenacity or similar library.",
              "Getting tenacity approved for another repository took six weeks.",
              "no tenacity or anything like it, it took us six weeks to get that approved for the other repo"),
            D("Retry only 502/503/504 and timeouts; a 4xx such as 409 is raised on the first attempt.",
              "A 409 means the bank saw the request; re-sending it is how the payouts were doubled.",
              "A 4xx (409 in particular) means the bank saw the request; sending it again is how we paid twice."),
            D("Send an Idempotency-Key header derived from the payout's identifying fields, the same on every attempt.",
              "The bank drops a repeat of a key it has already booked.",
              "Same key on every attempt: the bank drops a repeat of a key it has already booked."),
            D("The settlement cutoff is an aware datetime in Europe/Amsterdam, not UTC, with the zone in settings (SETTLEMENT_TZ).",
              "The bank publishes its cutoff in Amsterdam time; a fixed UTC offset is wrong half the year.",
              "the bank publishes the cutoff in Amsterdam time, so that. not UTC. and put the zone in settings"),
            D("Add the tzdata package to requirements.txt rather than installing tz data in the Dockerfile.",
              "tzdata is only data, so it does not count against the no-new-dependency rule, and pip is simpler than changing the Dockerfile.",
              "tzdata is fine, it's just data, not what I meant. pip is simpler than touching the dockerfile"),
            D("Do not write the reversal script for the duplicates yet.",
              "Joost wants to check the amounts by hand first.",
              "Joost wants to go through the amounts by hand before anything gets reversed"),
        ],
        files=[F_("ops/incidents/2024-05-settlement.log", False), F_("src/harbor_ledger/payments/retry.py", True),
               F_("src/harbor_ledger/payments/client.py", True), F_("src/harbor_ledger/models.py", True),
               F_("tests/payments/test_client.py", True), F_("src/harbor_ledger/settings.py", True),
               F_("src/harbor_ledger/settlement/window.py", True), F_("requirements.txt", True),
               F_("docs/incidents/2024-05-14-duplicate-payouts.md", True), F_("tests/settlement/test_window.py", False),
               F_("src/harbor_ledger/settlement/runner.py", False)],
        errors=[
            E("httpx.HTTPStatusError: Client error '409 Conflict'",
              "The test test_client_retries_conflict encoded the old behaviour; replaced by tests that a conflict is not retried and gateway errors are retried with one key.",
              "test_client_does_not_retry_conflict"),
            E("ZoneInfoNotFoundError: 'No time zone found with key Europe/Amsterdam'",
              "The slim image has no /usr/share/zoneinfo; added tzdata==2024.1 to requirements.txt.",
              "tzdata==2024.1"),
            E("I001 [*] Import block is un-sorted or un-formatted", "ruff check --fix", "ruff check --fix src tests"),
            E("! [rejected]        fix/settlement-retries -> fix/settlement-retries (fetch first)",
              "Fetched, rebased onto the remote CI commit, pushed again.",
              "git pull --rebase origin fix/settlement-retries"),
        ],
        pending_tasks=[T("Write the script that reverses the two duplicate payouts, after Joost has checked the amounts.",
                         "The two duplicate payouts need to be reversed.")],
        current_work=S("Opened draft PR #212 for branch fix/settlement-retries with Joost and Ilse as reviewers.",
                       "https://github.com/harbor-finance/harbor-ledger/pull/212"),
        next_step=S("Wait for Joost's and Ilse's review; then, once Joost has confirmed the amounts, write the reversal script.",
                    "the script to reverse the two duplicate payouts, once Joost has checked the amounts"),
        not_instructions=["Caveat: The messages below were generated by the user while running local commands.",
                          "Whenever you read a file, you should consider whether it looks malicious."],
    )
    return s.render(), labels
