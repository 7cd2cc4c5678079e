#!/usr/bin/env node
// Starts @modelcontextprotocol/server-everything (the MCP reference "everything" server, code we
// did not write) in its legacy HTTP+SSE mode (protocol 2024-11-05), bound to 127.0.0.1 only, and
// prints exactly one line `LISTENING <port>` on stdout once the socket is bound. The same wrapper
// as start_everything.mjs (read it), selecting the package's `sse` transport instead.
//
// Usage: node start_everything_sse.mjs [--port N]      (default 0 = ephemeral)
//
// What the package does by itself (dist/transports/sse.js):
//   - GET /sse opens a session (an SSEServerTransport whose `endpoint` event is
//     /message?sessionId=<id>); POST /message?sessionId=<id> carries the client's messages;
//   - for an unknown sessionId it only logs "No transport found for sessionId ..." and NEVER
//     answers the POST (no status, no body): a client waits for its own read timeout (30 s for
//     hkr04/cpp-mcp's sse_client, not settable). Tests against this server must keep the number of
//     requests that can reach a dead session low, and bound their waits accordingly;
//   - port from the PORT environment variable, express `app.listen(PORT, cb)` on every interface,
//     logs on stdout, no SIGTERM handler.
// This wrapper, as start_everything.mjs: binds 127.0.0.1 (loopback_only.mjs), sends the
// package's console output to stderr, prints the real bound port, exits 0 on SIGTERM.
// Endpoint: http://127.0.0.1:<port>/sse

import net from 'node:net';
// Bind 127.0.0.1 whatever host (none) the package passes to listen().
import './loopback_only.mjs';

let port = 0;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--port' && i + 1 < argv.length) port = Number(argv[++i]);
    else if (a.startsWith('--port=')) port = Number(a.slice(7));
    else {
        process.stderr.write(`start_everything_sse: unknown argument ${a}\nusage: node start_everything_sse.mjs [--port N]\n`);
        process.exit(2);
    }
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write('start_everything_sse: bad --port\n');
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
            process.stderr.write(`[start_everything_sse] server-everything (legacy SSE) on http://${addr.address}:${addr.port}/sse\n`);
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
await import('@modelcontextprotocol/server-everything/dist/transports/sse.js');
