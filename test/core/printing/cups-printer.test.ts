import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CupsPrinter, listCupsPrinters, parseLpstat } from '../../../core/printing/cups-printer.js';
import type { PrintJob, PrintResult } from '../../../core/printing/printer.js';
import { FakeCups } from './fake-cups.js';

const PDF = Buffer.concat([Buffer.from('%PDF-1.3\n'), Buffer.alloc(70_000, 0x41), Buffer.from('\n%%EOF\n')]);
const ZPL = '^XA\n^PW406\n^FO10,10^A0N,20,20^FDhello^FS\n^XZ\n';

const pdfJob = (over: Partial<PrintJob> = {}): PrintJob => ({ document: { kind: 'pdf', data: PDF }, copies: 2, title: 'Sheet ST1-S0001', ...over });

function failed(result: PrintResult) {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result;
}

describe('CupsPrinter (real spawns of fake lp/lpstat on PATH)', () => {
  let cups: FakeCups;

  beforeEach(() => {
    cups = new FakeCups();
  });
  afterEach(() => cups.cleanup());

  it('sends a PDF on stdin with -d, -n and -t and returns the request id', async () => {
    cups.lpstat({ Office: 'idle' });
    cups.lpAccepts();
    const result = await new CupsPrinter('Office', { env: cups.env() }).print(pdfJob());
    expect(result).toEqual({ ok: true, printer: 'Office', jobId: 'Office-41' });
    const [job, ...more] = cups.receivedJobs();
    expect(more).toHaveLength(0);
    expect(job!.args).toEqual(['-d', 'Office', '-n', '2', '-t', 'Sheet ST1-S0001']);
    expect(job!.data.equals(PDF)).toBe(true);
    expect(cups.lpstatCalls()).toEqual(['-p Office']);
  });

  it('sends ZPL raw (-o raw) to a printer that is busy printing', async () => {
    cups.lpstat({ Zebra: 'printing' });
    cups.lpAccepts();
    const result = await new CupsPrinter('Zebra', { env: cups.env() }).print({ document: { kind: 'zpl', data: ZPL }, copies: 1, title: 'roll' });
    expect(result.ok).toBe(true);
    const [job] = cups.receivedJobs();
    expect(job!.args).toEqual(['-d', 'Zebra', '-n', '1', '-t', 'roll', '-o', 'raw']);
    expect(job!.data.toString()).toBe(ZPL);
  });

  it('passes a title with quotes, semicolons and $() as one argument (no shell)', async () => {
    cups.lpstat({ Office: 'idle' });
    cups.lpAccepts();
    const title = `it's "fine"; $(touch /tmp/x) & done`;
    expect((await new CupsPrinter('Office', { env: cups.env() }).print(pdfJob({ title }))).ok).toBe(true);
    expect(cups.receivedJobs()[0]!.args).toEqual(['-d', 'Office', '-n', '2', '-t', title]);
  });

  it('reports an unknown printer as no-printer without sending anything', async () => {
    cups.lpstat({ Office: 'idle' });
    cups.lpAccepts();
    const result = failed(await new CupsPrinter('Nope', { env: cups.env() }).print(pdfJob()));
    expect(result.reason).toBe('no-printer');
    expect(result.error.code).toBe('LABEL_FAILED');
    expect(result.error.operatorFault).toBe(true);
    expect(result.error.message).toContain('"Nope"');
    expect(cups.receivedJobs()).toHaveLength(0);
  });

  it('reports a disabled (paused) queue as printer-stopped without queueing behind it', async () => {
    cups.lpstat({ Zebra: 'disabled' });
    cups.lpAccepts();
    const result = failed(await new CupsPrinter('Zebra', { env: cups.env() }).print(pdfJob()));
    expect(result.reason).toBe('printer-stopped');
    expect(result.error.message).toMatch(/stopped/);
    expect(cups.receivedJobs()).toHaveLength(0);
  });

  it('maps lp refusals: not accepting → printer-stopped, does not exist → no-printer, other → rejected', async () => {
    cups.lpstat({ Office: 'idle' });
    const printer = new CupsPrinter('Office', { env: cups.env() });
    cups.lpFails('lp: Destination "Office" is not accepting jobs.');
    expect(failed(await printer.print(pdfJob())).reason).toBe('printer-stopped');
    cups.lpFails('lp: The printer or class does not exist.');
    expect(failed(await printer.print(pdfJob())).reason).toBe('no-printer');
    cups.lpFails('lp: Unsupported document-format "application/pdf".', 3);
    const other = failed(await printer.print(pdfJob()));
    expect(other.reason).toBe('rejected');
    expect(other.error.details?.toolMessage).toBe('lp: Unsupported document-format "application/pdf".');
    expect(other.error.message).not.toContain('Unsupported');
  });

  it('names the Debian package when lp or lpstat is missing', async () => {
    cups.lpstat({ Office: 'idle' });
    const printer = new CupsPrinter('Office', { env: cups.env(true) });
    const noLp = failed(await printer.print(pdfJob()));
    expect(noLp.reason).toBe('tool-missing');
    expect(noLp.error.message).toContain('"lp"');
    expect(noLp.error.message).toContain('cups-client');
    cups.remove('lpstat');
    const noLpstat = failed(await printer.print(pdfJob()));
    expect(noLpstat.reason).toBe('tool-missing');
    expect(noLpstat.error.message).toContain('"lpstat"');
  });

  it('reports a scheduler that does not answer as spooler-unavailable', async () => {
    cups.lpstatFails('lpstat: Unable to connect to server: Connection refused');
    cups.lpAccepts();
    const result = failed(await new CupsPrinter('Office', { env: cups.env() }).print(pdfJob()));
    expect(result.reason).toBe('spooler-unavailable');
    expect(result.error.message).toContain('CUPS');
  });

  it('kills an lp that hangs and reports a timeout', async () => {
    cups.lpstat({ Office: 'idle' });
    cups.lpHangs(30);
    const started = Date.now();
    const result = failed(await new CupsPrinter('Office', { env: cups.env(), lpTimeoutMs: 300 }).print(pdfJob()));
    expect(result.reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses malformed jobs and option-like printer names before spawning anything', async () => {
    cups.lpstat({ Office: 'idle' });
    cups.lpAccepts();
    const printer = new CupsPrinter('Office', { env: cups.env() });
    expect(failed(await printer.print(pdfJob({ copies: 0 }))).reason).toBe('invalid-job');
    expect(failed(await printer.print(pdfJob({ copies: 1.5 }))).reason).toBe('invalid-job');
    expect(failed(await printer.print(pdfJob({ title: '' }))).reason).toBe('invalid-job');
    expect(failed(await printer.print({ document: { kind: 'pdf', data: Buffer.from('^XA^XZ') }, copies: 1, title: 't' })).reason).toBe('invalid-job');
    expect(failed(await printer.print({ document: { kind: 'zpl', data: '%PDF-1.4' }, copies: 1, title: 't' })).reason).toBe('invalid-job');
    expect(failed(await new CupsPrinter('-oraw', { env: cups.env() }).print(pdfJob())).reason).toBe('no-printer');
    expect(cups.receivedJobs()).toHaveLength(0);
    expect(cups.lpstatCalls()).toHaveLength(0);
  });
});

describe('listCupsPrinters', () => {
  let cups: FakeCups;
  beforeEach(() => {
    cups = new FakeCups();
  });
  afterEach(() => cups.cleanup());

  it('lists every destination with its state and the default', async () => {
    cups.lpstat({ Office: 'idle', Zebra: 'printing', Old: 'disabled' }, 'Zebra');
    expect(await listCupsPrinters({ env: cups.env() })).toEqual({
      ok: true,
      printers: [
        { name: 'Office', state: 'idle', isDefault: false },
        { name: 'Zebra', state: 'printing', isDefault: true },
        { name: 'Old', state: 'disabled', isDefault: false },
      ],
    });
  });

  it('an empty CUPS is an empty list; a missing lpstat or a dead scheduler is a failure', async () => {
    cups.lpstat({});
    expect(await listCupsPrinters({ env: cups.env() })).toEqual({ ok: true, printers: [] });
    cups.lpstatFails('lpstat: Unable to connect to server: Connection refused');
    expect(await listCupsPrinters({ env: cups.env() })).toMatchObject({ ok: false, reason: 'spooler-unavailable' });
    cups.remove('lpstat');
    const missing = await listCupsPrinters({ env: cups.env(true) });
    expect(missing).toMatchObject({ ok: false, reason: 'tool-missing' });
    expect(missing.ok ? '' : missing.message).toContain('cups-client');
  });

  it('parses lpstat output it does not own line by line', () => {
    expect(parseLpstat('garbage\nprinter A is idle.  enabled since x\n\tstuff\nprinter B disabled since y -\n')).toEqual([
      { name: 'A', state: 'idle', isDefault: false },
      { name: 'B', state: 'disabled', isDefault: false },
    ]);
  });
});
