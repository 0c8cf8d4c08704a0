import { spawn } from 'node:child_process';

/** How much of a tool's stdout/stderr is kept: plenty for `lpstat -p` on a site with many queues. */
const MAX_OUTPUT_BYTES = 256 * 1024;
/** After SIGTERM on timeout, how long a tool gets before SIGKILL. */
const KILL_GRACE_MS = 2_000;

export type ToolRun =
  | { kind: 'exited'; code: number; stdout: string; stderr: string }
  | { kind: 'missing' }
  | { kind: 'timeout' }
  | { kind: 'failed'; message: string };

export interface RunToolOptions {
  /** Written to the tool's stdin, then stdin is closed. */
  input?: Buffer;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs a command-line tool without a shell (arguments are never parsed, so a title with quotes or
 * `;` is just text) and answers with what happened, never throwing. A tool that is not on PATH is
 * `missing`; one that outlives `timeoutMs` is killed and reported as `timeout`.
 */
export function runTool(command: string, args: string[], options: RunToolOptions): Promise<ToolRun> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (run: ToolRun) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(run);
    };
    let child: ReturnType<typeof spawn>;
    try {
      // Its own process group, so a timeout kills whatever the tool started too (a filter, a backend).
      child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    } catch (err) {
      resolve({ kind: 'failed', message: (err as Error).message });
      return;
    }
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    child.stdout?.on('data', (b: Buffer) => {
      if (outBytes < MAX_OUTPUT_BYTES) out.push(b);
      outBytes += b.length;
    });
    child.stderr?.on('data', (b: Buffer) => {
      if (errBytes < MAX_OUTPUT_BYTES) errOut.push(b);
      errBytes += b.length;
    });
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS).unref();
      finish({ kind: 'timeout' });
    }, options.timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      finish(err.code === 'ENOENT' ? { kind: 'missing' } : { kind: 'failed', message: err.message });
    });
    child.on('close', (code, signal) => {
      finish({
        kind: 'exited',
        code: code ?? (signal ? 128 : -1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(errOut).toString('utf8'),
      });
    });
    // A tool that exits without reading all of stdin (lp refusing a job) closes the pipe: EPIPE is
    // expected then and the exit code tells the story.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? Buffer.alloc(0));
  });
}
