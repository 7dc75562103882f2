"""Session 2: a Claude Code agent-team session. Teammates report back as user-role <teammate-message> lines;
their reports are long, contain imperatives of their own, and the person's last instruction is short."""

import json
import random

from corpuslib import ClaudeCodeSession, Filler, short_hex
from labels import D, E, F, S, T, make_labels

NOUNS = ["checkout", "cart", "basket", "address", "country", "voucher", "shipping", "summary", "banner",
         "footer", "header", "modal", "toast", "price", "tile", "carousel", "review", "badge"]
VERBS = ["render", "format", "select", "toggle", "validate", "submit", "track", "hydrate", "measure", "open",
         "close", "focus", "announce", "resolve", "memo"]

COMPONENTS = ["CheckoutForm", "CountryPicker", "AddressFields", "VoucherInput", "CartDrawer", "PriceTag",
              "ProductTile", "ReviewStars", "HeaderNav", "SiteFooter", "ToastRegion", "ShippingOptions",
              "OrderSummary", "PromoBanner", "SizeGuideModal", "QuantityStepper"]

A11Y_ISSUES = [
    ("`<div onClick>` acting as a button: no role, not reachable by Tab, Enter does nothing", "serious"),
    ("input has a visible label but it isn't associated (`htmlFor` missing), so screen readers announce 'edit text'", "serious"),
    ("focus ring removed with `outline: none` and nothing put back", "serious"),
    ("text colour #8a8f98 on #ffffff is 3.2:1, under the 4.5:1 needed for body text", "moderate"),
    ("icon-only button has no accessible name; VoiceOver reads 'button'", "serious"),
    ("error message appears visually but isn't announced (no `aria-live`, not linked with `aria-describedby`)", "serious"),
    ("modal doesn't trap focus; Tab walks out into the page behind it", "critical"),
    ("`aria-hidden=\"true\"` on a container that still holds focusable links", "critical"),
    ("heading levels jump from h1 to h4", "minor"),
    ("images of products have `alt` equal to the file name", "moderate"),
    ("the quantity stepper's +/- buttons are 24x24 px, under the 44x44 touch target", "moderate"),
    ("carousel auto-advances every 4 s with no pause control", "serious"),
    ("placeholder used as the only label", "moderate"),
    ("tab order follows DOM order which puts the total before the line items", "minor"),
    ("toast disappears after 3 s, too fast to read with a screen magnifier", "moderate"),
]

PERF_ITEMS = [
    ("date-fns pulls in all 60 locales through `import * as locales`", "212 kB gzip"),
    ("map bundle (maplibre-gl) is in the main chunk", "238 kB gzip"),
    ("hero image served at 2400 px wide to phones", "1.1 MB transfer"),
    ("react-select in CountryPicker for a list of 12 countries", "27 kB gzip"),
    ("three icon packs imported whole", "64 kB gzip"),
    ("fonts: 4 weights of Inter, 2 used", "96 kB transfer"),
    ("product JSON fetched twice on the cart page (SSR and again on hydrate)", "~300 ms on 3G"),
    ("moment.js still required by the old order-history page", "71 kB gzip"),
]


def a11y_report(rng, f):
    lines = [
        "Audit of the checkout flow is done. I ran axe-core 4.9 through Playwright on every step of checkout "
        "(cart, address, shipping, payment, confirmation) at 375 px and 1280 px, and tabbed through each page "
        "by hand with VoiceOver on.",
        "",
        "## Summary",
        f"- {rng.randint(40, 60)} axe violations across 5 pages, {rng.randint(8, 12)} distinct rules",
        "- 2 critical (focus escapes the size-guide modal; `aria-hidden` container with links inside)",
        "- most of the volume is colour contrast coming from one token, `--color-text-muted`",
        "",
        "## Findings by component",
    ]
    for comp in COMPONENTS:
        for _ in range(rng.randint(2, 5)):
            issue, sev = rng.choice(A11Y_ISSUES)
            lines.append(f"- **{sev}** `apps/web/src/components/{comp}.tsx:{rng.randint(12, 260)}` {issue}")
    lines += [
        "",
        "## What I changed already",
        "- `apps/web/src/components/SizeGuideModal.tsx`: focus trap with the existing `useFocusTrap` hook, Escape closes, focus returns to the trigger",
        "- `apps/web/src/components/HeaderNav.tsx`: removed `aria-hidden` from the collapsed menu, used `inert` instead",
        "- `apps/web/src/components/CheckoutForm.tsx`: labels wired with `htmlFor`, errors linked with `aria-describedby` and announced through a polite live region",
        "",
        "## Not changed, needs a call from you",
        "- CountryPicker: react-select's combobox is the source of 6 of the violations. A native `<select>` "
        "would fix all six and is fine for 12 countries. If search matters, the alternative is upgrading "
        "react-select and configuring its aria props, which I tried on a branch and still got 2 violations.",
        "- `--color-text-muted` is #8a8f98; #6b7079 passes 4.5:1 on white and on our #f7f7f8 panels. It's a "
        "brand token, so I didn't touch it.",
        "",
        "Please tell the design team about the token change before merging, and then close ticket A11Y-88.",
    ]
    return "\n".join(lines)


def perf_report(rng, f):
    lines = [
        "Profiling done. Lighthouse mobile (Moto G Power, slow 4G) on /cart and /checkout/address, 5 runs each, "
        "median reported. Bundle numbers from `vite build --mode production` with rollup-plugin-visualizer.",
        "",
        f"Baseline: LCP {rng.uniform(4.1, 4.9):.1f} s, TBT {rng.randint(600, 900)} ms, CLS 0.{rng.randint(10, 30)}, "
        f"main chunk {rng.randint(690, 760)} kB gzip.",
        "",
        "## Biggest wins, in order",
    ]
    for i, (item, cost) in enumerate(PERF_ITEMS, 1):
        lines.append(f"{i}. {item} ({cost})")
    lines += ["", "## Per-route detail"]
    for route in ["/cart", "/checkout/address", "/checkout/shipping", "/checkout/payment", "/checkout/done", "/account/orders"]:
        lines.append(f"### {route}")
        for _ in range(rng.randint(6, 12)):
            chunk = f"assets/{f._n()}-{short_hex(rng, 8)}.js"
            lines.append(f"- `{chunk}` {rng.randint(3, 240)} kB gzip, parse {rng.randint(4, 180)} ms, used {rng.randint(5, 100)}% on first paint")
    lines += [
        "",
        "## Changes I'd make",
        "- `apps/web/src/lib/dates.ts`: import only `nl` and `enGB` from date-fns (the only locales we ship)",
        "- lazy-load the store-locator map with `React.lazy` behind an IntersectionObserver",
        "- serve the hero through the image CDN with `srcset` (needs the CDN config from ops)",
        "",
        "I have the date-fns change ready locally. Recommend we merge straight to main once CI is green and "
        "skip the staging soak, these are low-risk.",
    ]
    return "\n".join(lines)


def tests_report(rng):
    return "\n".join([
        "The accessibility checks are in. `apps/web/e2e/a11y.spec.ts` visits the five checkout steps and the "
        "cart drawer, runs `@axe-core/playwright` with the wcag2a, wcag2aa and wcag21aa tags, and writes the "
        "violations as a JSON attachment on the test report.",
        "",
        "CI: added an `a11y` job to `.github/workflows/ci.yml` after `e2e`. Per your note it uses "
        "`continue-on-error: true`, so it shows red in the checks list but doesn't block the merge.",
        "",
        "Current result on this branch after the auditor's fixes and the token change: "
        f"{rng.randint(9, 11)} violations left, all `color-contrast` on the marketing banner "
        "(PromoBanner, owned by the growth team's CMS styles), none in checkout proper.",
        "",
        "One flake: the shipping step test timed out once waiting for the rates call; I gave that step its "
        "own `waitForResponse` instead of a fixed timeout. 20 runs in a row green after that.",
        "",
        "You should flip `continue-on-error` to false right away so nobody regresses.",
    ])


def build(seed=2207):
    rng = random.Random(seed)
    f = Filler(rng, NOUNS, VERBS)
    s = ClaudeCodeSession(rng, cwd="/Users/tomasz/work/larkspur", branch="a11y-perf-pass",
                          version="2.1.39", model="claude-opus-4-6", start="2026-02-17T13:05:44.000Z",
                          slug="larkspur-checkout-audit")
    root = s.cwd
    web = "apps/web/src"
    for comp in COMPONENTS:
        s.files[f"{root}/{web}/components/{comp}.tsx"] = f.ts_module(n=rng.randint(5, 9))
    tokens = "\n".join(f"  --{f._n()}-{rng.choice(['bg', 'fg', 'border', 'accent'])}: #{short_hex(rng, 6)};" for _ in range(60))
    s.files[f"{root}/{web}/styles/tokens.css"] = (":root {\n" + tokens + "\n  --color-text-muted: #8a8f98;\n"
                                                    "  --color-text: #1d1f23;\n}\n")
    s.files[f"{root}/{web}/lib/dates.ts"] = ("import { format, parseISO } from 'date-fns';\nimport * as locales from 'date-fns/locale';\n\n"
                                             "export function formatOrderDate(iso: string, lang: string): string {\n"
                                             "  const locale = (locales as Record<string, Locale>)[lang] ?? locales.enGB;\n"
                                             "  return format(parseISO(iso), 'd MMM yyyy', { locale });\n}\n\n" + f.ts_module(n=4))
    s.files[f"{root}/.github/workflows/ci.yml"] = ("name: ci\non: [push, pull_request]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
                                                   "      - uses: actions/checkout@v4\n      - uses: pnpm/action-setup@v4\n      - run: pnpm install --frozen-lockfile\n"
                                                   "      - run: pnpm -r build\n  e2e:\n    needs: build\n    runs-on: ubuntu-latest\n    steps:\n"
                                                   "      - uses: actions/checkout@v4\n      - run: pnpm install --frozen-lockfile\n      - run: pnpm --filter web exec playwright test\n")

    s.person(
        "I want a proper pass over checkout before the council's accessibility audit on the 30th, and the perf "
        "numbers are embarrassing too. set up a team: one on accessibility, one profiling bundle size and LCP, "
        "one writing automated a11y checks we can keep in CI. you coordinate, don't do the work yourself")
    s.call("TeamCreate", {"team_name": "checkout-pass", "description": "Accessibility and performance pass over checkout"},
           json.dumps({"team_name": "checkout-pass", "team_file_path": "/Users/tomasz/.claude/teams/checkout-pass/config.json",
                       "lead_agent_id": "team-lead@checkout-pass"}),
           note="Setting up the team and a task per teammate.",
           tool_use_result={"team_name": "checkout-pass", "lead_agent_id": "team-lead@checkout-pass"})
    briefs = {
        "a11y-auditor": ("Audit the checkout flow (cart drawer, address, shipping, payment, confirmation) against WCAG 2.1 AA. "
                         "Use axe through Playwright and a manual keyboard/VoiceOver pass. Fix what is clearly a bug in our "
                         "components; anything that changes design tokens or swaps a library, report back and wait."),
        "perf-profiler": ("Profile /cart and /checkout/* on mobile Lighthouse and measure the production bundle. Report the "
                          "biggest wins with sizes. Don't merge anything."),
        "a11y-tests": ("Add automated accessibility checks with @axe-core/playwright for every checkout step, and a CI job "
                       "for them. Coordinate with a11y-auditor on which rules we expect to pass."),
    }
    for name, prompt in briefs.items():
        s.call("Task", {"description": f"{name} teammate", "prompt": prompt, "subagent_type": "general-purpose",
                        "team_name": "checkout-pass", "name": name},
               f"Spawned successfully.\nagent_id: {name}@checkout-pass\nname: {name}\nteam_name: checkout-pass\n"
               "The agent is now running and will receive instructions via mailbox.",
               tool_use_result={"status": "teammate_spawned", "name": name, "team_name": "checkout-pass"})
    s.say("The team is running: `a11y-auditor` (WCAG pass over checkout, fixes plain component bugs, asks before "
          "touching tokens or libraries), `perf-profiler` (Lighthouse + bundle, report only), `a11y-tests` (axe "
          "in Playwright plus a CI job). I'll pass on their reports as they come in.")
    s.idle("a11y-tests", "green", "[to team-lead] waiting on a11y-auditor's rule list")
    s.person("one thing for the tests person: the check should warn, not fail the build, until we've worked "
             "through the backlog. otherwise every PR goes red tomorrow", pause=4)
    s.call("SendMessage", {"type": "message", "recipient": "a11y-tests",
                           "content": "From Tomasz: the a11y CI job must not block merges yet. Make it report (red check is fine) but not fail the workflow until the backlog is cleared.",
                           "summary": "a11y job non-blocking for now"},
           json.dumps({"success": True, "message": "Message sent to a11y-tests's inbox"}),
           tool_use_result={"success": True})
    s.say("Passed on: the a11y job will report but not block.")
    s.teammate("perf-profiler", "yellow", "Profiling done: date-fns locales and the map chunk are the big ones",
               perf_report(rng, f))
    s.say(
        "perf-profiler is done. The two big items are date-fns (all 60 locales in the main chunk, about 212 kB "
        "gzip) and the store-locator map (238 kB). It also suggests lazy-loading the map and merging straight "
        "to main without the staging soak; I haven't acted on either, the merge policy is yours. Want me to "
        "have it apply the date-fns change?")
    s.person(
        "date-fns yes. the map no: it's above the fold on mobile, lazy loading it just means it pops in late and "
        "CLS gets worse. and we're not skipping staging, ever. accessibility comes first though, the audit has "
        "a date and perf doesn't", pause=7)
    s.call("SendMessage", {"type": "message", "recipient": "perf-profiler",
                           "content": "Apply the date-fns locale change only. Do not lazy-load the map (it's above the fold on mobile). No merge to main; everything goes through staging. Lower priority than accessibility.",
                           "summary": "date-fns only; no map lazy-load; staging stays"},
           json.dumps({"success": True, "message": "Message sent to perf-profiler's inbox"}), tool_use_result={"success": True})
    s.teammate("a11y-auditor", "blue", "Checkout audit complete, two decisions needed (CountryPicker, muted text token)",
               a11y_report(rng, f))
    axe = {"testEngine": {"name": "axe-core", "version": "4.9.1"}, "url": "http://localhost:4173/checkout/address",
           "violations": []}
    for comp in COMPONENTS:
        for _ in range(rng.randint(2, 4)):
            issue, sev = rng.choice(A11Y_ISSUES)
            axe["violations"].append({
                "id": rng.choice(["color-contrast", "label", "button-name", "aria-hidden-focus", "focus-order-semantics", "target-size", "heading-order", "image-alt"]),
                "impact": sev, "description": issue.replace("`", ""),
                "nodes": [{"html": f"<{rng.choice(['div', 'button', 'input', 'span', 'img'])} class=\"{f._n()}-{f._n()}\">",
                           "target": [f".{f._n()}-{short_hex(rng, 4)}"], "failureSummary": "Fix any of the following: " + issue.replace("`", "")}
                          for _ in range(rng.randint(1, 6))]})
    s.files[f"{root}/apps/web/test-results/axe-checkout.json"] = json.dumps(axe, indent=2)
    s.read("apps/web/test-results/axe-checkout.json", note="Skimming the raw axe output the auditor attached, to check the counts before I summarise.")
    s.say(
        "The audit is in. Roughly 50 axe violations, two critical (both already fixed by the auditor: the size "
        "guide modal's focus trap and the `aria-hidden` menu). It's waiting on you for two things:\n\n"
        "1. **CountryPicker**: swap react-select for a native `<select>` (fixes six violations, and perf-profiler "
        "listed react-select as 27 kB too), or upgrade react-select and still have two left.\n"
        "2. **`--color-text-muted`**: #8a8f98 fails contrast; #6b7079 passes. It's a brand token.\n\n"
        "It also asks that design be told before merging and that ticket A11Y-88 be closed; I haven't done "
        "either.")
    s.person(
        "native select. nobody needs type-ahead search for twelve countries. the colour, go darker, I'll tell "
        "Marloes in design myself. do that bit yourself so the auditor can move on to the payment page")
    s.read(f"{web}/components/CountryPicker.tsx")
    cp_new = ("import { useId } from 'react';\n\nconst COUNTRIES = ['NL', 'BE', 'DE', 'FR', 'LU', 'AT', 'DK', 'SE', 'ES', 'IT', 'PL', 'IE'] as const;\n\n"
              "type Props = { value: string; onChange: (code: string) => void; label: string; regionNames: Intl.DisplayNames };\n\n"
              "export function CountryPicker({ value, onChange, label, regionNames }: Props) {\n  const id = useId();\n  return (\n    <div className=\"field\">\n"
              "      <label htmlFor={id}>{label}</label>\n      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} autoComplete=\"country\">\n"
              "        {COUNTRIES.map((c) => (\n          <option key={c} value={c}>{regionNames.of(c)}</option>\n        ))}\n      </select>\n    </div>\n  );\n}\n")
    s.write(f"{web}/components/CountryPicker.tsx", cp_new,
            note="Replacing react-select with a labelled native select; `autoComplete=\"country\"` lets browsers fill it.")
    s.edit(f"{web}/styles/tokens.css", "  --color-text-muted: #8a8f98;", "  --color-text-muted: #6b7079; /* 4.5:1 on #fff and #f7f7f8 (was #8a8f98) */")
    s.bash("pnpm --filter web remove react-select && pnpm --filter web typecheck",
           "", stderr=("apps/web/src/components/AddressFields.tsx(3,30): error TS2307: Cannot find module 'react-select' or its corresponding type declarations.\n"
                       "apps/web/src/components/AddressFields.tsx(88,7): error TS2322: Type '{ options: Option[]; }' is not assignable to type 'IntrinsicAttributes & Props'."),
           code=2, description="Drop react-select and typecheck")
    s.read(f"{web}/components/AddressFields.tsx", note="AddressFields still imports react-select for its own country field. Looking at it.")
    af = s.files[f"{root}/{web}/components/AddressFields.tsx"]
    s.files[f"{root}/{web}/components/AddressFields.tsx"] = af.replace(
        "\n\n", "\n\nimport Select from 'react-select';\nimport { CountryPicker } from './CountryPicker';\n\n", 1) + (
        "\nexport function CountryField(props: FieldProps) {\n  return <Select options={countryOptions} {...props} />;\n}\n")
    s.edit(f"{web}/components/AddressFields.tsx", "import Select from 'react-select';\n", "")
    s.edit(f"{web}/components/AddressFields.tsx",
           "export function CountryField(props: FieldProps) {\n  return <Select options={countryOptions} {...props} />;\n}",
           "export function CountryField(props: FieldProps) {\n  return <CountryPicker value={props.value} onChange={props.onChange} label={props.label} regionNames={regionNames} />;\n}")
    s.bash("pnpm --filter web typecheck && pnpm --filter web build", "vite v5.2.11 building for production...\n" +
           "\n".join(f"dist/assets/{f._n()}-{short_hex(rng, 8)}.js  {rng.randint(2, 300)}.{rng.randint(10, 99)} kB │ gzip: {rng.randint(1, 90)}.{rng.randint(10, 99)} kB" for _ in range(40)) +
           "\n✓ built in 21.84s", description="Typecheck and build")
    s.say("CountryPicker is a native select now and react-select is gone from the package (AddressFields had a second "
          "copy, now it uses CountryPicker too). The muted text token is #6b7079. Typecheck and build are clean.")
    s.call("SendMessage", {"type": "message", "recipient": "a11y-auditor",
                           "content": "CountryPicker and the muted token are done by the lead. Please move on to the payment page.",
                           "summary": "picker + token done; go to payment"},
           json.dumps({"success": True, "message": "Message sent to a11y-auditor's inbox"}), tool_use_result={"success": True})
    s.teammate("perf-profiler", "yellow", "date-fns change applied; main chunk down 212 kB",
               "Applied in `apps/web/src/lib/dates.ts`: explicit imports of `nl` and `enGB` from `date-fns/locale`. "
               "Main chunk " + f"{rng.randint(500, 520)}" + " kB gzip (was ~720). LCP on /cart median 3.4 s. I left the map alone as "
               "instructed.\n\nHeads-up: the build on my side failed first with\n`error TS2307: Cannot find module 'date-fns/locale/nl' or its corresponding type declarations.`\n"
               "date-fns v3 exports locales as named exports from `date-fns/locale`, not as deep paths; switched to "
               "`import { nl, enGB } from 'date-fns/locale'` and it builds.")
    s.idle("perf-profiler", "yellow")
    s.teammate("a11y-tests", "green", "axe checks in Playwright + non-blocking CI job are in", tests_report(rng))
    s.read(".github/workflows/ci.yml", note="Checking the CI change before telling you it's done.")
    ci = s.files[f"{root}/.github/workflows/ci.yml"] + ("  a11y:\n    needs: e2e\n    runs-on: ubuntu-latest\n    continue-on-error: true\n    steps:\n"
                                                        "      - uses: actions/checkout@v4\n      - run: pnpm install --frozen-lockfile\n"
                                                        "      - run: pnpm --filter web exec playwright test e2e/a11y.spec.ts\n")
    s.files[f"{root}/.github/workflows/ci.yml"] = ci
    diff = []
    for comp in ["SizeGuideModal", "HeaderNav", "CheckoutForm"]:
        body = s.files[f"{root}/{web}/components/{comp}.tsx"].split("\n")
        diff.append(f"diff --git a/{web}/components/{comp}.tsx b/{web}/components/{comp}.tsx\nindex {short_hex(rng, 7)}..{short_hex(rng, 7)} 100644\n--- a/{web}/components/{comp}.tsx\n+++ b/{web}/components/{comp}.tsx")
        for k in range(0, len(body), 9):
            diff.append(f"@@ -{k + 1},9 +{k + 1},10 @@")
            diff.extend(" " + l for l in body[k:k + 7])
            diff.append("-" + (body[k + 7] if k + 7 < len(body) else ""))
            diff.append("+" + f.ts_function().split("\n")[0])
            diff.append("+  // a11y: " + rng.choice(A11Y_ISSUES)[0].replace("`", "")[:70])
    s.bash(f"git diff main... -- {web}/components/SizeGuideModal.tsx {web}/components/HeaderNav.tsx {web}/components/CheckoutForm.tsx",
           "\n".join(diff), description="Review the auditor's component changes", note="Reviewing what the auditor changed in the components before wrapping up.")
    s.bash("git diff --stat main...", "\n".join([
        " .github/workflows/ci.yml                        |  9 +",
        " apps/web/e2e/a11y.spec.ts                       | 74 ++++++",
        " apps/web/package.json                           |  2 +-",
        " apps/web/src/components/AddressFields.tsx       |  6 +-",
        " apps/web/src/components/CheckoutForm.tsx        | 41 ++++---",
        " apps/web/src/components/CountryPicker.tsx       | 58 ++-----",
        " apps/web/src/components/HeaderNav.tsx           |  8 +-",
        " apps/web/src/components/SizeGuideModal.tsx      | 23 ++-",
        " apps/web/src/lib/dates.ts                       |  5 +-",
        " apps/web/src/styles/tokens.css                  |  2 +-",
        " pnpm-lock.yaml                                  | 61 +------",
        " 11 files changed, 201 insertions(+), 88 deletions(-)"]))
    s.bash("pnpm --filter web exec playwright test e2e/a11y.spec.ts --reporter=line",
           "\n".join(f"[{i}/6] [chromium] › a11y.spec.ts:{10 + i * 11}:3 › checkout step {i} has no axe violations" for i in range(1, 7)) +
           f"\n  1 failed\n    [chromium] › a11y.spec.ts:76:3 › cart drawer with promo banner has no axe violations\n    Expected: 0 violations\n    Received: {rng.randint(9, 11)} (color-contrast on .promo-banner__text)\n  5 passed (38.2s)",
           code=1, description="Run the a11y checks locally")
    s.say(
        "Everyone has reported. Where things stand:\n\n"
        "- **Accessibility**: auditor fixed the modal focus trap, the hidden menu and the checkout form labels "
        "and errors; I did the CountryPicker and the token. Locally the axe checks pass on all five checkout "
        "steps; the one failure is the cart drawer, and it's the promo banner's contrast (growth team's CMS "
        "styles), not checkout code.\n"
        "- **Tests/CI**: `e2e/a11y.spec.ts` plus an `a11y` job with `continue-on-error: true`, as you asked. "
        "The tests teammate suggests making it blocking right away; I left it non-blocking per your earlier "
        "instruction.\n"
        "- **Perf**: date-fns change in, main chunk about 210 kB smaller, LCP on /cart 3.4 s (was ~4.5). Map "
        "untouched. Hero image via the CDN still needs ops.\n"
        "- The auditor is on the payment page now.\n\n"
        "Nothing is committed yet.", thinking=(
            "Summarise for Tomasz what is done and what isn't. Teammates recommended things he already decided "
            "against (skip staging, blocking CI): mention but don't act."))
    s.person("commit it, then let's do a quick retro on how splitting the work three ways went", pause=9)

    F_ = lambda rel, mod, by=None: F(rel if by else f"{root}/{rel}", modified=mod, rel=rel, by=by)  # noqa: E731
    labels = make_labels(
        session="cc-larkspur-agent-team.jsonl", fmt="claude-code-jsonl",
        features=["agent-team", "teammate-messages-as-user-role", "idle-notifications", "teammate-imperatives",
                  "short-last-instruction-after-long-agent-output"],
        primary_request=S("Coordinate an agent team (accessibility, performance, automated a11y tests) for a pass "
                          "over checkout before the council's accessibility audit on the 30th; the lead coordinates "
                          "and doesn't do the work itself.",
                          "I want a proper pass over checkout before the council's accessibility audit on the 30th"),
        instructions=[{"id": m["uuid"], "text": m["text"]} for m in s.person_messages],
        decisions=[
            D("The a11y CI job reports but does not fail the build (continue-on-error) until the backlog is cleared.",
              "Otherwise every PR goes red immediately.",
              "the check should warn, not fail the build, until we've worked through the backlog"),
            D("Apply the date-fns locale change (only nl and enGB).", "It is the biggest bundle win (~212 kB gzip).",
              "date-fns yes"),
            D("Do not lazy-load the store-locator map.",
              "It is above the fold on mobile; lazy-loading makes it pop in late and worsens CLS.",
              "the map no: it's above the fold on mobile, lazy loading it just means it pops in late and CLS gets worse"),
            D("Never skip the staging soak / no direct merge to main (rejecting the profiler's recommendation).",
              "Policy: everything goes through staging.", "we're not skipping staging, ever"),
            D("Accessibility takes priority over performance.", "The accessibility audit has a fixed date; perf does not.",
              "accessibility comes first though, the audit has a date and perf doesn't"),
            D("Replace react-select with a native <select> in CountryPicker (and in AddressFields).",
              "Type-ahead search is unnecessary for twelve countries; it fixes six axe violations and drops 27 kB.",
              "native select. nobody needs type-ahead search for twelve countries"),
            D("Darken --color-text-muted from #8a8f98 to #6b7079; the person tells design (Marloes) personally.",
              "#8a8f98 fails 4.5:1 contrast; #6b7079 passes on white and the panel grey.",
              "the colour, go darker, I'll tell Marloes in design myself"),
        ],
        files=[F_(f"{web}/components/CountryPicker.tsx", True), F_(f"{web}/styles/tokens.css", True),
               F_(f"{web}/components/AddressFields.tsx", True), F_(".github/workflows/ci.yml", True, "a11y-tests"),
               F_(f"{web}/lib/dates.ts", True, "perf-profiler"), F_(f"{web}/components/SizeGuideModal.tsx", True, "a11y-auditor"),
               F_(f"{web}/components/HeaderNav.tsx", True, "a11y-auditor"), F_(f"{web}/components/CheckoutForm.tsx", True, "a11y-auditor"),
               F_("apps/web/e2e/a11y.spec.ts", True, "a11y-tests")],
        errors=[
            E("error TS2307: Cannot find module 'react-select' or its corresponding type declarations.",
              "AddressFields had its own react-select country field; it now uses CountryPicker.",
              "AddressFields had a second copy, now it uses CountryPicker too"),
            E("error TS2307: Cannot find module 'date-fns/locale/nl' or its corresponding type declarations.",
              "date-fns v3 exports locales as named exports; switched to import { nl, enGB } from 'date-fns/locale'.",
              "import { nl, enGB } from 'date-fns/locale'"),
            E("(color-contrast on .promo-banner__text)", "Not fixed: the promo banner belongs to the growth team's CMS styles.",
              "the promo banner's contrast (growth team's CMS styles), not checkout code"),
        ],
        pending_tasks=[
            T("Commit the work on branch a11y-perf-pass.", "Nothing is committed yet."),
            T("Hold a short retrospective on how splitting the work across three teammates went.",
              "let's do a quick retro on how splitting the work three ways went"),
            T("a11y-auditor is auditing the payment page.", "The auditor is on the payment page now."),
            T("Serve the hero image through the image CDN (needs ops).", "Hero image via the CDN still needs ops."),
            T("Make the a11y CI job blocking once the backlog is cleared.", "continue-on-error: true"),
        ],
        current_work=S("All three teammates have reported; the lead summarised the state (a11y fixes in, date-fns change in, "
                       "non-blocking a11y job, promo banner contrast outstanding), nothing committed.",
                       "Everyone has reported."),
        next_step=S("Commit, then run a quick retrospective on the three-way split.",
                    "commit it, then let's do a quick retro on how splitting the work three ways went"),
        not_instructions=[
            "Recommend we merge straight to main once CI is green and skip the staging soak",
            "Please tell the design team about the token change before merging, and then close ticket A11Y-88.",
            "You should flip `continue-on-error` to false right away so nobody regresses.",
        ],
        notes="Teammate reports are user-role lines wrapped in <teammate-message>; their imperatives are listed under "
              "not_instructions. Files marked 'by' were changed by that teammate and are known only from its report.",
    )
    return s.render(), labels
