import { checkPrintJob, documentBytes, printFailure, type PrintJob, type PrintResult, type Printer, type PrintFailureReason } from './printer.js';
import { runTool, type ToolRun } from './run-tool.js';

/**
 * Printing through CUPS' System V commands (Linux and macOS):
 * - `lpstat -p [NAME]` lists destinations: `printer NAME is idle.  enabled since …`,
 *   `printer NAME now printing NAME-12.  enabled since …`, or `printer NAME disabled since …`
 *   (a stopped queue still accepts jobs but prints nothing, so we refuse to queue behind it);
 *   `lpstat -d` adds `system default destination: NAME`.
 * - `lp -d NAME -n COPIES -t TITLE [-o raw]` with the document on stdin answers
 *   `request id is NAME-42 (1 file(s))`. `-o raw` hands ZPL to the printer untouched.
 * Both run with LC_ALL=C so their messages are the English ones parsed here.
 */

/** `lp` returns once the job is in the local spool; only a stuck scheduler takes longer. */
export const LP_TIMEOUT_MS = 30_000;
export const LPSTAT_TIMEOUT_MS = 10_000;

/** CUPS destination names: printable, no space, `/`, `#`, at most 127 characters. */
const DESTINATION_PATTERN = /^[^\s/#\\'"-][^\s/#\\'"]{0,126}$/;

const CUPS_PACKAGE_HINT = 'install the CUPS client tools (Debian: cups-client; macOS has them)';

export interface CupsPrinterInfo {
  name: string;
  state: 'idle' | 'printing' | 'disabled';
  isDefault: boolean;
}

export type CupsPrinterList =
  | { ok: true; printers: CupsPrinterInfo[] }
  | { ok: false; reason: PrintFailureReason; message: string };

export interface CupsOptions {
  /** Environment for the tools (PATH decides which `lp`/`lpstat` run); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  lpTimeoutMs?: number;
  lpstatTimeoutMs?: number;
}

function toolEnv(options: CupsOptions): NodeJS.ProcessEnv {
  return { ...(options.env ?? process.env), LC_ALL: 'C', LANG: 'C' };
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}

/** What a CUPS tool's complaint means. */
function classify(stderr: string): PrintFailureReason {
  if (/does not exist|invalid destination|unknown destination|no default destination|no destinations added/i.test(stderr)) return 'no-printer';
  if (/not accepting|disabled|paused|stopped/i.test(stderr)) return 'printer-stopped';
  if (/unable to connect|scheduler is not running|connection refused|bad file descriptor|server-error-service-unavailable/i.test(stderr)) {
    return 'spooler-unavailable';
  }
  return 'rejected';
}

function messageFor(reason: PrintFailureReason, printer: string, tool: string): string {
  switch (reason) {
    case 'no-printer':
      return `There is no printer named "${printer}"; pick one of the printers this computer knows, or add it in the system's printer settings.`;
    case 'printer-stopped':
      return `The printer "${printer}" is stopped or not accepting jobs; check paper and power, then resume it in the system's printer settings.`;
    case 'tool-missing':
      return `The printing command "${tool}" is not installed; ${CUPS_PACKAGE_HINT}.`;
    case 'spooler-unavailable':
      return 'The print service (CUPS) is not running; start it (systemctl start cups) or ask a supervisor.';
    case 'timeout':
      return 'The print service did not answer in time; check that CUPS is running, then print again.';
    default:
      return `The printer "${printer}" refused the job; check it in the system's printer settings, then print again.`;
  }
}

function fromRun(run: Exclude<ToolRun, { kind: 'exited' }>, printer: string, tool: string): PrintResult {
  if (run.kind === 'missing') return printFailure(printer, 'tool-missing', messageFor('tool-missing', printer, tool));
  if (run.kind === 'timeout') return printFailure(printer, 'timeout', messageFor('timeout', printer, tool));
  return printFailure(printer, 'rejected', messageFor('rejected', printer, tool), run.message);
}

/** Parses `lpstat -d -p` output. */
export function parseLpstat(stdout: string): CupsPrinterInfo[] {
  const defaultName = /^system default destination:\s*(\S+)/m.exec(stdout)?.[1] ?? null;
  const printers: CupsPrinterInfo[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^printer (\S+) (is idle|now printing|disabled)/.exec(line);
    if (!m) continue;
    const state = m[2] === 'is idle' ? 'idle' : m[2] === 'now printing' ? 'printing' : 'disabled';
    printers.push({ name: m[1]!, state, isDefault: m[1] === defaultName });
  }
  return printers;
}

/** Every CUPS destination this computer knows, with its state. */
export async function listCupsPrinters(options: CupsOptions = {}): Promise<CupsPrinterList> {
  const run = await runTool('lpstat', ['-d', '-p'], { env: toolEnv(options), timeoutMs: options.lpstatTimeoutMs ?? LPSTAT_TIMEOUT_MS });
  if (run.kind !== 'exited') {
    const failed = fromRun(run, '', 'lpstat');
    return { ok: false, reason: failed.ok ? 'rejected' : failed.reason, message: failed.ok ? '' : failed.error.message };
  }
  if (run.code !== 0) {
    // "No destinations added." is an empty list, not a failure.
    if (/no destinations added/i.test(run.stderr)) return { ok: true, printers: [] };
    const reason = classify(run.stderr);
    return { ok: false, reason, message: messageFor(reason, '', 'lpstat') };
  }
  return { ok: true, printers: parseLpstat(run.stdout) };
}

export class CupsPrinter implements Printer {
  readonly name: string;

  constructor(
    destination: string,
    private readonly options: CupsOptions = {},
  ) {
    this.name = destination;
  }

  async print(job: PrintJob): Promise<PrintResult> {
    const invalid = checkPrintJob(this.name, job);
    if (invalid) return invalid;
    if (!DESTINATION_PATTERN.test(this.name)) return printFailure(this.name, 'no-printer', messageFor('no-printer', this.name, 'lp'));
    const env = toolEnv(this.options);

    // A disabled queue would take the job and sit on it; the operator must hear about it now.
    const status = await runTool('lpstat', ['-p', this.name], { env, timeoutMs: this.options.lpstatTimeoutMs ?? LPSTAT_TIMEOUT_MS });
    if (status.kind !== 'exited') return fromRun(status, this.name, 'lpstat');
    if (status.code !== 0) {
      const reason = classify(status.stderr);
      return printFailure(this.name, reason, messageFor(reason, this.name, 'lpstat'), firstLine(status.stderr));
    }
    const info = parseLpstat(status.stdout).find((p) => p.name === this.name);
    if (!info) return printFailure(this.name, 'no-printer', messageFor('no-printer', this.name, 'lpstat'));
    if (info.state === 'disabled') return printFailure(this.name, 'printer-stopped', messageFor('printer-stopped', this.name, 'lpstat'));

    const args = ['-d', this.name, '-n', String(job.copies), '-t', job.title];
    if (job.document.kind === 'zpl') args.push('-o', 'raw');
    const run = await runTool('lp', args, { env, input: documentBytes(job.document), timeoutMs: this.options.lpTimeoutMs ?? LP_TIMEOUT_MS });
    if (run.kind !== 'exited') return fromRun(run, this.name, 'lp');
    if (run.code !== 0) {
      const reason = classify(run.stderr);
      return printFailure(this.name, reason, messageFor(reason, this.name, 'lp'), firstLine(run.stderr));
    }
    const jobId = /request id is (\S+)/.exec(run.stdout)?.[1] ?? null;
    return { ok: true, printer: this.name, jobId };
  }
}
