import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Fake CUPS client tools for tests: small shell scripts named `lp` and `lpstat` in a temp folder
 * that is put first on PATH, so the adapter spawns real processes and reads their real exit codes,
 * stdout and stderr. `lp` saves its arguments and stdin under `jobs/` like a spooler would.
 */
export class FakeCups {
  readonly dir: string;
  readonly bin: string;
  readonly jobs: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'fake-cups-'));
    this.bin = join(this.dir, 'bin');
    this.jobs = join(this.dir, 'jobs');
    mkdirSync(this.bin);
    mkdirSync(this.jobs);
  }

  /** PATH with the fakes first; `only` leaves the real system folders out (for "tool missing"). */
  env(only = false): NodeJS.ProcessEnv {
    return { ...process.env, PATH: only ? this.bin : `${this.bin}:${process.env.PATH ?? ''}` };
  }

  private script(name: string, body: string): void {
    const path = join(this.bin, name);
    writeFileSync(path, `#!/bin/sh\nPATH=/usr/bin:/bin\nJOBS='${this.jobs}'\n${body}\n`);
    chmodSync(path, 0o755);
  }

  remove(name: 'lp' | 'lpstat'): void {
    rmSync(join(this.bin, name), { force: true });
  }

  /** `lpstat` that knows these printers (name → state) and `default` as the default destination. */
  lpstat(printers: Record<string, 'idle' | 'printing' | 'disabled'>, defaultName?: string): void {
    const lines = (name: string, state: string): string[] =>
      state === 'idle'
        ? [`printer ${name} is idle.  enabled since Sun 22 Nov 2026 08:00:00 AM UTC`]
        : state === 'printing'
          ? [`printer ${name} now printing ${name}-7.  enabled since Sun 22 Nov 2026 08:00:00 AM UTC`]
          : [`printer ${name} disabled since Sun 22 Nov 2026 08:00:00 AM UTC -`, '\tPaused'];
    const printf = (name: string, state: string) => `printf '%s\\n' ${lines(name, state).map((l) => `'${l}'`).join(' ')}`;
    const cases = Object.entries(printers)
      .map(([name, state]) => `    ${name}) ${printf(name, state)} ;;`)
      .join('\n');
    const all = Object.entries(printers)
      .map(([name, state]) => printf(name, state))
      .join('\n');
    this.script(
      'lpstat',
      `echo "$@" >> "$JOBS/lpstat-calls.txt"
if [ "$1" = "-p" ] && [ -n "$2" ]; then
  case "$2" in
${cases}
    *) echo "lpstat: Invalid destination name in list \\"$2\\"." >&2; exit 1 ;;
  esac
  exit 0
fi
${defaultName ? `echo "system default destination: ${defaultName}"` : 'echo "no system default destination"'}
${Object.keys(printers).length === 0 ? 'echo "lpstat: No destinations added." >&2; exit 1' : all}`,
    );
  }

  /** `lpstat` that fails every call with this stderr and exit code. */
  lpstatFails(stderr: string, code = 1): void {
    this.script('lpstat', `echo '${stderr}' >&2\nexit ${code}`);
  }

  /** `lp` that accepts every job: saves args and stdin, prints a request id. */
  lpAccepts(): void {
    this.script(
      'lp',
      `n=$(ls "$JOBS" | grep -c '^job-.*\\.bin$')
n=$((n + 1))
for a in "$@"; do printf '%s\\n' "$a"; done > "$JOBS/job-$n.args"
cat > "$JOBS/job-$n.bin"
dest=""
while [ $# -gt 0 ]; do if [ "$1" = "-d" ]; then dest="$2"; fi; shift; done
echo "request id is $dest-$((n + 40)) (1 file(s))"`,
    );
  }

  /** `lp` that reads its input and then fails with this stderr and exit code. */
  lpFails(stderr: string, code = 1): void {
    this.script('lp', `cat > /dev/null\necho '${stderr}' >&2\nexit ${code}`);
  }

  /** `lp` that hangs (for timeouts). */
  lpHangs(seconds: number): void {
    this.script('lp', `cat > /dev/null\nsleep ${seconds}\necho "request id is late-1 (1 file(s))"`);
  }

  /** What `lp` received: one entry per accepted job, in order. */
  receivedJobs(): { args: string[]; data: Buffer }[] {
    if (!existsSync(this.jobs)) return [];
    const ids = readdirSync(this.jobs)
      .map((f) => /^job-(\d+)\.bin$/.exec(f)?.[1])
      .filter((x): x is string => x !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    return ids.map((n) => ({
      args: readFileSync(join(this.jobs, `job-${n}.args`), 'utf8').split('\n').slice(0, -1),
      data: readFileSync(join(this.jobs, `job-${n}.bin`)),
    }));
  }

  lpstatCalls(): string[] {
    const path = join(this.jobs, 'lpstat-calls.txt');
    return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : [];
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
