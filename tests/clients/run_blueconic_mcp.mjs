// Runs BlueConic's MCP server (blueconic/blueconic-mcp, src/client-side-server.ts, unchanged) against
// syncrun and drives it as an MCP host would, over stdio with the MCP SDK's client: list the tools
// (the server first reads /rest/v2/openapi.json and keeps the operations it approves), then call the
// connection tools: all connections, one connection, its runs. Each call gets an OAuth token
// (client credentials, POST /rest/v2/oauth/token) before GET /rest/v2/... .
//
// The server is configured as its README says: BLUECONIC_TENANT_URL, OAUTH_CLIENT_ID and
// OAUTH_CLIENT_SECRET. It rewrites http:// to https://, so syncrun must serve TLS; the test CA is
// given to Node with NODE_EXTRA_CA_CERTS (the server refuses NODE_TLS_REJECT_UNAUTHORIZED=0).
//
// usage: node run_blueconic_mcp.mjs MCP_SRC TENANT_URL CLIENT_ID CLIENT_SECRET CONNECTION_ID
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [src, tenantUrl, clientId, clientSecret, connectionId] = process.argv.slice(2);
const sdk = p => pathToFileURL(path.join(src, 'node_modules/@modelcontextprotocol/sdk/dist/esm', p)).href;
const { Client } = await import(sdk('client/index.js'));
const { StdioClientTransport } = await import(sdk('client/stdio.js'));

const transport = new StdioClientTransport({
  command: path.join(src, 'node_modules/.bin/tsx'),
  args: [path.join(src, 'src/client-side-server.ts')],
  cwd: src,
  env: {
    ...process.env,
    BLUECONIC_TENANT_URL: tenantUrl,
    OAUTH_CLIENT_ID: clientId,
    OAUTH_CLIENT_SECRET: clientSecret,
  },
  stderr: 'inherit',
});
const client = new Client({ name: 'syncrun-client-check', version: '1.0.0' });
await client.connect(transport);

let failed = 0;
async function step(name, fn) {
  try {
    const r = await fn();
    const text = r?.content?.map(c => c.text).join('\n') ?? JSON.stringify(r);
    if (r?.isError) throw new Error(text);
    console.log(`ok    ${name}: ${text.replace(/\s+/g, ' ')}`.slice(0, 500));
    return r;
  } catch (e) {
    failed++;
    console.log(`FAIL  ${name}: ${String(e?.message ?? e).replace(/\s+/g, ' ')}`.slice(0, 800));
    return undefined;
  }
}

const list = await step('tools/list (GET /rest/v2/openapi.json)', async () => {
  const r = await client.listTools();
  const names = r.tools.map(t => t.name);
  return { content: [{ text: `${names.length} tools: ${names.filter(n => /connection/i.test(n)).join(', ')}` }] };
});
const names = list ? (await client.listTools()).tools.map(t => t.name) : [];
const find = re => names.find(n => re.test(n));
const all = find(/^getAllConnections$/i), one = find(/^getOneConnection$/i), runs = find(/^getConnectionRuns$/i);
if (!all || !one || !runs) {
  failed++;
  console.log(`FAIL  connection tools missing from the tool list (have: ${names.join(', ') || 'none'})`);
}
if (all) await step(`${all} (token, GET /rest/v2/connections)`, () => client.callTool({ name: all, arguments: {} }));
if (one) await step(`${one} (GET /rest/v2/connections/{id})`, () =>
  client.callTool({ name: one, arguments: { connection: connectionId } }));
if (runs) await step(`${runs} (GET /rest/v2/connections/{id}/runs)`, () =>
  client.callTool({ name: runs, arguments: { connection: connectionId } }));
await client.close();
process.exit(failed ? 1 : 0);
