'use strict';
// OT benchmark driver (`make bench-ot`): the C json0 engine against ot-json0@1.1.0 on the
// same case-sheet workload.
//
//   node bench/ot-bench.js --c build/bench/ot_bench [--seed S] [--ops N] [--pairs N]
//                          [--seconds S] [--repeat R]
//
// Generates a case sheet and an op mix (tests/ot/gen.js caseSheetWorkload: text edits at
// depth 3, task inserts, field sets), writes it as JSON lines to a temporary file, runs the
// C program (bench/ot_bench.c) on it, measures ot-json0 in this process on the same ops,
// and prints ops/s of apply (all ops in sequence) and transform (concurrent pairs, left)
// for both, with the ratio C/JS. Each figure is measured after a warm-up for at least
// --seconds; C and JS take turns --repeat times and the best figure of each counts, so
// that a busy machine disturbs the comparison less.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const json0 = require('ot-json0').type;
const gen = require('../tests/ot/gen');

const TARGET_RATIO = 5;

function parseArgs(argv) {
  const opts = { c: 'build/bench/ot_bench', seed: 1, ops: 1000, pairs: 1000, seconds: 1.5, repeat: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in opts) || i + 1 >= argv.length) {
      console.error('usage: node bench/ot-bench.js --c PATH [--seed S] [--ops N] [--pairs N] [--seconds S] [--repeat R]');
      process.exit(2);
    }
    opts[name] = name === 'c' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return opts;
}

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;

// Repeats round() (which returns the seconds it measured) after one warm-up period,
// until at least minSeconds are measured.
function measure(round, opsPerRound, minSeconds) {
  const warmUpStart = process.hrtime.bigint();
  while (seconds(warmUpStart) < Math.min(1, minSeconds)) round();
  let ops = 0;
  let total = 0;
  while (total < minSeconds) {
    total += round();
    ops += opsPerRound;
  }
  return { ops, seconds: total, ops_per_s: ops / total };
}

function measureJs(workload, minSeconds) {
  // ot-json0's apply works in place, so each round starts from a fresh copy (not timed).
  const apply = measure(() => {
    let doc = gen.clone(workload.doc);
    const start = process.hrtime.bigint();
    for (const op of workload.ops) doc = json0.apply(doc, op);
    return seconds(start);
  }, workload.ops.length, minSeconds);
  const transform = measure(() => {
    const start = process.hrtime.bigint();
    for (const [op, other] of workload.pairs) json0.transform(op, other, 'left');
    return seconds(start);
  }, workload.pairs.length, minSeconds);
  return { apply, transform };
}

function measureC(program, workload, minSeconds) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'konsil-ot-bench-'));
  const file = path.join(dir, 'workload.jsonl');
  try {
    const lines = [JSON.stringify({ doc: workload.doc })];
    for (const op of workload.ops) lines.push(JSON.stringify({ apply: op }));
    for (const pair of workload.pairs) lines.push(JSON.stringify({ transform: pair }));
    fs.writeFileSync(file, lines.join('\n') + '\n');
    return JSON.parse(execFileSync(program, [file, String(minSeconds)], { encoding: 'utf8' }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const workload = gen.caseSheetWorkload(opts.seed, opts.ops, opts.pairs);
  let finalDoc = gen.clone(workload.doc);
  for (const op of workload.ops) finalDoc = json0.apply(finalDoc, op);
  const kb = (v) => (Buffer.byteLength(JSON.stringify(v)) / 1024).toFixed(1);

  console.log(`OT benchmark (seed ${opts.seed}): case sheet ${kb(workload.doc)} KB growing to ${kb(finalDoc)} KB; ` +
    `${workload.ops.length} ops applied in sequence, ${workload.pairs.length} concurrent pairs transformed (left)`);
  console.log('op mix: 60% text edits at depth 3 (sections.<name>.notes), 20% task inserts (helpPlan.tasks), 20% field sets (oi+od)');
  const turns = [];
  for (let i = 0; i < opts.repeat; i++) {
    turns.push({ c: measureC(opts.c, workload, opts.seconds), js: measureJs(workload, opts.seconds) });
  }
  const best = (side, figure) => Math.max(...turns.map((t) => t[side][figure].ops_per_s));

  const fmt = (n) => Math.round(n).toLocaleString('en-US').padStart(12);
  console.log(`\n${'figure'.padEnd(11)}${'C ops/s'.padStart(12)}${'ot-json0 ops/s'.padStart(17)}${'C/JS'.padStart(8)}` +
    `   C/JS of each turn`);
  let allMet = true;
  for (const figure of ['apply', 'transform']) {
    const ratio = best('c', figure) / best('js', figure);
    if (ratio < TARGET_RATIO) allMet = false;
    const each = turns.map((t) => (t.c[figure].ops_per_s / t.js[figure].ops_per_s).toFixed(1)).join(', ');
    console.log(`${figure.padEnd(11)}${fmt(best('c', figure))}${fmt(best('js', figure)).padStart(17)}` +
      `${(ratio.toFixed(1) + '×').padStart(8)}   ${each}`);
  }
  console.log(`(best of ${opts.repeat} turns each; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  console.log(`\ntarget C/JS ≥ ${TARGET_RATIO}× on every figure: ${allMet ? 'met' : 'NOT met'}`);
  console.log(`node ${process.version}, ot-json0 ${require('ot-json0/package.json').version}, ${os.cpus().length} CPUs (${os.cpus()[0].model})`);
}

main();
