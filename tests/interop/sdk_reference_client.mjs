#!/usr/bin/env node
// Reference MCP client built on the official TypeScript SDK's Client + StreamableHTTPClientTransport.
// Two uses:
//
// 1. As a conformance-suite client (what our C++ client must match):
//      run_conformance.sh <scenario> -- node sdk_reference_client.mjs
//    The suite appends the server URL as the last argument and sets MCP_CONFORMANCE_SCENARIO.
//      initialize  : connect (initialize + notifications/initialized), list tools, close
//      tools_call  : connect, list tools, call add_numbers {a:5, b:3}, close
//      sse-retry   : connect, list tools, call test_reconnection; the server ends the POST's SSE
//                    stream after a priming event (id + retry: 500); the SDK transport waits
//                    `retry` ms, resumes with GET + Last-Event-ID and gets the result there
//      other       : connect, list tools, close
//
// 2. To see what the TypeScript SDK client raises when a server loses its session:
//      node sdk_reference_client.mjs --probe-session-loss http://127.0.0.1:PORT/mcp
//    connects, then ends the session behind the client's back (a raw DELETE with the client's
//    session id), calls tools/list again and prints the error as one JSON line on stdout.
//
// Exit code 0 = the scenario ran to the end; 1 = an error (printed on stderr).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const args = process.argv.slice(2);
const probe = args.includes('--probe-session-loss');
const url = args.filter(a => !a.startsWith('--')).at(-1);
if (!url) {
    console.error('usage: sdk_reference_client.mjs [--probe-session-loss] <server-url>');
    process.exit(2);
}
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const log = (...a) => console.error('[sdk_reference_client]', ...a);

async function connect() {
    const client = new Client({ name: 'mcp-recovery-sdk-reference-client', version: '1.0.0' }, { capabilities: {} });
    const transport = new StreamableHTTPClientTransport(new URL(url));
    transport.onerror = e => log('transport error (non-fatal):', e.message);
    await client.connect(transport);
    log(`connected: protocolVersion=${transport.protocolVersion ?? '?'} session=${transport.sessionId ?? '(none)'}`);
    return { client, transport };
}

async function runScenario() {
    const { client } = await connect();
    try {
        const { tools } = await client.listTools();
        log('tools:', tools.map(t => t.name).join(', '));
        if (scenario === 'tools_call') {
            const r = await client.callTool({ name: 'add_numbers', arguments: { a: 5, b: 3 } });
            console.log(JSON.stringify(r));
        } else if (scenario === 'sse-retry') {
            const r = await client.callTool({ name: 'test_reconnection', arguments: {} });
            console.log(JSON.stringify(r));
        }
    } finally {
        await client.close();
    }
}

async function probeSessionLoss() {
    const { client, transport } = await connect();
    const sid = transport.sessionId;
    const del = await fetch(url, {
        method: 'DELETE',
        headers: { 'mcp-session-id': sid, 'mcp-protocol-version': transport.protocolVersion ?? '2025-03-26' }
    });
    log(`raw DELETE of ${sid}: HTTP ${del.status}`);
    try {
        await client.listTools();
        console.log(JSON.stringify({ error: null, note: 'tools/list succeeded after the session was deleted' }));
    } catch (e) {
        console.log(
            JSON.stringify({
                name: e.constructor?.name,
                code: e.code,
                message: e.message,
                sessionIdKeptByTransport: transport.sessionId
            })
        );
    } finally {
        await client.close().catch(() => {});
    }
}

try {
    await (probe ? probeSessionLoss() : runScenario());
    process.exit(0);
} catch (e) {
    log('failed:', e?.stack ?? e);
    process.exit(1);
}
