// A bridge between the C# tests and the official MCP TypeScript client (@modelcontextprotocol/sdk).
//
//   node mcp-client.mjs <tests/servers folder>
//
// Reads one JSON request per line on stdin, runs it with the TypeScript client against the server it spawned over
// stdio, and answers with one JSON line on stdout: {"ok": true, "result": ...} or {"ok": false, "error": {code, message, data}}.
// The test drives the session step by step (and can change the world between steps: rename the repository folder,
// run the ghostie CLI), while every MCP message goes through the real client.
//
// Requests:
//   {"op": "connect", "command": "...", "args": [...], "cwd": "..."}   spawn the server with this process's environment; initialize
//   {"op": "listTools"} | {"op": "listResources"} | {"op": "listResourceTemplates"}
//   {"op": "callTool", "name": "...", "arguments": {...}}             a JSON-RPC error is {"ok": false}; a tool error is a result with isError
//   {"op": "readResource", "uri": "..."}
//   {"op": "ping"}
//   {"op": "diagnostics"}    what the client saw besides results: transport or parse errors (a line on stdout that is not JSON-RPC), the server's stderr
//   {"op": "close"}          close the session; answers once the server process has exited, with its exit code
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const serversDir = process.argv[2];
if (!serversDir) {
  process.stderr.write('usage: node mcp-client.mjs <tests/servers folder>\n');
  process.exit(2);
}

const sdk = join(serversDir, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'esm');
const { Client } = await import(pathToFileURL(join(sdk, 'client', 'index.js')).href);
const { StdioClientTransport } = await import(pathToFileURL(join(sdk, 'client', 'stdio.js')).href);

let client = null;
let transport = null;
let serverStderr = '';
const clientErrors = [];
let exited = null;

function send(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

function describe(error) {
  return { code: error?.code ?? null, message: String(error?.message ?? error), data: error?.data ?? null };
}

async function connect(request) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (typeof value === 'string') env[name] = value;
  }

  transport = new StdioClientTransport({ command: request.command, args: request.args ?? [], cwd: request.cwd, env, stderr: 'pipe' });
  transport.stderr?.on('data', chunk => { serverStderr += chunk.toString('utf8'); });
  client = new Client({ name: 'ghostie-tests', version: '1.0.0' }, { capabilities: {} });
  client.onerror = error => clientErrors.push(String(error?.message ?? error));
  await client.connect(transport);
  // The SDK keeps the child process to itself; its 'close' event tells whether the server ended by itself when its
  // stdin closed (code 0) or had to be killed (a signal), which is what 'close' reports.
  const child = transport._process;
  exited = child
    ? new Promise(resolve => child.once('close', (code, signal) => resolve({ code, signal })))
    : Promise.resolve({ code: null, signal: 'unknown: the SDK no longer exposes the child process' });
  return {
    serverVersion: client.getServerVersion(),
    serverCapabilities: client.getServerCapabilities(),
    instructions: client.getInstructions() ?? null,
    pid: transport.pid ?? null,
  };
}

async function handle(request) {
  switch (request.op) {
    case 'connect': return connect(request);
    case 'listTools': return client.listTools();
    case 'listResources': return client.listResources();
    case 'listResourceTemplates': return client.listResourceTemplates();
    case 'callTool': return client.callTool({ name: request.name, arguments: request.arguments }, undefined, { timeout: 120_000 });
    case 'readResource': return client.readResource({ uri: request.uri });
    case 'ping': return client.ping();
    case 'diagnostics': return { clientErrors, serverStderr };
    case 'close': {
      const pending = exited;
      await client.close();
      const exit = await Promise.race([pending, new Promise(resolve => setTimeout(() => resolve({ code: null, signal: 'still running after 10 s' }), 10_000))]);
      return { exitCode: exit.code, signal: exit.signal, clientErrors, serverStderr };
    }
    default: throw new Error(`unknown op '${request.op}'`);
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim().length === 0) continue;
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    send({ ok: false, error: { code: null, message: `the bridge got a line that is not JSON: ${error.message}`, data: null } });
    continue;
  }

  try {
    send({ ok: true, result: await handle(request) });
  } catch (error) {
    send({ ok: false, error: describe(error) });
  }
}

if (client) {
  await client.close().catch(() => {});
}
