"""Session 3: a Claude Code session that is compacted part way (compact_boundary + isCompactSummary), with a
decision taken before the compaction and reversed after it."""

import random

from corpuslib import ClaudeCodeSession, Filler, short_hex
from labels import D, E, F, S, T, make_labels

NOUNS = ["bucket", "quota", "tenant", "route", "key", "burst", "window", "limit", "token", "upstream",
         "policy", "client", "header", "backend", "plan", "shard"]
VERBS = ["allow", "deny", "refill", "parse", "load", "resolve", "record", "forward", "drain", "reset", "emit", "lookup"]

BUCKET_OLD = '''// Allow reports whether one request for key may pass now.
func (l *MemoryLimiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: float64(l.burst), last: time.Now()}
		l.buckets[key] = b
	}
	now := time.Now()
	b.tokens = math.Min(float64(l.burst), b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}'''

GCRA_LUA = '''-- GCRA: KEYS[1] = tat key; ARGV = now_ms, emission_ms, burst_ms
local now = tonumber(ARGV[1])
local emission = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call("GET", KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - burst
if now < allow_at then
  return {0, allow_at - now}
end
local new_tat = tat + emission
redis.call("SET", KEYS[1], new_tat, "PX", math.ceil(new_tat - now + burst))
return {1, 0}
'''

LIMITER_GO = '''package ratelimit

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed gcra.lua
var gcraSource string

var gcra = redis.NewScript(gcraSource)

// RedisLimiter is a GCRA limiter shared by every replica through one Redis.
type RedisLimiter struct {
	rdb      redis.Scripter
	rate     float64 // requests per second
	burst    int
	now      func() time.Time
	prefix   string
}

// Allow reports whether one request for key may pass, and if not, how long to wait.
func (l *RedisLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	emission := time.Duration(float64(time.Second) / l.rate)
	res, err := gcra.Run(ctx, l.rdb, []string{l.prefix + key},
		l.now().UnixMilli(), emission.Milliseconds(), (emission * time.Duration(l.burst)).Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("ratelimit: gcra for %q: %w", key, err)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Millisecond, nil
}
'''

SUMMARY = """Analysis:
The conversation is about the `ferrule` API gateway (Go, repo at /srv/dev/ferrule). The user wants the per-pod in-memory token bucket in `internal/ratelimit/memory.go` replaced with a limiter shared across replicas. I read the middleware, the memory limiter and its tests, the config loader and the Helm values. The user chose Redis and keying by API key. I first proposed the `go-redis/redis_rate` package; the user then pointed out it is tied to go-redis v8 while the gateway is on v9, so we agreed to write a small GCRA Lua script ourselves. I wrote `internal/ratelimit/gcra.lua` and `internal/ratelimit/redis.go`, and started adapting the middleware. One build error came up (`undefined: redis.Scripter` because the import still pointed at v8 in `go.mod` replace directive) and was fixed by dropping the stale replace line.

Summary:
1. Primary Request and Intent:
   Replace the in-memory rate limiter of the ferrule gateway with one that holds across its three replicas, keyed by API key, and keep the 429 response contract (Retry-After header) unchanged.

2. Key Technical Concepts:
   - GCRA (generic cell rate algorithm) with a theoretical-arrival-time key per API key
   - Redis Lua script via go-redis v9 `redis.NewScript` (EVALSHA with EVAL fallback)
   - Retry-After derived from the script's wait value
   - Three replicas behind the load balancer; in-memory limits are per pod, so a client effectively got 3x its quota

3. Files and Code Sections:
   - internal/ratelimit/memory.go: the old token bucket (`MemoryLimiter.Allow`), kept for local dev when no Redis URL is set
   - internal/ratelimit/gcra.lua: new; GCRA script returning {allowed, wait_ms}
   - internal/ratelimit/redis.go: new; `RedisLimiter.Allow(ctx, key) (bool, time.Duration, error)`
   - internal/middleware/ratelimit.go: being changed to call the new interface and key by `X-Api-Key`
   - go.mod: removed a stale `replace github.com/go-redis/redis/v8` line

4. Errors and fixes:
   - `undefined: redis.Scripter`: go.mod still had a replace directive to go-redis v8; removed it.

5. Problem Solving:
   Decided against redis_rate (v8 only). Keying by API key instead of client IP because many customers sit behind a single corporate NAT.

6. All user messages:
   - "our rate limiting is per pod, so with three replicas everyone gets triple their quota. can you make it actually global? look at how it's wired first"
   - "redis, we already run one for sessions. and key it on the api key, not the ip. half our enterprise customers come from one NAT address"
   - "hm, redis_rate is still on go-redis v8 isn't it? we moved to v9 in march. I'd rather have forty lines of lua we understand"

7. Pending Tasks:
   - Finish the middleware change and its tests
   - Fall back to the memory limiter when REDIS_URL is empty

8. Current Work:
   Adapting `internal/middleware/ratelimit.go` to `RedisLimiter.Allow` and writing `internal/ratelimit/redis_test.go` against miniredis.

9. Optional Next Step:
   Run `go test ./internal/...` with the new tests.
"""


def build(seed=3313):
    rng = random.Random(seed)
    f = Filler(rng, NOUNS, VERBS)
    s = ClaudeCodeSession(rng, cwd="/srv/dev/ferrule", branch="global-ratelimit", version="2.0.14",
                          model="claude-sonnet-4-5-20250929", start="2025-10-03T07:12:30.000Z")
    root = s.cwd
    s.files[f"{root}/internal/ratelimit/memory.go"] = f.go_module("ratelimit", header=(
        "package ratelimit\n\nimport (\n\t\"math\"\n\t\"sync\"\n\t\"time\"\n)\n\ntype bucket struct {\n\ttokens float64\n\tlast   time.Time\n}\n\n"
        "// MemoryLimiter is a token bucket per key, held in this process only.\ntype MemoryLimiter struct {\n\tmu      sync.Mutex\n\tbuckets map[string]*bucket\n\trate    float64\n\tburst   int\n}"),
        snippets=[BUCKET_OLD], n=6)
    s.files[f"{root}/internal/middleware/ratelimit.go"] = f.go_module("middleware", header=(
        "package middleware\n\nimport (\n\t\"net\"\n\t\"net/http\"\n\t\"strconv\"\n\n\t\"ferrule/internal/ratelimit\"\n)"),
        snippets=["func RateLimit(l *ratelimit.MemoryLimiter, next http.Handler) http.Handler {\n\treturn http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {\n\t\tip, _, _ := net.SplitHostPort(r.RemoteAddr)\n\t\tif !l.Allow(ip) {\n\t\t\tw.Header().Set(\"Retry-After\", \"1\")\n\t\t\thttp.Error(w, \"rate limited\", http.StatusTooManyRequests)\n\t\t\treturn\n\t\t}\n\t\tnext.ServeHTTP(w, r)\n\t})\n}"], n=8)
    s.files[f"{root}/internal/ratelimit/memory_test.go"] = f.go_module("ratelimit", header="package ratelimit\n\nimport (\n\t\"testing\"\n\t\"time\"\n)", n=9)
    s.files[f"{root}/internal/config/config.go"] = f.go_module("config", n=14)
    s.files[f"{root}/deploy/helm/ferrule/values.yaml"] = ("replicaCount: 3\nimage:\n  repository: registry.internal/ferrule\n  tag: \"1.18.2\"\n" +
        "\n".join(f"{f._n()}:\n  {f._n()}: {rng.randint(1, 500)}\n  {f._n()}Enabled: {rng.choice(['true', 'false'])}" for _ in range(60)) +
        "\nredis:\n  url: \"\"\n")
    s.files[f"{root}/go.mod"] = ("module ferrule\n\ngo 1.22\n\nrequire (\n\tgithub.com/redis/go-redis/v9 v9.5.1\n\tgithub.com/prometheus/client_golang v1.19.0\n"
                                 "\tgithub.com/alicebob/miniredis/v2 v2.32.1\n)\n\nreplace github.com/go-redis/redis/v8 => github.com/go-redis/redis/v8 v8.11.5\n")

    s.person("our rate limiting is per pod, so with three replicas everyone gets triple their quota. can you make "
             "it actually global? look at how it's wired first")
    s.grep("ratelimit\\.", [f"{root}/cmd/ferrule/main.go", f"{root}/internal/middleware/ratelimit.go", f"{root}/internal/ratelimit/memory_test.go"],
           note="Finding every place the limiter is used.")
    s.read("internal/ratelimit/memory.go")
    s.read("internal/middleware/ratelimit.go")
    s.read("internal/ratelimit/memory_test.go")
    s.read("internal/config/config.go")
    s.read("deploy/helm/ferrule/values.yaml")
    s.say(
        "Confirmed: `MemoryLimiter` keeps a map of buckets in the process, and the Helm chart runs "
        "`replicaCount: 3`, so each client's budget is tripled (more during a rollout, when old and new pods "
        "overlap). The middleware keys on `r.RemoteAddr`'s host.\n\n"
        "To make it global the state has to live somewhere all pods share. Options: Redis (a Lua script makes "
        "check-and-update atomic), a sidecar like Envoy's global rate limit service, or sticky routing by key "
        "at the load balancer (fragile). Is there a Redis the gateway can reach?")
    s.person("redis, we already run one for sessions. and key it on the api key, not the ip. half our enterprise "
             "customers come from one NAT address", pause=3)
    s.say("Good. The quickest route is `github.com/go-redis/redis_rate`, which implements GCRA on Redis already. "
          "I'll wire it in behind an interface so the memory limiter stays for local dev.",
          thinking="redis_rate does GCRA; check its go-redis version before adding it.")
    s.person("hm, redis_rate is still on go-redis v8 isn't it? we moved to v9 in march. I'd rather have forty lines "
             "of lua we understand")
    s.say("You're right, the v9-compatible release isn't tagged. I'll write the GCRA script ourselves.")
    s.write("internal/ratelimit/gcra.lua", GCRA_LUA)
    s.write("internal/ratelimit/redis.go", LIMITER_GO)
    s.bash("go build ./...", "", stderr="# ferrule/internal/ratelimit\ninternal/ratelimit/redis.go:22:11: undefined: redis.Scripter",
           code=1)
    s.read("go.mod")
    s.edit("go.mod", "\nreplace github.com/go-redis/redis/v8 => github.com/go-redis/redis/v8 v8.11.5\n", "\n",
           note="A leftover replace directive is pulling in the v8 module. Removing it.")
    s.bash("go mod tidy && go build ./...", "go: downloading github.com/redis/go-redis/v9 v9.5.1")
    for pkg, why in [("internal/auth", "Checking how the auth middleware exposes the API key to later handlers."),
                     ("internal/auth", "Looking for where the plan name is attached, in case limits differ per plan."),
                     ("internal/routes", "And the route table, to see which handlers sit behind the limiter."),
                     ("internal/proxy", "The proxy layer wraps errors from upstreams; checking it doesn't swallow 429s."),
                     ("cmd/ferrule", "main.go, where the middleware chain is assembled.")]:
        p = f"{root}/{pkg}/{f._n()}.go"
        s.files[p] = f.go_module(pkg.split("/")[-1], n=16)
        s.read(p, note=why)
    s.compact(SUMMARY, trigger="auto", pre_tokens=167412)

    s.say("Picking up with the middleware change.")
    mw = s.files[f"{root}/internal/middleware/ratelimit.go"]
    old_mw = "func RateLimit(l *ratelimit.MemoryLimiter, next http.Handler) http.Handler {\n\treturn http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {\n\t\tip, _, _ := net.SplitHostPort(r.RemoteAddr)\n\t\tif !l.Allow(ip) {\n\t\t\tw.Header().Set(\"Retry-After\", \"1\")"
    new_mw = ("func RateLimit(l ratelimit.Limiter, next http.Handler) http.Handler {\n\treturn http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {\n"
              "\t\tkey := auth.APIKeyFrom(r.Context())\n\t\tif key == \"\" {\n\t\t\tkey = \"anon:\" + clientIP(r)\n\t\t}\n"
              "\t\tok, wait, err := l.Allow(r.Context(), key)\n\t\tif err != nil {\n\t\t\t// Redis down: let traffic through rather than take the API offline.\n\t\t\tlimiterErrors.Inc()\n\t\t\tnext.ServeHTTP(w, r)\n\t\t\treturn\n\t\t}\n"
              "\t\tif !ok {\n\t\t\tw.Header().Set(\"Retry-After\", strconv.Itoa(int(math.Ceil(wait.Seconds()))))")
    s.edit("internal/middleware/ratelimit.go", old_mw, new_mw)
    test_src = ("package ratelimit\n\nimport (\n\t\"context\"\n\t\"testing\"\n\t\"time\"\n\n\t\"github.com/alicebob/miniredis/v2\"\n\t\"github.com/redis/go-redis/v9\"\n)\n\n"
                "func TestRedisLimiterRefills(t *testing.T) {\n\tmr := miniredis.RunT(t)\n\trdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})\n"
                "\tl := &RedisLimiter{rdb: rdb, rate: 5, burst: 5, now: time.Now, prefix: \"rl:\"}\n\tfor i := 0; i < 5; i++ {\n\t\tif ok, _, _ := l.Allow(context.Background(), \"k\"); !ok {\n\t\t\tt.Fatalf(\"request %d denied inside the burst\", i+1)\n\t\t}\n\t}\n"
                "\ttime.Sleep(time.Second)\n\tif ok, wait, _ := l.Allow(context.Background(), \"k\"); !ok {\n\t\tt.Fatalf(\"expected request 6 to be allowed after 1s refill, got denied (retry_after=%v)\", wait)\n\t}\n}\n")
    s.write("internal/ratelimit/redis_test.go", test_src)
    s.bash("go test ./internal/... 2>&1 | tail -40", f.go_test_log(["ferrule/internal/auth", "ferrule/internal/config", "ferrule/internal/middleware", "ferrule/internal/proxy"]) +
           "\n--- FAIL: TestRedisLimiterRefills (1.01s)\n    redis_test.go:24: expected request 6 to be allowed after 1s refill, got denied (retry_after=1s)\nFAIL\nFAIL\tferrule/internal/ratelimit\t1.214s",
           code=1)
    s.say(
        "The refill test fails. miniredis keeps its own clock and only moves it with `FastForward`, and the "
        "PX expiry on the TAT key is evaluated against that clock while `now` comes from the real one, so the "
        "key outlives the sleep. Two ways out:\n\n"
        "1. Read the time inside the script with `redis.call('TIME')`, so Redis is the only clock (no skew "
        "between pods, but the tests then depend on miniredis' TIME support).\n"
        "2. Keep passing `now` from Go, give the limiter an injectable clock, and drive miniredis with "
        "`FastForward` in tests.\n\n"
        "Which do you prefer?")
    s.person("keep passing now from go. the pods are all on chrony and I want the tests deterministic, no sleeps",
             pause=5)
    s.edit("internal/ratelimit/redis_test.go",
           "\tl := &RedisLimiter{rdb: rdb, rate: 5, burst: 5, now: time.Now, prefix: \"rl:\"}",
           "\tclock := time.Unix(1_700_000_000, 0)\n\tl := &RedisLimiter{rdb: rdb, rate: 5, burst: 5, now: func() time.Time { return clock }, prefix: \"rl:\"}")
    s.edit("internal/ratelimit/redis_test.go", "\ttime.Sleep(time.Second)\n", "\tclock = clock.Add(time.Second)\n\tmr.FastForward(time.Second)\n")
    s.bash("go test ./internal/...", f.go_test_log(["ferrule/internal/auth", "ferrule/internal/config", "ferrule/internal/middleware", "ferrule/internal/proxy", "ferrule/internal/ratelimit"]))
    s.person("add a counter for rejections per plan so we can see who's hitting it, and make sure redis being "
             "down doesn't take the api down")
    s.say("The middleware already lets traffic through when Redis errors (that's the `limiterErrors` path); "
          "I'll add the rejection counter and a test for the fail-open behaviour.")
    s.edit("internal/middleware/ratelimit.go", "\t\tif !ok {\n",
           "\t\tif !ok {\n\t\t\trejections.WithLabelValues(auth.PlanFrom(r.Context())).Inc()\n")
    s.write("internal/middleware/metrics.go", "package middleware\n\nimport \"github.com/prometheus/client_golang/prometheus\"\n\n"
            "var (\n\trejections = prometheus.NewCounterVec(prometheus.CounterOpts{\n\t\tName: \"ferrule_ratelimit_rejections_total\",\n\t\tHelp: \"Requests answered 429, by plan.\",\n\t}, []string{\"plan\"})\n"
            "\tlimiterErrors = prometheus.NewCounter(prometheus.CounterOpts{\n\t\tName: \"ferrule_ratelimit_errors_total\",\n\t\tHelp: \"Limiter calls that failed (request let through).\",\n\t})\n)\n\n"
            "func init() { prometheus.MustRegister(rejections, limiterErrors) }\n")
    s.bash("go test ./internal/middleware/ -run RateLimit -v", f.go_test_log(["ferrule/internal/middleware"]) +
           "\n=== RUN   TestRateLimitFailsOpenWhenRedisIsDown\n--- PASS: TestRateLimitFailsOpenWhenRedisIsDown (0.00s)")
    s.edit("deploy/helm/ferrule/values.yaml", "redis:\n  url: \"\"\n", "redis:\n  # shared with the session store; the limiter uses keys under rl:\n  url: \"redis://sessions-redis.platform.svc:6379/2\"\n")
    s.say(
        "Done on the code side:\n\n"
        "- `RedisLimiter` (GCRA in `gcra.lua`) keyed by API key, falling back to `anon:<ip>` for unauthenticated calls\n"
        "- time passed in from Go, tests use an injected clock plus `mr.FastForward`, no sleeps\n"
        "- `ferrule_ratelimit_rejections_total{plan}` and `ferrule_ratelimit_errors_total`\n"
        "- fail-open when Redis is unreachable, with a test\n"
        "- Helm: `redis.url` points at the sessions Redis, database 2\n\n"
        "Not done: the memory limiter fallback for local dev when `REDIS_URL` is empty is still on the list.")
    s.person("skip the memory fallback, just run a redis in docker compose for local dev, one code path is "
             "better. then before you open a PR, run the load test against staging with the 3 replicas and "
             "give me the p99", pause=14)
    s.edit("internal/ratelimit/memory.go", BUCKET_OLD, "// Deprecated: the gateway limits through Redis; see redis.go. Kept one release for rollback.\n" + BUCKET_OLD)
    s.bash("kubectl -n gateway-staging rollout status deploy/ferrule && kubectl -n gateway-staging get pods -l app=ferrule",
           "deployment \"ferrule\" successfully rolled out\nNAME                       READY   STATUS    RESTARTS   AGE\n" +
           "\n".join(f"ferrule-7d9c{short_hex(rng, 5)}-{short_hex(rng, 5)}   1/1     Running   0          {rng.randint(2, 9)}m" for _ in range(3)),
           note="Checking that staging runs the branch build on all three replicas before loading it.")
    vegeta = "\n".join([
        "Requests      [total, rate, throughput]         60000, 500.02, 331.87",
        "Duration      [total, attack, wait]             2m0.009s, 1m59.998s, 11.2ms",
        f"Latencies     [min, mean, 50, 90, 95, 99, max]  2.1ms, 9.8ms, 7.4ms, 15.9ms, 21.3ms, {rng.randint(38, 49)}.{rng.randint(1, 9)}ms, 211.6ms",
        "Bytes In      [total, mean]                     8934120, 148.90",
        "Bytes Out     [total, mean]                     0, 0.00",
        "Success       [ratio]                           66.37%",
        "Status Codes  [code:count]                      200:39822  429:20178",
        "Error Set:\n429 Too Many Requests"])
    s.bash("vegeta attack -targets=loadtest/staging.targets -rate=500 -duration=120s | vegeta report", vegeta,
           description="Load test staging through the new limiter", timeout=300000)
    s.title("Global rate limit: GCRA on Redis for ferrule")

    F_ = lambda rel, mod: F(f"{root}/{rel}", modified=mod, rel=rel)  # noqa: E731
    labels = make_labels(
        session="cc-ferrule-compaction.jsonl", fmt="claude-code-jsonl",
        features=["compaction", "compact-summary-part-way", "decision-reversed", "decision-before-compaction"],
        primary_request=S("Make the gateway's rate limiting global across its three replicas (Redis, keyed by API key).",
                          "can you make it actually global?"),
        instructions=[{"id": m["uuid"], "text": m["text"]} for m in s.person_messages],
        decisions=[
            D("Use the existing Redis (the session store) as the shared limiter state.", "It already runs; in-memory limits are per pod.",
              "redis, we already run one for sessions"),
            D("Key the limit on the API key, not the client IP.", "Many enterprise customers share one NAT address.",
              "key it on the api key, not the ip. half our enterprise customers come from one NAT address"),
            D("Use the go-redis/redis_rate package.", "It implements GCRA on Redis already.",
              "The quickest route is `github.com/go-redis/redis_rate`",
              superseded_by="Write the GCRA Lua script ourselves."),
            D("Write the GCRA Lua script ourselves instead of using redis_rate.",
              "redis_rate is tied to go-redis v8 and the gateway is on v9; a short script the team understands is preferred.",
              "I'd rather have forty lines of lua we understand"),
            D("Pass the current time in from Go (injectable clock) rather than reading Redis TIME in the script.",
              "The pods are time-synced with chrony, and the tests must be deterministic without sleeps.",
              "keep passing now from go. the pods are all on chrony and I want the tests deterministic, no sleeps"),
            D("Fail open: when Redis is unreachable, let requests through and count the error.",
              "Redis being down must not take the API down.", "make sure redis being down doesn't take the api down"),
            D("No in-memory fallback limiter; local development runs Redis in docker compose.",
              "One code path is better.", "skip the memory fallback, just run a redis in docker compose for local dev, one code path is better"),
        ],
        files=[F_("internal/ratelimit/memory.go", True), F_("internal/middleware/ratelimit.go", True),
               F_("internal/ratelimit/gcra.lua", True), F_("internal/ratelimit/redis.go", True), F_("go.mod", True),
               F_("internal/ratelimit/redis_test.go", True), F_("internal/middleware/metrics.go", True),
               F_("deploy/helm/ferrule/values.yaml", True), F_("internal/config/config.go", False)],
        errors=[
            E("undefined: redis.Scripter", "Removed a stale replace directive for go-redis v8 from go.mod.",
              "A leftover replace directive is pulling in the v8 module."),
            E("expected request 6 to be allowed after 1s refill, got denied (retry_after=1s)",
              "Injected a clock into RedisLimiter and advanced miniredis with FastForward instead of sleeping.",
              "mr.FastForward(time.Second)"),
        ],
        pending_tasks=[
            T("Add a Redis service to docker compose for local development.", "just run a redis in docker compose for local dev"),
            T("Report the load test's p99 to the person, then open the PR.", "give me the p99"),
        ],
        current_work=S("Ran the vegeta load test against staging (3 replicas) through the new limiter; the p99 is in its report.",
                       "vegeta attack -targets=loadtest/staging.targets -rate=500 -duration=120s"),
        next_step=S("Give the person the p99 from the load test, then open the PR.",
                    "before you open a PR, run the load test against staging with the 3 replicas and give me the p99"),
        not_instructions=["Please continue the conversation from where we left it off without asking the user any further questions."],
        notes="The compaction summary (isCompactSummary) restates the first three instructions; they are labelled once, "
              "at the person's original messages before the compact_boundary.",
    )
    return s.render(), labels
