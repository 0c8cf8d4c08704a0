import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkPrintJob, documentBytes, printFailure, type PrintJob, type PrintResult, type Printer } from './printer.js';

/**
 * "Save as PDF": every job becomes a file in a folder (a shared drive another PC prints from, or an
 * archive). The file is named after the job title; a second job with the same title gets `-2`,
 * `-3`, … rather than overwriting the first. Copies are not multiplied: one file is the document.
 * ZPL jobs are saved as `.zpl`, ready to send to a Zebra printer by other means.
 */
export class FolderPrinter implements Printer {
  readonly name: string;

  constructor(private readonly folder: string) {
    this.name = folder;
  }

  async print(job: PrintJob): Promise<PrintResult> {
    const invalid = checkPrintJob(this.name, job);
    if (invalid) return invalid;
    const base = job.title.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80) || 'labels';
    const ext = job.document.kind === 'pdf' ? 'pdf' : 'zpl';
    try {
      mkdirSync(this.folder, { recursive: true });
      let path = join(this.folder, `${base}.${ext}`);
      for (let n = 2; existsSync(path); n++) path = join(this.folder, `${base}-${n}.${ext}`);
      // Written beside the target and renamed, so whoever watches the folder never sees half a file.
      const tmp = `${path}.part`;
      writeFileSync(tmp, documentBytes(job.document), { flag: 'wx' });
      renameSync(tmp, path);
      return { ok: true, printer: this.name, jobId: path };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
      return printFailure(
        this.name,
        'write-failed',
        `The labels could not be saved in ${this.folder} (${code}); check that the folder exists and is writable, or choose another.`,
      );
    }
  }
}
