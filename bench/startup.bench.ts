/**
 * Start-up time of the station in browser mode: from spawning `node bin/flashline.mjs serve
 * --boards 0` to the "Open: http://…" line on stdout (station, in-process cloud, first batch pull,
 * API server and built renderer all up). Cold (a fresh data dir: database created, first batch
 * pulled) and warm (the same data dir again), 5 runs each, median and range.
 *
 *   npx tsx bench/startup.bench.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUNS = Number(process.env.STARTUP_RUNS ?? 5);
/** A start that takes longer than this is reported as a failure, not waited for. */
const START_DEADLINE_MS = 60_000;
const BIN = join(import.meta.dirname, '..', 'bin', 'flashline.mjs');

function startOnce(dataDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, 'serve', '--boards', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no URL line within ${START_DEADLINE_MS} ms:\n${out}\n${err}`));
    }, START_DEADLINE_MS);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/Open: http:\/\/\S+/.test(out)) {
        const ms = performance.now() - started;
        clearTimeout(timer);
        child.once('exit', () => resolve(ms));
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      if (!/Open: http/.test(out)) {
        clearTimeout(timer);
        reject(new Error(`serve exited with ${code} before its URL line:\n${out}\n${err}`));
      }
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;

const cold: number[] = [];
const warm: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'flashline-startup-'));
  try {
    cold.push(await startOnce(dir));
    warm.push(await startOnce(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`Start-up to the URL line, browser mode, --boards 0, ${RUNS} runs each (node ${process.version})`);
console.log(`  cold (new data dir)   ${fmt(cold)}`);
console.log(`  warm (same data dir)  ${fmt(warm)}`);
