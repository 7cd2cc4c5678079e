// Preload module: makes every TCP server of this Node process bind 127.0.0.1.
//
//   node --import ./loopback_only.mjs some-program.js
//
// Servers that we did not write (server-everything, the conformance suite's scenario servers) call
// `listen(port)` / `app.listen(0)` without a host, which binds every interface (:: / 0.0.0.0).
// This patch supplies host 127.0.0.1 whenever the caller gave no host or a wildcard host
// ('', '0.0.0.0', '::'). Listening on a Unix socket path, an fd or a handle is left alone.
//
// Binding stays synchronous, as it is without a host: Node resolves a listen host with
// dns.lookup (asynchronous even for an IP literal), and some callers (the conformance suite's
// tools_call scenario) read server.address().port right after listen() returns. So during our
// listen() call only, dns.lookup answers the literal 127.0.0.1 synchronously.
// Fail-closed: a server that still ends up listening on a non-loopback address exits the process.
import net from 'node:net';
import dns from 'node:dns';

export const LOOPBACK_HOST = '127.0.0.1';
const WILDCARDS = new Set([undefined, null, '', '0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0']);

if (!net.Server.prototype.listen.__loopbackOnly) {
    const originalListen = net.Server.prototype.listen;
    const patched = function listen(...args) {
        const first = args[0];
        if (args.length === 0 || typeof first === 'function') {
            // listen([cb]): random port
            args.unshift(0, LOOPBACK_HOST);
        } else if (typeof first === 'object' && first !== null && !Array.isArray(first)) {
            const isTcp = first.path === undefined && first.fd === undefined && first.handle === undefined && first._handle === undefined;
            if (isTcp && WILDCARDS.has(first.host)) args[0] = { ...first, host: LOOPBACK_HOST };
        } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
            // listen(port[, host][, backlog][, cb])
            if (typeof args[1] === 'string') {
                if (WILDCARDS.has(args[1])) args[1] = LOOPBACK_HOST;
            } else {
                args.splice(1, 0, LOOPBACK_HOST);
            }
        }
        const originalLookup = dns.lookup;
        dns.lookup = function lookup(hostname, options, callback) {
            if (typeof options === 'function') {
                callback = options;
                options = {};
            }
            if (hostname !== LOOPBACK_HOST) return originalLookup.call(this, hostname, options, callback);
            // Node 20 asks for one address (ip, family), Node 22 for all of them ({all: true}).
            if (options && typeof options === 'object' && options.all) return callback(null, [{ address: LOOPBACK_HOST, family: 4 }]);
            return callback(null, LOOPBACK_HOST, 4);
        };
        this.once('listening', () => {
            const addr = this.address();
            if (addr && typeof addr === 'object' && !/^(127\.|::1$|::ffff:127\.)/.test(addr.address)) {
                process.stderr.write(`loopback_only: a server is listening on ${addr.address}:${addr.port}, not loopback; exiting\n`);
                process.exit(70);
            }
        });
        try {
            return originalListen.apply(this, args);
        } finally {
            dns.lookup = originalLookup;
        }
    };
    patched.__loopbackOnly = true;
    net.Server.prototype.listen = patched;
}
