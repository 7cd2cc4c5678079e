#!/usr/bin/env node
// Reads the JSON lines of cpp_client_bench and ts_client_bench (several interleaved rounds, one
// server mode) and prints a markdown table: for each figure, the median over the rounds of each
// client's per-round value, and the ratio. Used by run.sh.
//
// Usage: node summarize.mjs FILE.jsonl TITLE
// Exit 0 when both clients completed every round without a failed call and recovered every lost
// session (ours with exactly one reconnect each); 1 otherwise (reasons on stderr).
import { readFileSync } from 'node:fs';

const [file, title = ''] = process.argv.slice(2);
if (!file) {
    console.error('usage: node summarize.mjs FILE.jsonl [TITLE]');
    process.exit(2);
}
const records = readFileSync(file, 'utf8')
    .split('\n')
    .filter(l => l.startsWith('{'))
    .map(l => JSON.parse(l));

const of = (client, measure) => records.filter(r => r.client === client && r.measure === measure);
const median = xs => {
    if (xs.length === 0) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const med = (client, measure, field) => median(of(client, measure).map(r => r[field]));
const sum = (client, measure, field) => of(client, measure).reduce((s, r) => s + (r[field] ?? 0), 0);

const problems = [];
const rounds = { cpp: of('cpp', 'process').length, ts: of('ts', 'process').length };
for (const c of ['cpp', 'ts']) {
    if (rounds[c] === 0) problems.push(`${c}: no completed run`);
    for (const m of ['sequential', 'concurrent', 'recovery'])
        if (of(c, m).length !== rounds[c]) problems.push(`${c}: ${m} missing in some rounds`);
    const errors = ['sequential', 'concurrent', 'recovery'].reduce((s, m) => s + sum(c, m, 'errors'), 0);
    if (errors) problems.push(`${c}: ${errors} failed calls`);
    const want = sum(c, 'recovery', 'rounds');
    const got = sum(c, 'recovery', 'recovered');
    if (got !== want) problems.push(`${c}: recovered ${got} of ${want} lost sessions`);
}
if (sum('cpp', 'recovery', 'reconnects') !== sum('cpp', 'recovery', 'rounds'))
    problems.push('cpp: not exactly one reconnect per lost session');

const fmt = x => {
    if (!Number.isFinite(x)) return 'n/a';
    if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
    if (Math.abs(x) >= 100) return x.toFixed(0);
    return x.toFixed(1);
};
const ratio = x => (Number.isFinite(x) ? `**${x.toFixed(2)}**` : 'n/a');
const proc = c => of(c, 'process')[0] ?? {};
const k = of('cpp', 'concurrent')[0]?.concurrency ?? of('ts', 'concurrent')[0]?.concurrency ?? '?';
const seqCalls = of('cpp', 'sequential')[0]?.calls ?? '?';
const recRounds = of('cpp', 'recovery')[0]?.rounds ?? '?';

const rows = [];
// lower is better: ratio theirs/ours; higher is better: ours/theirs. Either way > 1 = ours better.
// Round i of ours is paired with round i of theirs (run one after the other): the spread of the
// per-round ratios shows how much the machine's noise moved them.
const spread = (measure, field, f) => {
    const o = of('cpp', measure).map(r => r[field]);
    const t = of('ts', measure).map(r => r[field]);
    const xs = o.slice(0, Math.min(o.length, t.length)).map((x, i) => f(x, t[i])).filter(Number.isFinite);
    return xs.length > 1 ? `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}` : '';
};
const lower = (label, measure, field, unit) => {
    const o = med('cpp', measure, field);
    const t = med('ts', measure, field);
    const f = (a, b) => b / a;
    rows.push([label, `${fmt(o)} ${unit}`, `${fmt(t)} ${unit}`, ratio(f(o, t)), spread(measure, field, f), 'theirs / ours']);
};
const higher = (label, measure, field, unit) => {
    const o = med('cpp', measure, field);
    const t = med('ts', measure, field);
    const f = (a, b) => a / b;
    rows.push([label, `${fmt(o)} ${unit}`, `${fmt(t)} ${unit}`, ratio(f(o, t)), spread(measure, field, f), 'ours / theirs']);
};
lower(`call latency, median (${seqCalls} sequential calls)`, 'sequential', 'median_us', 'µs');
lower('call latency, p99 (sequential)', 'sequential', 'p99_us', 'µs');
higher('throughput, sequential', 'sequential', 'calls_per_s', 'calls/s');
higher(`throughput, ${k} calls in flight`, 'concurrent', 'calls_per_s', 'calls/s');
lower(`call latency, median, ${k} in flight`, 'concurrent', 'median_us', 'µs');
lower('client CPU per call (sequential)', 'sequential', 'cpu_us_per_call', 'µs');
lower('client CPU per call (in flight)', 'concurrent', 'cpu_us_per_call', 'µs');
lower(
    `**recovery**: lost session → result, median (${recRounds} per round; ours automatic, theirs by hand)`,
    'recovery',
    'median_us',
    'µs'
);
lower('recovery, p99', 'recovery', 'p99_us', 'µs');
{
    const perClient = c => median(of(c, 'recovery').map(r => r.median_us / r.normal_median_us));
    rows.push([
        'recovery / a normal call of the same client (median of rounds)',
        fmt(perClient('cpp')),
        fmt(perClient('ts')),
        '',
        '',
        ''
    ]);
}
rows.push([
    'lost sessions recovered',
    `${sum('cpp', 'recovery', 'recovered')} / ${sum('cpp', 'recovery', 'rounds')} (${sum('cpp', 'recovery', 'reconnects')} reconnects)`,
    `${sum('ts', 'recovery', 'recovered')} / ${sum('ts', 'recovery', 'rounds')} (${sum('ts', 'recovery', 'reconnects')} by hand)`,
    '',
    '',
    ''
]);
lower('peak RSS of the client process', 'process', 'max_rss_kb', 'KiB');
rows.push([
    'failed calls',
    String(['sequential', 'concurrent', 'recovery'].reduce((s, m) => s + sum('cpp', m, 'errors'), 0)),
    String(['sequential', 'concurrent', 'recovery'].reduce((s, m) => s + sum('ts', m, 'errors'), 0)),
    '',
    '',
    ''
]);

const out = [];
if (title) out.push(`### ${title}`, '');
out.push(
    `Median over ${rounds.cpp} (ours) / ${rounds.ts} (theirs) interleaved rounds of each round's figure. ` +
        `Ours: ${proc('cpp').library ?? '?'} (${proc('cpp').runtime ?? '?'}); ` +
        `theirs: ${proc('ts').library ?? '?'} Client + StreamableHTTPClientTransport (${proc('ts').runtime ?? '?'}); ` +
        `protocol ${proc('cpp').protocol_version ?? '?'} / ${proc('ts').protocol_version ?? '?'}. ` +
        'Ratio > 1 = ours better.',
    '',
    '| measure | ours (C++) | theirs (TS SDK) | ratio | per-round ratios | ratio is |',
    '|---|---|---|---|---|---|',
    ...rows.map(r => `| ${r.join(' | ')} |`)
);
if (of('cpp', 'process')[0]?.connections_opened !== undefined)
    out.push('', `Connections opened by ours, per run (median): ${fmt(med('cpp', 'process', 'connections_opened'))}.`);
console.log(out.join('\n'));

if (problems.length) {
    for (const p of problems) console.error(`summarize: FAIL: ${p}`);
    process.exit(1);
}
console.error('summarize: OK: both clients completed every round; every lost session was recovered');
