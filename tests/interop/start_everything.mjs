#!/usr/bin/env node
// Starts @modelcontextprotocol/server-everything (the MCP reference "everything" server, code we
// did not write) in Streamable-HTTP mode (or, with --sse, its legacy HTTP+SSE mode, protocol
// 2024-11-05), bound to 127.0.0.1 only, and prints exactly one line `LISTENING <port>` on stdout
// once the socket is bound.
//
// Usage: node start_everything.mjs [--port N] [--sse]     (port 0, the default: ephemeral)
//
// What the package does by itself (dist/index.js, dist/transports/streamableHttp.js):
//   - `mcp-server-everything streamableHttp` selects Streamable HTTP (argv[2]; default is stdio);
//   - the port comes from the PORT environment variable (default 3001); there is no host option:
//     it calls express `app.listen(PORT, cb)`, which binds every interface (:: / 0.0.0.0);
//   - it logs to stdout (console.log) on every request, and its "listening" line prints the
//     PORT it was given, not the bound port (useless with PORT=0);
//   - it handles SIGINT (exit 0) but not SIGTERM.
// So this wrapper runs the package's own module unchanged, after:
//   - making net.Server#listen bind 127.0.0.1 when the caller gave no host,
//   - sending the package's console.log output to stderr (stdout carries only LISTENING),
//   - printing the real bound port, and exiting 0 on SIGTERM.
// Endpoint: http://127.0.0.1:<port>/mcp
//
// --sse: the package's legacy `sse` transport (dist/transports/sse.js), for hkr04/cpp-mcp's
// SSE-only client (tests/sdk/):
//   - GET /sse opens a session (an SSEServerTransport whose `endpoint` event is
//     /message?sessionId=<id>); POST /message?sessionId=<id> carries the client's messages;
//   - for an unknown sessionId it only logs "No transport found for sessionId ..." and NEVER
//     answers the POST (no status, no body): a client waits for its own read timeout (30 s for
//     hkr04/cpp-mcp's sse_client, not settable). Tests against this server must keep the number of
//     requests that can reach a dead session low, and bound their waits accordingly.
// Endpoint then: http://127.0.0.1:<port>/sse

import net from 'node:net';
// Bind 127.0.0.1 whatever host (none) the package passes to listen().
import './loopback_only.mjs';

let port = 0;
let sse = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--port' && i + 1 < argv.length) port = Number(argv[++i]);
    else if (a.startsWith('--port=')) port = Number(a.slice(7));
    else if (a === '--sse') sse = true;
    else {
        process.stderr.write(`start_everything: unknown argument ${a}\nusage: node start_everything.mjs [--port N] [--sse]\n`);
        process.exit(2);
    }
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write('start_everything: bad --port\n');
    process.exit(2);
}

// Report the first server's real port once it is bound.
let listeningServer = null;
const loopbackListen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
    if (listeningServer === null) {
        listeningServer = this;
        this.once('listening', () => {
            const addr = this.address();
            process.stdout.write(`LISTENING ${addr.port}\n`);
            const where = sse ? '(legacy SSE) on http://' + addr.address + ':' + addr.port + '/sse'
                              : 'on http://' + addr.address + ':' + addr.port + '/mcp';
            process.stderr.write(`[start_everything] server-everything ${where}\n`);
        });
    }
    return loopbackListen.apply(this, args);
};

// The package logs with console.log; keep stdout for the LISTENING line only.
console.log = (...a) => console.error(...a);
console.info = (...a) => console.error(...a);

process.on('SIGTERM', () => {
    if (listeningServer) {
        listeningServer.close(() => process.exit(0));
        listeningServer.closeAllConnections?.();
    }
    setTimeout(() => process.exit(0), 2000).unref();
});

process.env.PORT = String(port);
if (sse) await import('@modelcontextprotocol/server-everything/dist/transports/sse.js');
else await import('@modelcontextprotocol/server-everything/dist/transports/streamableHttp.js');
