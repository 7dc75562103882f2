"""Session 5: a front-end Claude Code session full of injected lines: slash commands and their output, the
person's own shell escapes (!cmd), system reminders inside the person's messages, hook output, an
interrupted tool call followed by a correction, and a decision shown only by what the person did."""

import random

from corpuslib import ClaudeCodeSession, Filler, short_hex
from labels import D, E, F, S, T, make_labels

NOUNS = ["recipe", "meal", "plan", "day", "ingredient", "servings", "pantry", "shopping", "week", "slot",
         "card", "drawer", "tag", "filter", "timer", "portion"]
VERBS = ["add", "remove", "move", "plan", "scale", "group", "sort", "render", "persist", "restore", "toggle", "pick"]


def build(seed=5519):
    rng = random.Random(seed)
    f = Filler(rng, NOUNS, VERBS)
    s = ClaudeCodeSession(rng, cwd="/Users/noor/code/pebble", branch="feat/week-planner", version="2.0.55",
                          model="claude-sonnet-4-5-20250929", start="2025-11-21T18:02:11.000Z")
    root = s.cwd
    for p in ["src/pages/Recipes.tsx", "src/pages/Recipe.tsx", "src/components/RecipeCard.tsx", "src/components/TagFilter.tsx",
              "src/hooks/useRecipes.ts", "src/api/client.ts", "src/App.tsx", "src/components/NavBar.tsx"]:
        s.files[f"{root}/{p}"] = f.ts_module(n=rng.randint(16, 24))
    s.files[f"{root}/src/styles/theme.css"] = ":root {\n" + "\n".join(f"  --{f._n()}-{rng.choice(['bg', 'fg', 'gap', 'radius'])}: {rng.choice(['#', ''])}{short_hex(rng, 6) if rng.random() < 0.6 else str(rng.randint(2, 24)) + 'px'};" for _ in range(70)) + "\n}\n"
    s.files[f"{root}/package.json"] = ('{\n  "name": "pebble",\n  "private": true,\n  "type": "module",\n  "scripts": {\n    "dev": "vite",\n    "build": "tsc -b && vite build",\n'
                                       '    "test": "vitest run"\n  },\n  "dependencies": {\n    "react": "^18.3.1",\n    "react-dom": "^18.3.1",\n    "react-router-dom": "^6.23.1"\n  }\n}\n')

    s.slash("model", "opus", "Set model to opus (claude-opus-4-1-20250805)")
    s.model = "claude-opus-4-1-20250805"
    s.person(
        "I want a week planner: a page with the seven days as columns, you drag recipes from a sidebar onto a day, "
        "and it remembers the plan. there's no API for plans yet, that's sprint 14, so keep it in localStorage for "
        "now but make it easy to swap",
        reminders=["This is a reminder that your todo list is currently empty. DO NOT mention this to the user explicitly because they are already aware. If you are working on tasks that would benefit from a todo list please use the TodoWrite tool to create one."])
    s.glob("src/**/*.tsx", sorted(p for p in s.files if p.endswith(".tsx")))
    s.read("src/App.tsx")
    s.read("package.json")
    s.read("src/pages/Recipes.tsx")
    s.read("src/components/RecipeCard.tsx")
    s.read("src/hooks/useRecipes.ts")
    s.todo([("Add a PlanStore interface with a localStorage implementation", "in_progress", "Adding the plan store"),
            ("Build the WeekPlanner page with seven day columns", "pending", "Building the week planner page"),
            ("Drag and drop from the recipe sidebar to a day", "pending", "Wiring drag and drop"),
            ("Route /plan and a nav link", "pending", "Adding the route")])
    s.say("For drag and drop there are two usual choices: `react-beautiful-dnd`, which is simpler but no longer "
          "maintained and warns under React 18 strict mode, and `@dnd-kit/core`, which is maintained and has "
          "keyboard dragging built in. I'll use dnd-kit unless you object.")
    s.person("dnd-kit. rbd is dead")
    s.bash("npm install @dnd-kit/core@^6.1.0 @dnd-kit/sortable@^8.0.0", f"\nadded 3 packages, and audited {rng.randint(300, 400)} packages in 4s\n\n{rng.randint(80, 120)} packages are looking for funding\n  run `npm fund` for details\n\nfound 0 vulnerabilities")
    store = ("export type DayKey = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';\nexport type WeekPlan = Record<DayKey, string[]>; // recipe ids per day\n\n"
             "/** Where a plan lives. localStorage today, the plans API in sprint 14. */\nexport interface PlanStore {\n  load(weekOf: string): Promise<WeekPlan>;\n  save(weekOf: string, plan: WeekPlan): Promise<void>;\n}\n\n"
             "export const emptyPlan = (): WeekPlan => ({ mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] });\n\n"
             "export class LocalPlanStore implements PlanStore {\n  constructor(private readonly storage: Storage = window.localStorage) {}\n\n"
             "  async load(weekOf: string): Promise<WeekPlan> {\n    const raw = this.storage.getItem(`pebble.plan.${weekOf}`);\n    return raw ? { ...emptyPlan(), ...JSON.parse(raw) } : emptyPlan();\n  }\n\n"
             "  async save(weekOf: string, plan: WeekPlan): Promise<void> {\n    this.storage.setItem(`pebble.plan.${weekOf}`, JSON.stringify(plan));\n  }\n}\n")
    s.write("src/plan/PlanStore.ts", store, note="The store is async even for localStorage, so the API version can drop in without touching callers.")
    s.hook_feedback("PostToolUse:Write", "npx prettier --write src/plan/PlanStore.ts completed successfully")
    planner = ("import { DndContext, DragEndEvent, useDraggable, useDroppable } from '@dnd-kit/core';\nimport { useEffect, useState } from 'react';\n"
               "import { DayKey, LocalPlanStore, WeekPlan, emptyPlan } from '../plan/PlanStore';\nimport { useRecipes } from '../hooks/useRecipes';\n\n"
               "const DAYS: DayKey[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];\nconst store = new LocalPlanStore();\n\n"
               "export function WeekPlanner({ weekOf }: { weekOf: string }) {\n  const { recipes } = useRecipes();\n  const [plan, setPlan] = useState<WeekPlan>(emptyPlan());\n\n"
               "  useEffect(() => { store.load(weekOf).then(setPlan); }, [weekOf]);\n\n"
               "  function onDragEnd(e: DragEndEvent) {\n    if (!e.over) return;\n    const day = e.over.id as DayKey;\n    const next = { ...plan, [day]: [...plan[day], String(e.active.id)] };\n    setPlan(next);\n    void store.save(weekOf, next);\n  }\n\n"
               "  return (\n    <DndContext onDragEnd={onDragEnd}>\n      <aside className=\"planner-sidebar\">\n        {recipes.map((r) => <DraggableRecipe id={r.id} title={r.title} />)}\n      </aside>\n"
               "      <div className=\"planner-week\">\n        {DAYS.map((d) => <DayColumn key={d} day={d} ids={plan[d]} />)}\n      </div>\n    </DndContext>\n  );\n}\n")
    s.write("src/pages/WeekPlanner.tsx", planner)
    s.edit("src/App.tsx", "\n\n", "\n\nimport { WeekPlanner } from './pages/WeekPlanner';\n\n")
    s.edit("src/styles/theme.css", ":root {\n", ":root {\n  --planner-column-bg: #f3efe7;\n  --planner-gap: 12px;\n  --radius-card: 10px;\n",
           note="Adding a few planner variables to the theme.")
    s.bash_mode("git checkout -- src/styles/theme.css", "", "Updated 1 path from the index")
    s.person("put the planner styles in their own css module", pause=1)
    s.write("src/pages/WeekPlanner.module.css", ".sidebar {\n  background: #f3efe7;\n  padding: 12px;\n}\n\n.week {\n  display: grid;\n  grid-template-columns: repeat(7, minmax(0, 1fr));\n  gap: 12px;\n}\n\n.day {\n  min-height: 320px;\n  border-radius: 10px;\n  border: 1px dashed #cfc6b8;\n}\n")
    s.bash("npm run build", "", stderr=(
        "> pebble@0.4.0 build\n> tsc -b && vite build\n\nsrc/pages/WeekPlanner.tsx(27,51): error TS2304: Cannot find name 'DraggableRecipe'.\n"
        "src/pages/WeekPlanner.tsx(30,30): error TS2304: Cannot find name 'DayColumn'."), code=2)
    s.edit("src/pages/WeekPlanner.tsx", "export function WeekPlanner(",
           "function DraggableRecipe({ id, title }: { id: string; title: string }) {\n  const { attributes, listeners, setNodeRef, transform } = useDraggable({ id });\n"
           "  const style = transform ? { transform: `translate(${transform.x}px, ${transform.y}px)` } : undefined;\n"
           "  return <div ref={setNodeRef} style={style} {...listeners} {...attributes} className={css.card}>{title}</div>;\n}\n\n"
           "function DayColumn({ day, ids }: { day: DayKey; ids: string[] }) {\n  const { setNodeRef, isOver } = useDroppable({ id: day });\n"
           "  return <section ref={setNodeRef} className={isOver ? `${css.day} ${css.over}` : css.day}><h3>{day}</h3>{ids.map((id) => <p>{id}</p>)}</section>;\n}\n\n"
           "export function WeekPlanner(")
    s.edit("src/pages/WeekPlanner.tsx", "import { useRecipes } from '../hooks/useRecipes';\n",
           "import { useRecipes } from '../hooks/useRecipes';\nimport css from './WeekPlanner.module.css';\n")
    s.bash("npm run build", "> pebble@0.4.0 build\n> tsc -b && vite build\n\nvite v5.4.2 building for production...\n" +
           "\n".join(f"dist/assets/{f._n()}-{short_hex(rng, 8)}.js   {rng.randint(1, 200)}.{rng.randint(10, 99)} kB │ gzip: {rng.randint(1, 60)}.{rng.randint(10, 99)} kB" for _ in range(30)) + "\n✓ built in 3.12s")
    s.bash_mode("npm run dev", "\n  VITE v5.4.2  ready in 311 ms\n\n  ➜  Local:   http://localhost:5173/\n  ➜  Network: use --host to expose",
                "Warning: Each child in a list should have a unique \"key\" prop.\n\nCheck the render method of `WeekPlanner`. See https://reactjs.org/link/warning-keys for more information.\n    at DraggableRecipe (http://localhost:5173/src/pages/WeekPlanner.tsx:14:27)")
    s.person("console is complaining about keys", pause=3)
    s.edit("src/pages/WeekPlanner.tsx", "{recipes.map((r) => <DraggableRecipe id={r.id} title={r.title} />)}",
           "{recipes.map((r) => <DraggableRecipe key={r.id} id={r.id} title={r.title} />)}")
    s.edit("src/pages/WeekPlanner.tsx", "{ids.map((id) => <p>{id}</p>)}", "{ids.map((id, i) => <p key={`${id}-${i}`}>{id}</p>)}",
           note="The day column can hold the same recipe twice (leftovers), so its key includes the position.")
    s.person("nice. now a 'week of' picker at the top so I can plan next week too")
    s.say("I'll add a small date picker for the week.")
    s.call("Bash", {"command": "npm install react-datepicker@^7.3.0 @types/react-datepicker", "description": "Install a date picker"},
           "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed.",
           is_error=True)
    s.interrupted(for_tool_use=True)
    s.person("no new library for that. a native <input type=\"week\"> does exactly this, and where it's not supported "
             "just use type=date and snap to the monday")
    s.edit("src/pages/WeekPlanner.tsx", "  return (\n    <DndContext onDragEnd={onDragEnd}>",
           "  return (\n    <DndContext onDragEnd={onDragEnd}>\n      <WeekOfPicker value={weekOf} onChange={onWeekChange} />")
    s.write("src/components/WeekOfPicker.tsx",
            "const supportsWeekInput = (() => {\n  const i = document.createElement('input');\n  i.setAttribute('type', 'week');\n  return i.type === 'week';\n})();\n\n"
            "/** Monday of the ISO week containing d, as yyyy-mm-dd. */\nexport function mondayOf(d: Date): string {\n  const day = (d.getDay() + 6) % 7;\n  const m = new Date(d);\n  m.setDate(d.getDate() - day);\n  return m.toISOString().slice(0, 10);\n}\n\n"
            "export function WeekOfPicker({ value, onChange }: { value: string; onChange: (monday: string) => void }) {\n"
            "  if (supportsWeekInput) {\n    return <label>Week of <input type=\"week\" value={toIsoWeek(value)} onChange={(e) => onChange(fromIsoWeek(e.target.value))} /></label>;\n  }\n"
            "  return <label>Week of <input type=\"date\" value={value} onChange={(e) => onChange(mondayOf(new Date(e.target.value)))} /></label>;\n}\n")
    s.bash("npx vitest run src/components", f.jest_log(["src/components/WeekOfPicker.test.tsx", "src/components/RecipeCard.test.tsx", "src/components/TagFilter.test.tsx"],
                                                        failures={"src/components/WeekOfPicker.test.tsx": "  ✕ mondayOf returns the monday for a sunday (4 ms)\n    AssertionError: expected '2025-11-16' to be '2025-11-17'"}),
           code=1)
    s.say("`mondayOf` is off by one for Sundays near midnight because `toISOString()` converts to UTC first, which "
          "moves the date back a day in Amsterdam. Formatting from local date parts instead.")
    s.edit("src/components/WeekOfPicker.tsx", "  return m.toISOString().slice(0, 10);",
           "  const pad = (n: number) => String(n).padStart(2, '0');\n  return `${m.getFullYear()}-${pad(m.getMonth() + 1)}-${pad(m.getDate())}`;")
    s.bash("npx vitest run", f.jest_log([f"src/{x}.test.tsx" for x in ["components/WeekOfPicker", "components/RecipeCard", "components/TagFilter", "pages/WeekPlanner", "plan/PlanStore"]]))
    s.slash("cost", "", f"Total cost:            ${rng.uniform(2, 6):.2f}\nTotal duration (API):  {rng.randint(9, 30)}m {rng.randint(0, 59)}s\nTotal duration (wall): 1h {rng.randint(0, 59)}m\nTotal code changes:    {rng.randint(200, 400)} lines added, {rng.randint(10, 60)} lines removed")
    s.say("All tests pass, including the Sunday case. The planner is at `/plan`, the week picker uses "
          "`<input type=\"week\">` with a date-input fallback that snaps to Monday.")
    for p in ["src/pages/Recipe.tsx", "src/components/TagFilter.tsx", "src/api/client.ts", "src/components/NavBar.tsx"]:
        s.read(p, note=rng.choice(["Checking the nav for where the link goes.", "Looking at how other pages read route params.",
                                   "The API client, to see the shape a PlanStore over HTTP will need.", "Seeing how filters are laid out, for the sidebar."]))
    s.edit("src/components/NavBar.tsx", "\n\n", "\n\nexport const NAV_LINKS = [{ to: '/recipes', label: 'Recipes' }, { to: '/plan', label: 'Plan' }];\n\n")
    s.person("ok good. last thing for today: write the changelog entry, then stop. I'll try it on my phone tonight "
             "and we'll pick up the shopping list tomorrow", pause=6,
             reminders=["The user opened the file /Users/noor/code/pebble/CHANGELOG.md in the IDE. This may or may not be related to the current task."])

    F_ = lambda rel, mod: F(f"{root}/{rel}", modified=mod, rel=rel)  # noqa: E731
    labels = make_labels(
        session="cc-pebble-meta-heavy.jsonl", fmt="claude-code-jsonl",
        features=["slash-commands", "local-command-caveat", "bash-mode-shell-escapes", "system-reminders-in-person-messages",
                  "hook-output", "rejected-tool-use-and-interruption", "decision-implied-by-action"],
        primary_request=S("Build a week planner page: seven day columns, drag recipes from a sidebar onto days, remember the plan "
                          "(localStorage for now, swappable for the sprint-14 API).",
                          "I want a week planner: a page with the seven days as columns"),
        instructions=[{"id": m["uuid"], "text": m["text"]} for m in s.person_messages],
        decisions=[
            D("Keep plans in localStorage behind a PlanStore interface, so the plans API can replace it.",
              "There is no plans API until sprint 14.",
              "there's no API for plans yet, that's sprint 14, so keep it in localStorage for now but make it easy to swap"),
            D("Use @dnd-kit for drag and drop, not react-beautiful-dnd.", "react-beautiful-dnd is unmaintained.", "dnd-kit. rbd is dead"),
            D("Leave the shared theme untouched; planner styles go in their own CSS module.",
              "The person reverted the theme.css change with git checkout and asked for a CSS module.",
              "git checkout -- src/styles/theme.css", "put the planner styles in their own css module", explicit=False),
            D("No date-picker library: native <input type=\"week\">, falling back to type=date snapped to Monday.",
              "The native input does the job; the person rejected installing react-datepicker.",
              "no new library for that. a native <input type=\"week\"> does exactly this"),
        ],
        files=[F_("src/plan/PlanStore.ts", True), F_("src/pages/WeekPlanner.tsx", True), F_("src/App.tsx", True),
               F_("src/pages/WeekPlanner.module.css", True), F_("src/components/WeekOfPicker.tsx", True),
               F_("src/components/NavBar.tsx", True), F_("src/styles/theme.css", False), F_("package.json", False),
               F_("src/hooks/useRecipes.ts", False)],
        errors=[
            E("error TS2304: Cannot find name 'DraggableRecipe'.", "Defined DraggableRecipe and DayColumn in WeekPlanner.tsx.",
              "function DraggableRecipe({ id, title }"),
            E("Warning: Each child in a list should have a unique \"key\" prop.", "Added keys; day items keyed by id and position.",
              "key={r.id}"),
            E("AssertionError: expected '2025-11-16' to be '2025-11-17'",
              "mondayOf formatted via toISOString (UTC); now formats from local date parts.",
              "Formatting from local date parts instead."),
        ],
        pending_tasks=[T("Write the CHANGELOG entry for the week planner, then stop.", "write the changelog entry, then stop"),
                       T("Tomorrow: the shopping list.", "we'll pick up the shopping list tomorrow")],
        current_work=S("Week planner finished and tested (route /plan, nav link, week picker); about to write the changelog entry.",
                       "The planner is at `/plan`"),
        next_step=S("Write the changelog entry and stop; the person tests on the phone tonight.",
                    "write the changelog entry, then stop. I'll try it on my phone tonight"),
        not_instructions=["This is a reminder that your todo list is currently empty.",
                          "The user opened the file /Users/noor/code/pebble/CHANGELOG.md in the IDE.",
                          "STOP what you are doing and wait for the user to tell you how to proceed."],
        notes="The theme decision is only visible as the person's own shell escape (<bash-input>git checkout -- src/styles/theme.css) "
              "followed by a request; no sentence states it.",
    )
    return s.render(), labels
