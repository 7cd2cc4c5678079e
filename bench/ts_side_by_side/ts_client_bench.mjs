#!/usr/bin/env node
// Side-by-side benchmark, TypeScript side (issue 6): the official TypeScript SDK client (Client +
// StreamableHTTPClientTransport, @modelcontextprotocol/sdk as pinned by
// tests/interop/package-lock.json) against one MCP server URL. cpp_client_bench.cpp makes the same
// measurements with mcp-recovery; run.sh runs both against tests/interop/ts_sdk_server.mjs.
//
// Usage: node ts_client_bench.mjs --url URL [--calls N] [--concurrency K] [--recoveries R]
//                                 [--warmup W] [--interop-dir DIR]
//   (a) N sequential `tools/call echo {text}` after W warm-up calls: per-call latency (median,
//       p99), throughput, client CPU per call; then the same N calls with K in flight at once
//       (K workers on one Client, Promise.all), throughput and latency.
//   (b) R recovery rounds: a normal call (timed, for the ratio), the server loses the session (a raw
//       HTTP DELETE with the client's session id, as sdk_reference_client.mjs --probe-session-loss
//       does), then the call, recovered by hand the best way an SDK user can: catch the lost-session
//       error (StreamableHTTPError 404), close the old Client, new StreamableHTTPClientTransport,
//       new Client, connect (initialize + notifications/initialized), call again. Timed from the
//       failing call's start to the successful result.
// stdout: JSON lines (schema shared with cpp_client_bench), one per measure. Logs on stderr.
// Exit 0 when every call succeeded and every round recovered; 1 otherwise.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function parseArgs(argv) {
    const o = {
        url: '',
        calls: 2000,
        concurrency: 8,
        recoveries: 100,
        warmup: 300,
        interopDir: resolve(dirname(fileURLToPath(import.meta.url)), '../../tests/interop')
    };
    for (let i = 0; i < argv.length; ++i) {
        const a = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`${a} needs a value`);
            return argv[++i];
        };
        const count = () => {
            const n = Number(value());
            if (!Number.isInteger(n) || n < 1 || n > 10_000_000) usage(`bad value for ${a}`);
            return n;
        };
        if (a === '--url') o.url = value();
        else if (a === '--calls') o.calls = count();
        else if (a === '--concurrency') o.concurrency = count();
        else if (a === '--recoveries') o.recoveries = count();
        else if (a === '--warmup') o.warmup = count();
        else if (a === '--interop-dir') o.interopDir = resolve(value());
        else if (a === '-h' || a === '--help') usage();
        else usage(`unknown argument: ${a}`);
    }
    if (!o.url) usage('--url is required');
    return o;
}

function usage(error) {
    if (error) process.stderr.write(`ts_client_bench: ${error}\n`);
    process.stderr.write(
        'usage: node ts_client_bench.mjs --url URL [--calls N] [--concurrency K] [--recoveries R] [--warmup W] [--interop-dir DIR]\n'
    );
    process.exit(error ? 2 : 0);
}

const opts = parseArgs(process.argv.slice(2));
const log = (...a) => console.error('[ts_client_bench]', ...a);

// The SDK from tests/interop/node_modules (this script lives outside that folder, and ESM imports
// ignore NODE_PATH): resolve the subpath through the package's own `exports` map, `import` branch.
const sdkDir = join(opts.interopDir, 'node_modules/@modelcontextprotocol/sdk');
const sdkPackage = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8'));
function sdkModule(subpath) {
    const exact = sdkPackage.exports?.[`./${subpath}`]?.import;
    const target = exact ?? sdkPackage.exports?.['./*']?.import?.replace('*', subpath);
    if (!target) throw new Error(`@modelcontextprotocol/sdk ${sdkPackage.version} exports no ./${subpath}`);
    return pathToFileURL(join(sdkDir, target)).href;
}
const { Client } = await import(sdkModule('client/index.js'));
const { StreamableHTTPClientTransport, StreamableHTTPError } = await import(sdkModule('client/streamableHttp.js'));

const TEXT = 'benchmark';
const CALL = { name: 'echo', arguments: { text: TEXT } };
let transportErrors = 0;

async function connect() {
    const client = new Client({ name: 'mcp-recovery-ts-side-by-side', version: '1.0.0' }, { capabilities: {} });
    const transport = new StreamableHTTPClientTransport(new URL(opts.url));
    // Errors of the background GET stream (the server ends it when the session is deleted) are
    // not failures of a call; count them only.
    transport.onerror = () => ++transportErrors;
    client.onerror = () => {};
    await client.connect(transport);
    return { client, transport };
}

function callOk(result) {
    return !result.isError && result.content?.[0]?.text === TEXT;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
function stats(latenciesMs) {
    const us = latenciesMs.map(x => x * 1000).sort((a, b) => a - b);
    const mean = us.reduce((s, x) => s + x, 0) / us.length;
    return { median_us: round(percentile(us, 0.5)), p99_us: round(percentile(us, 0.99)), mean_us: round(mean) };
}
const round = x => Math.round(x * 10) / 10;
const cpuUs = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
};
let failed = false;
const emit = record => {
    if (record.errors) failed = true;
    process.stdout.write(JSON.stringify({ client: 'ts', ...record }) + '\n');
};

let session = await connect();
log(`connected: protocolVersion=${session.transport.protocolVersion} session=${session.transport.sessionId}`);
let errors = 0;

async function timedCall() {
    const t0 = performance.now();
    let ok = false;
    try {
        ok = callOk(await session.client.callTool(CALL));
    } catch (e) {
        log('call failed:', e?.message ?? e);
    }
    const dt = performance.now() - t0;
    if (!ok) ++errors;
    return dt;
}

for (let i = 0; i < opts.warmup; ++i) await timedCall();
errors = 0;

// (a) sequential
{
    const lat = [];
    const cpu0 = cpuUs();
    const t0 = performance.now();
    for (let i = 0; i < opts.calls; ++i) lat.push(await timedCall());
    const wall = performance.now() - t0;
    const cpu = cpuUs() - cpu0;
    emit({
        measure: 'sequential',
        calls: opts.calls,
        ...stats(lat),
        calls_per_s: round((opts.calls * 1000) / wall),
        cpu_us_per_call: round(cpu / opts.calls),
        errors
    });
}

// (a') K calls in flight: K workers share the calls, each awaits its previous call.
{
    errors = 0;
    const k = Math.min(opts.concurrency, opts.calls);
    const lat = [];
    const share = w => Math.floor(opts.calls / k) + (w < opts.calls % k ? 1 : 0);
    const worker = async w => {
        for (let i = 0; i < share(w); ++i) lat.push(await timedCall());
    };
    const cpu0 = cpuUs();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: k }, (_, w) => worker(w)));
    const wall = performance.now() - t0;
    const cpu = cpuUs() - cpu0;
    emit({
        measure: 'concurrent',
        concurrency: k,
        calls: lat.length,
        ...stats(lat),
        calls_per_s: round((lat.length * 1000) / wall),
        cpu_us_per_call: round(cpu / lat.length),
        errors
    });
}

// (b) recovery after the server lost the session, by hand.
async function deleteSession() {
    const { transport } = session;
    const res = await fetch(opts.url, {
        method: 'DELETE',
        headers: { 'mcp-session-id': transport.sessionId, 'mcp-protocol-version': transport.protocolVersion }
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`DELETE of the session answered HTTP ${res.status}`);
}

{
    errors = 0;
    const normal = [];
    const recovery = [];
    let recovered = 0;
    let reconnects = 0;
    let notLost = 0;
    for (let r = 0; r < opts.recoveries; ++r) {
        normal.push(await timedCall());
        await deleteSession();
        const t0 = performance.now();
        let ok = false;
        try {
            ok = callOk(await session.client.callTool(CALL));
            ++notLost;  // the call went through on the deleted session: not a recovery
        } catch (e) {
            if (e instanceof StreamableHTTPError && e.code === 404) {
                // The best an SDK user can do: drop the client, connect a new one, call again.
                await session.client.close();
                session = await connect();
                ++reconnects;
                try {
                    ok = callOk(await session.client.callTool(CALL));
                    if (ok) ++recovered;
                } catch (e2) {
                    log('call after the manual reconnect failed:', e2?.message ?? e2);
                }
            } else {
                log('unexpected error on the lost session:', e?.message ?? e);
            }
        }
        recovery.push(performance.now() - t0);
        if (!ok) ++errors;
    }
    const n = stats(normal);
    if (recovered !== opts.recoveries) failed = true;
    emit({
        measure: 'recovery',
        rounds: opts.recoveries,
        ...stats(recovery),
        normal_median_us: n.median_us,
        recovered,
        reconnects,
        not_lost: notLost,
        errors
    });
}

emit({
    measure: 'process',
    runtime: `node ${process.version}`,
    library: `@modelcontextprotocol/sdk ${sdkPackage.version}`,
    protocol_version: session.transport.protocolVersion ?? '',
    max_rss_kb: Math.round(process.resourceUsage().maxRSS),
    background_transport_errors: transportErrors
});

// End the last session (DELETE), as a well-behaved client does; its outcome does not matter.
await session.transport.terminateSession().catch(() => {});
await session.client.close().catch(() => {});
process.exit(failed ? 1 : 0);
