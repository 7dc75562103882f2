// Drives the reference MCP memory server (@modelcontextprotocol/server-memory) through the official TypeScript
// client, as an assistant host would. Used by Ghostie.Sync.KnowledgeGraph.Tests and Ghostie.Cli.Tests.
//
//   node memory-graph-client.mjs MEMORY_FILE_PATH STEPS_JSON
//
// STEPS_JSON is a JSON array of {"tool": "<name>", "arguments": {...}}; each tool is called in order over stdio, a
// tool result with isError fails the run (exit code 2, the error on stderr). Last, read_graph is called and its
// structured result ({entities, relations}) is printed on stdout as one JSON line.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [memoryFile, stepsJson] = process.argv.slice(2);
if (!memoryFile || stepsJson === undefined) {
  console.error("usage: node memory-graph-client.mjs MEMORY_FILE_PATH STEPS_JSON");
  process.exit(1);
}

const steps = JSON.parse(stepsJson);
const here = path.dirname(fileURLToPath(import.meta.url));
const server = path.join(here, "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js");
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [server],
  env: { ...process.env, MEMORY_FILE_PATH: memoryFile },
  stderr: "pipe",
});
const client = new Client({ name: "ghostie-graph-test", version: "1.0.0" });
let serverErrors = "";
transport.stderr?.on("data", chunk => { serverErrors += chunk; });

try {
  await client.connect(transport);
  for (const step of steps) {
    const result = await client.callTool({ name: step.tool, arguments: step.arguments ?? {} });
    if (result.isError) {
      const text = (result.content ?? []).map(c => c.text ?? "").join(" ");
      console.error(`${step.tool} failed: ${text}`);
      process.exitCode = 2;
      break;
    }
  }

  if (!process.exitCode) {
    const graph = await client.callTool({ name: "read_graph", arguments: {} });
    if (graph.isError) {
      console.error(`read_graph failed: ${(graph.content ?? []).map(c => c.text ?? "").join(" ")}`);
      process.exitCode = 2;
    } else {
      process.stdout.write(JSON.stringify(graph.structuredContent) + "\n");
    }
  }
} catch (error) {
  console.error(`MCP client error: ${error?.message ?? error}\n${serverErrors}`);
  process.exitCode = 3;
} finally {
  await client.close().catch(() => {});
}
