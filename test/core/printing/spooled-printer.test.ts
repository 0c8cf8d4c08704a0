import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CupsPrinter } from '../../../core/printing/cups-printer.js';
import { FolderPrinter } from '../../../core/printing/folder-printer.js';
import type { PrintJob, Printer } from '../../../core/printing/printer.js';
import { SpooledPrinter } from '../../../core/printing/spooled-printer.js';
import { FakeCups } from './fake-cups.js';

const PDF = Buffer.from('%PDF-1.3\nsheet ST1-S0001 with 24 labels\n%%EOF\n');
const job: PrintJob = { document: { kind: 'pdf', data: PDF }, copies: 1, title: 'ST1-S0001' };

describe('SpooledPrinter', () => {
  let cups: FakeCups;
  let dir: string;

  beforeEach(() => {
    cups = new FakeCups();
    dir = mkdtempSync(join(tmpdir(), 'spool-'));
  });
  afterEach(() => {
    cups.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves nothing in the spool once the printer accepted the job', async () => {
    cups.lpstat({ Office: 'idle' });
    cups.lpAccepts();
    const printer = new SpooledPrinter(new CupsPrinter('Office', { env: cups.env() }), join(dir, 'spool'));
    expect(await printer.print(job)).toMatchObject({ ok: true, jobId: 'Office-41' });
    expect(readdirSync(join(dir, 'spool'))).toEqual([]);
    expect(printer.pending()).toEqual([]);
  });

  it('keeps the document byte for byte when the printer is stopped, and prints it on retry after a restart', async () => {
    cups.lpstat({ Office: 'disabled' });
    cups.lpAccepts();
    const spool = join(dir, 'spool');
    const first = new SpooledPrinter(new CupsPrinter('Office', { env: cups.env() }), spool, () => new Date('2026-11-22T08:00:00Z'));
    const result = await first.print(job);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toBe('printer-stopped');
    expect(result.keptPath).not.toBeNull();
    expect(readFileSync(result.keptPath!).equals(PDF)).toBe(true);
    expect(cups.receivedJobs()).toHaveLength(0);

    // A second failure counts attempts; the station restarts; the operator resumes the printer.
    const again = await first.retry(first.pending()[0]!.id);
    expect(again.ok).toBe(false);
    const restarted = new SpooledPrinter(new CupsPrinter('Office', { env: cups.env() }), spool);
    const [kept, ...more] = restarted.pending();
    expect(more).toHaveLength(0);
    expect(kept).toMatchObject({ title: 'ST1-S0001', copies: 1, kind: 'pdf', attempts: 2, lastReason: 'printer-stopped', createdAt: '2026-11-22T08:00:00.000Z' });
    cups.lpstat({ Office: 'idle' });
    expect(await restarted.retry(kept!.id)).toMatchObject({ ok: true });
    expect(cups.receivedJobs().map((j) => j.data.equals(PDF))).toEqual([true]);
    expect(restarted.pending()).toEqual([]);
    expect(readdirSync(spool)).toEqual([]);
  });

  it('keeps the job when lp is missing or the printer throws', async () => {
    const spool = join(dir, 'spool');
    const noLp = new SpooledPrinter(new CupsPrinter('Office', { env: cups.env(true) }), spool);
    const r = await noLp.print(job);
    expect(r).toMatchObject({ ok: false, reason: 'tool-missing' });
    const throwing: Printer = {
      name: 'broken',
      print: () => Promise.reject(new Error('driver crashed')),
    };
    const r2 = await new SpooledPrinter(throwing, spool).print({ ...job, title: 'second' });
    expect(r2).toMatchObject({ ok: false, reason: 'rejected' });
    expect(r2.ok ? '' : r2.error.message).not.toContain('driver crashed');
    expect(new SpooledPrinter(throwing, spool).pending().map((p) => p.title).sort()).toEqual(['ST1-S0001', 'second']);
  });

  it('still lists a kept document whose record was lost (crash between the two writes)', () => {
    const spool = join(dir, 'spool');
    const printer = new SpooledPrinter(new FolderPrinter(join(dir, 'out')), spool);
    writeFileSync(join(spool, '1795334400000-0badc0de.zpl'), '^XA^XZ');
    writeFileSync(join(spool, 'unrelated.txt'), 'x');
    expect(printer.pending()).toEqual([
      {
        id: '1795334400000-0badc0de',
        path: join(spool, '1795334400000-0badc0de.zpl'),
        title: '1795334400000-0badc0de',
        copies: 1,
        kind: 'zpl',
        createdAt: new Date(1795334400000).toISOString(),
        attempts: 0,
        lastReason: null,
      },
    ]);
  });

  it('refuses an invalid job without keeping anything', async () => {
    const spool = join(dir, 'spool');
    const printer = new SpooledPrinter(new FolderPrinter(join(dir, 'out')), spool);
    expect(await printer.print({ ...job, copies: 0 })).toMatchObject({ ok: false, reason: 'invalid-job' });
    expect(readdirSync(spool)).toEqual([]);
    expect(await printer.retry('1795334400000-00000000')).toMatchObject({ ok: false, reason: 'invalid-job' });
  });
});

describe('FolderPrinter', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'folder-printer-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('saves each job as a file named after its title, never overwriting one', async () => {
    const printer = new FolderPrinter(join(dir, 'labels'));
    const a = await printer.print(job);
    const b = await printer.print(job);
    const c = await printer.print({ document: { kind: 'zpl', data: '^XA^XZ\n' }, copies: 3, title: '../../etc/passwd roll' });
    expect([a, b, c].map((r) => (r.ok ? r.jobId : null))).toEqual([
      join(dir, 'labels', 'ST1-S0001.pdf'),
      join(dir, 'labels', 'ST1-S0001-2.pdf'),
      join(dir, 'labels', 'etc_passwd_roll.zpl'),
    ]);
    expect(readFileSync(join(dir, 'labels', 'ST1-S0001-2.pdf')).equals(PDF)).toBe(true);
    expect(readdirSync(join(dir, 'labels')).sort()).toEqual(['ST1-S0001-2.pdf', 'ST1-S0001.pdf', 'etc_passwd_roll.zpl']);
  });

  it('reports a folder it cannot write as write-failed', async () => {
    writeFileSync(join(dir, 'a-file'), 'x');
    const result = await new FolderPrinter(join(dir, 'a-file', 'labels')).print(job);
    expect(result).toMatchObject({ ok: false, reason: 'write-failed' });
    expect(result.ok ? '' : result.error.message).toMatch(/could not be saved/);
  });
});
