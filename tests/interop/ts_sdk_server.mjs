#!/usr/bin/env node
// A small stateful Streamable-HTTP MCP server built on the official TypeScript SDK
// (@modelcontextprotocol/sdk: McpServer + StreamableHTTPServerTransport; with --sse the deprecated
// HTTP+SSE transport, SSEServerTransport, instead), for the interop tests
// of mcp-recovery. One SDK transport + one McpServer per session, kept in a map
// session id -> transport, the way the SDK's own stateful examples route requests.
//
// Usage: node ts_sdk_server.mjs [--port N] [--json] [--resumable] [--retry-ms N]
//                                [--executions-file PATH] [--sse]
//   --port N       TCP port on 127.0.0.1 (default 0 = ephemeral)
//   --json         enableJsonResponse: answer POSTed requests with one application/json body
//                  instead of the default text/event-stream (SSE) response stream
//   --resumable    give each session the SDK's in-memory event store: SSE events carry `id:`,
//                  GET with Last-Event-ID replays them; clients that negotiated 2025-11-25 get a
//                  priming event (empty data) first
//   --retry-ms N   with --resumable: the `retry:` value of the priming event (SDK retryInterval)
//   --executions-file PATH
//                  append to PATH (created if missing, never truncated) one line per execution
//                  of `count`: its key (line breaks in it replaced by spaces); and one line
//                  `SESSION <id>` per session opened by initialize. Each line is written with a
//                  synchronous write(2) before the answer is sent, so it survives a SIGKILL of
//                  the process: a test can kill and restart the server (same file) and then
//                  count what really ran, and how many sessions were opened.
//   --require-initialized
//                  enforce the lifecycle order at the SDK's message entry, as the Python SDK's
//                  server does: a request other than initialize and ping that reaches a session
//                  before its notifications/initialized is not run and is answered with the
//                  JSON-RPC error -32602 "Invalid request parameters"; with --executions-file, a
//                  line `EARLY <method>` records it (a test checks there is none).
//   --sse          serve the deprecated HTTP+SSE transport (protocol 2024-11-05, the SDK's
//                  SSEServerTransport) instead of Streamable HTTP; see "Legacy SSE mode" below.
//
// stdout: exactly one line, `LISTENING <port>`, once the socket is bound. Everything else
// (logs) goes to stderr. SIGTERM / SIGINT: close every session and the listener, exit 0.
//
// Endpoint: /mcp (POST, GET for the standalone SSE stream, DELETE to end a session).
// Tools:
//   echo {text}        -> text content = text
//   count {key}        -> increments the execution counter of `key`, returns the new value
//                         (annotations: idempotentHint false, readOnlyHint false)
//   executions {key}   -> the counter of `key`, without incrementing (readOnlyHint true)
// Counters are process-wide (shared by all sessions), so that a test can ask after a
// re-initialize how many times a non-idempotent call really ran.
//
// Lost sessions: a request whose Mcp-Session-Id is unknown (never issued, DELETEd, or closed)
// gets HTTP 404 with exactly the body the SDK transport itself produces when the id does not
// match: {"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}.
// A non-initialize request without a session id gets the SDK transport's 400
// "Bad Request: Mcp-Session-Id header is required".
//
// Legacy SSE mode (--sse), for clients that only speak HTTP+SSE (hkr04/cpp-mcp's sse_client):
//   GET /sse                      opens a session: one SSEServerTransport + one McpServer; the
//                                 stream's first event is `endpoint` = /messages?sessionId=<id>;
//                                 `SESSION <id>` is recorded when the stream opens (in this
//                                 transport the session exists before initialize). The session
//                                 ends when the stream closes.
//   POST /messages?sessionId=ID   a client message; the answer is 202 "Accepted" and the JSON-RPC
//                                 response travels on the session's stream.
// Unknown or missing session id: the SDK's own SSE example (examples/server/simpleSseServer.js)
// is copied exactly: no sessionId -> 400 text/plain "Missing sessionId parameter"; an unknown
// one -> 404 text/plain "Session not found" (not JSON: a client that parses error bodies as
// JSON-RPC sees a parse error). Same tools, counters and --executions-file as above.

import fs from 'node:fs';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod/v4';

function parseArgs(argv) {
    const opts = { port: 0, json: false, resumable: false, retryMs: undefined, executionsFile: undefined, sse: false,
                   requireInitialized: false };
    for (let i = 0; i < argv.length; ++i) {
        const a = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`${a} needs a value`);
            return argv[++i];
        };
        if (a === '--port') opts.port = Number(value());
        else if (a.startsWith('--port=')) opts.port = Number(a.slice(7));
        else if (a === '--json') opts.json = true;
        else if (a === '--resumable') opts.resumable = true;
        else if (a === '--sse') opts.sse = true;
        else if (a === '--require-initialized') opts.requireInitialized = true;
        else if (a === '--retry-ms') opts.retryMs = Number(value());
        else if (a === '--executions-file') opts.executionsFile = value();
        else if (a.startsWith('--executions-file=')) opts.executionsFile = a.slice(18);
        else if (a === '-h' || a === '--help') usage();
        else usage(`unknown argument: ${a}`);
    }
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
    if (opts.retryMs !== undefined && !(Number.isInteger(opts.retryMs) && opts.retryMs >= 0)) usage('bad --retry-ms');
    if (opts.executionsFile === '') usage('bad --executions-file');
    return opts;
}

function usage(error) {
    if (error) process.stderr.write(`ts_sdk_server: ${error}\n`);
    process.stderr.write('usage: node ts_sdk_server.mjs [--port N] [--json] [--resumable] [--retry-ms N] [--executions-file PATH] [--require-initialized] [--sse]\n');
    process.exit(error ? 2 : 0);
}

const opts = parseArgs(process.argv.slice(2));
const log = (...args) => console.error('[ts_sdk_server]', ...args);

// Process-wide execution counters: key -> number of executions of `count`.
const counters = new Map();

// --executions-file: an append-only record that outlives the process (see the header comment).
// writeSync on a file descriptor opened with O_APPEND: the line is in the kernel when it returns.
const executionsFd = opts.executionsFile === undefined ? undefined : fs.openSync(opts.executionsFile, 'a');
function record(line) {
    if (executionsFd !== undefined) fs.writeSync(executionsFd, `${line.replace(/[\r\n]/g, ' ')}\n`);
}

function createMcpServer() {
    const server = new McpServer({ name: 'mcp-recovery-interop-ts-sdk', version: '1.0.0' }, { capabilities: { logging: {} } });
    server.registerTool(
        'echo',
        {
            description: 'Returns its text argument.',
            inputSchema: { text: z.string() },
            annotations: { readOnlyHint: true, idempotentHint: true }
        },
        async ({ text }) => ({ content: [{ type: 'text', text }] })
    );
    server.registerTool(
        'count',
        {
            description: 'Increments the execution counter of `key` and returns the new value. Not idempotent.',
            inputSchema: { key: z.string() },
            annotations: { readOnlyHint: false, idempotentHint: false, destructiveHint: false }
        },
        async ({ key }) => {
            const n = (counters.get(key) ?? 0) + 1;
            counters.set(key, n);
            record(key);
            return { content: [{ type: 'text', text: String(n) }], structuredContent: { key, count: n } };
        }
    );
    server.registerTool(
        'executions',
        {
            description: 'Returns how many times `count` ran for `key`, without incrementing.',
            inputSchema: { key: z.string() },
            annotations: { readOnlyHint: true, idempotentHint: true }
        },
        async ({ key }) => {
            const n = counters.get(key) ?? 0;
            return { content: [{ type: 'text', text: String(n) }], structuredContent: { key, count: n } };
        }
    );
    return server;
}

// session id -> { transport, server }
const sessions = new Map();

function sendJsonError(res, status, code, message, headers = {}) {
    // Same serialisation as the SDK transport's createJsonErrorResponse.
    const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
}
const sessionNotFound = res => sendJsonError(res, 404, -32001, 'Session not found');
const sessionRequired = res => sendJsonError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');

const MAX_BODY = 4 * 1024 * 1024;
function readBody(req) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        let size = 0;
        req.on('data', c => {
            size += c.length;
            if (size > MAX_BODY) {
                reject(Object.assign(new Error('body too large'), { status: 413 }));
                req.destroy();
                return;
            }
            chunks.push(c);
        });
        req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        req.on('error', reject);
    });
}

async function newSession(req, res, body) {
    const server = createMcpServer();
    const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: opts.json,
        eventStore: opts.resumable ? new InMemoryEventStore() : undefined,
        retryInterval: opts.resumable ? opts.retryMs : undefined,
        onsessioninitialized: sid => {
            sessions.set(sid, { transport, server });
            record(`SESSION ${sid}`);
            log(`session initialized ${sid}`);
        }
    });
    transport.onclose = () => {
        const sid = transport.sessionId;
        if (sid && sessions.get(sid)?.transport === transport) {
            sessions.delete(sid);
            log(`session closed ${sid}`);
        }
    };
    await server.connect(transport);
    if (opts.requireInitialized) requireInitialized(transport);
    await transport.handleRequest(req, res, body);
}

// --require-initialized: between the transport and the SDK's Protocol (which set onmessage in
// connect()), in the order the SDK receives the session's messages.
let earlyRequests = 0;
function requireInitialized(transport) {
    const deliver = transport.onmessage;
    let initialized = false;
    transport.onmessage = (message, extra) => {
        if (message.method === 'notifications/initialized') initialized = true;
        const isRequest = message.id !== undefined && typeof message.method === 'string';
        if (isRequest && !initialized && message.method !== 'initialize' && message.method !== 'ping') {
            ++earlyRequests;
            record(`EARLY ${message.method}`);
            log(`request before initialization was complete: ${message.method}`);
            transport.send({ jsonrpc: '2.0', id: message.id, error: { code: -32602, message: 'Invalid request parameters' } })
                .catch(err => log('cannot answer an early request:', err));
            return;
        }
        deliver(message, extra);
    };
}

async function handleMcp(req, res) {
    const sid = req.headers['mcp-session-id'];
    const session = typeof sid === 'string' ? sessions.get(sid) : undefined;

    if (req.method === 'POST') {
        let body;
        try {
            const text = await readBody(req);
            body = JSON.parse(text);
        } catch (e) {
            if (e.status === 413) return sendJsonError(res, 413, -32000, 'Payload Too Large');
            return sendJsonError(res, 400, -32700, 'Parse error: Invalid JSON');
        }
        if (session) return session.transport.handleRequest(req, res, body);
        if (sid !== undefined) return sessionNotFound(res);
        const isInit = Array.isArray(body) ? body.some(m => isInitializeRequest(m)) : isInitializeRequest(body);
        if (isInit) return newSession(req, res, body);
        return sessionRequired(res);
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
        if (session) return session.transport.handleRequest(req, res);
        if (sid !== undefined) return sessionNotFound(res);
        return sessionRequired(res);
    }
    return sendJsonError(res, 405, -32000, 'Method not allowed.', { Allow: 'GET, POST, DELETE' });
}

// --sse: session id -> { transport, server } of the legacy HTTP+SSE transport.
const sseSessions = new Map();

async function openSseSession(res) {
    const transport = new SSEServerTransport('/messages', res);
    const sid = transport.sessionId;
    const server = createMcpServer();
    sseSessions.set(sid, { transport, server });
    transport.onclose = () => {
        if (sseSessions.get(sid)?.transport === transport) {
            sseSessions.delete(sid);
            log(`SSE session closed ${sid}`);
        }
    };
    record(`SESSION ${sid}`);
    log(`SSE session opened ${sid}`);
    await server.connect(transport);  // starts the stream: sends the `endpoint` event
}

// As the SDK's simpleSseServer.js example: 400 / 404 with a plain-text body.
async function handleSse(req, res, path) {
    if (req.method === 'GET' && path === '/sse') return openSseSession(res);
    if (req.method === 'POST' && path === '/messages') {
        const sid = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('sessionId');
        if (!sid) {
            res.writeHead(400, { 'content-type': 'text/plain' });
            res.end('Missing sessionId parameter');
            return;
        }
        const session = sseSessions.get(sid);
        if (!session) {
            res.writeHead(404, { 'content-type': 'text/plain' });
            res.end('Session not found');
            return;
        }
        return session.transport.handlePostMessage(req, res);
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('Not Found\n');
}

const httpServer = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    log(`${req.method} ${req.url} session=${req.headers['mcp-session-id'] ?? '-'}`);
    if (opts.sse) {
        handleSse(req, res, path).catch(err => {
            log('error handling request:', err);
            if (!res.headersSent) {
                res.writeHead(500, { 'content-type': 'text/plain' });
                res.end('Internal server error');
            } else res.end();
        });
        return;
    }
    if (path !== '/mcp') {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Not Found\n');
        return;
    }
    handleMcp(req, res).catch(err => {
        log('error handling request:', err);
        if (!res.headersSent) sendJsonError(res, 500, -32603, 'Internal server error');
        else res.end();
    });
});

httpServer.on('error', err => {
    log('listen error:', err.message);
    process.exit(1);
});

httpServer.listen(opts.port, '127.0.0.1', () => {
    const { port } = httpServer.address();
    process.stdout.write(`LISTENING ${port}\n`);
    if (opts.sse) log(`listening on http://127.0.0.1:${port}/sse (legacy HTTP+SSE, POST /messages?sessionId=...)`);
    else log(`listening on http://127.0.0.1:${port}/mcp (${opts.json ? 'JSON' : 'SSE'} responses${opts.resumable ? ', resumable' : ''})`);
});

let stopping = false;
async function shutdown(signal) {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    const all = [...sessions.values(), ...sseSessions.values()];
    sessions.clear();
    sseSessions.clear();
    await Promise.allSettled(all.map(s => s.transport.close()));
    httpServer.close(() => process.exit(0));
    httpServer.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
