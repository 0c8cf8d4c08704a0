import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { checkPrintJob, documentBytes, printFailure, type PrintFailureReason, type PrintJob, type PrintResult, type Printer } from './printer.js';

/**
 * Printer failures never lose a sheet: every job's document is written to the spool folder (and
 * fsynced) BEFORE the printer sees it, and removed only after the printer accepted it. A failed job
 * stays there with a small JSON record beside it, is listed by `pending()`, and can be sent again
 * with `retry()`, also after a restart. A crash between "printer accepted" and "file removed"
 * leaves a job that may print twice on retry: a duplicate of the same label, never a missing one.
 *
 * Files: `<id>.pdf` / `<id>.zpl` (the document, openable as it is) and `<id>.json` (title, copies,
 * attempts). A document whose record is missing (a crash between the two writes) is still listed.
 */

const ID_PATTERN = /^[0-9]{13}-[0-9a-f]{8}$/;

const recordSchema = z.strictObject({
  title: z.string(),
  copies: z.number().int().min(1),
  kind: z.enum(['pdf', 'zpl']),
  createdAt: z.string(),
  attempts: z.number().int().min(0),
  lastReason: z.string().nullable(),
});
type SpoolRecord = z.infer<typeof recordSchema>;

export interface SpooledJob extends SpoolRecord {
  id: string;
  /** The kept document. */
  path: string;
}

function writeDurably(path: string, data: Buffer | string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export class SpooledPrinter implements Printer {
  readonly name: string;

  constructor(
    private readonly inner: Printer,
    private readonly spoolDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.name = inner.name;
    mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
  }

  async print(job: PrintJob): Promise<PrintResult> {
    const invalid = checkPrintJob(this.name, job);
    if (invalid) return invalid;
    const id = `${this.now().getTime().toString().padStart(13, '0')}-${randomBytes(4).toString('hex')}`;
    const record: SpoolRecord = {
      title: job.title,
      copies: job.copies,
      kind: job.document.kind,
      createdAt: this.now().toISOString(),
      attempts: 0,
      lastReason: null,
    };
    try {
      writeDurably(this.docPath(id, record.kind), documentBytes(job.document));
      writeDurably(this.recordPath(id), JSON.stringify(record));
    } catch (err) {
      // Nothing was sent: the caller still holds the document (and the label queue can re-render it).
      return printFailure(
        this.name,
        'write-failed',
        `The print job could not be kept in ${this.spoolDir} (${(err as NodeJS.ErrnoException).code ?? 'error'}), so it was not sent; free disk space, then print again.`,
      );
    }
    return this.send(id, record, job);
  }

  /** Jobs kept because they did not print, oldest first. */
  pending(): SpooledJob[] {
    if (!existsSync(this.spoolDir)) return [];
    const jobs = new Map<string, SpooledJob>();
    for (const file of readdirSync(this.spoolDir).sort()) {
      const m = /^(.+)\.(pdf|zpl)$/.exec(file);
      if (!m || !ID_PATTERN.test(m[1]!)) continue;
      const id = m[1]!;
      const kind = m[2] as 'pdf' | 'zpl';
      jobs.set(id, { id, path: join(this.spoolDir, file), ...this.readRecord(id, kind) });
    }
    return [...jobs.values()];
  }

  /** Sends a kept job again; on success it leaves the spool. */
  async retry(id: string): Promise<PrintResult> {
    const job = this.pending().find((j) => j.id === id);
    if (!job) return printFailure(this.name, 'invalid-job', `There is no kept print job ${id}; it may have printed already.`);
    const data = readFileSync(job.path);
    const { path: _path, id: _id, ...record } = job;
    return this.send(id, record, {
      document: job.kind === 'pdf' ? { kind: 'pdf', data } : { kind: 'zpl', data },
      copies: job.copies,
      title: job.title,
    });
  }

  private async send(id: string, record: SpoolRecord, job: PrintJob): Promise<PrintResult> {
    let result: PrintResult;
    try {
      result = await this.inner.print(job);
    } catch {
      result = printFailure(this.name, 'rejected', `The printer "${this.name}" failed unexpectedly; the job is kept, print it again.`);
    }
    const docPath = this.docPath(id, record.kind);
    if (result.ok) {
      rmSync(this.recordPath(id), { force: true });
      rmSync(docPath, { force: true });
      return result;
    }
    const reason: PrintFailureReason = result.reason;
    try {
      writeDurably(this.recordPath(id), JSON.stringify({ ...record, attempts: record.attempts + 1, lastReason: reason }));
    } catch {
      // The document itself is still on disk; only the attempt counter is stale.
    }
    return { ...result, keptPath: docPath };
  }

  private readRecord(id: string, kind: 'pdf' | 'zpl'): SpoolRecord {
    try {
      const parsed = recordSchema.safeParse(JSON.parse(readFileSync(this.recordPath(id), 'utf8')));
      if (parsed.success && parsed.data.kind === kind) return parsed.data;
    } catch {
      // fall through: the record is missing or torn
    }
    return { title: id, copies: 1, kind, createdAt: new Date(Number(id.slice(0, 13))).toISOString(), attempts: 0, lastReason: null };
  }

  private docPath(id: string, kind: 'pdf' | 'zpl'): string {
    return join(this.spoolDir, `${id}.${kind}`);
  }

  private recordPath(id: string): string {
    return join(this.spoolDir, `${id}.json`);
  }
}
