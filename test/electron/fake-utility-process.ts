import { EventEmitter } from 'node:events';
import { vi } from 'vitest';
import { HOST_PROTOCOL_VERSION, parseParentMessage, type HostMessage, type ParentMessage } from '../../app/station-host-protocol.js';

/**
 * A scriptable stand-in for Electron's `utilityProcess`: each fork is a FakeUtilityChild that
 * spawns on the next microtask and, by default, behaves like the real station host
 * (app/station-host.ts): ready on start, answers calls, closed + exit 0 on shutdown. Tests change
 * the behaviour per child (`onStart`, `onCall`) or crash it (`crash`).
 */
export class FakeUtilityChild extends EventEmitter {
  readonly received: ParentMessage[] = [];
  readonly rawReceived: unknown[] = [];
  exited = false;
  /** A hung host: its event loop no longer turns, so it answers nothing (not even pings). */
  hung = false;
  /** What to answer to `start` (default: ready). Return null to stay silent. */
  onStart: (message: Extract<ParentMessage, { type: 'start' }>) => HostMessage | null = () => ({
    type: 'ready',
    protocol: HOST_PROTOCOL_VERSION,
    dataDir: '/data',
    initialSupervisorPin: null,
  });
  /** What to answer to a call (default: echo the command name). Return null to leave it pending. */
  onCall: (message: Extract<ParentMessage, { type: 'call' }>) => HostMessage | null = (message) => ({
    type: 'result',
    id: message.id,
    ok: true,
    result: message.name === 'getSnapshot' ? { slots: [], restarted: true } : { called: message.name },
  });

  postMessage = vi.fn((raw: unknown) => {
    if (this.exited) throw new Error('posted to an exited child');
    this.rawReceived.push(raw);
    const parsed = parseParentMessage(raw);
    if (!parsed.ok) throw new Error(parsed.reason);
    const message = parsed.message;
    this.received.push(message);
    queueMicrotask(() => {
      if (this.exited || this.hung) return;
      if (message.type === 'start') {
        const reply = this.onStart(message);
        if (reply) this.reply(reply);
        if (reply?.type === 'fatal') this.exit(1);
      } else if (message.type === 'call') {
        const reply = this.onCall(message);
        if (reply) this.reply(reply);
      } else if (message.type === 'ping') {
        this.reply({ type: 'pong', seq: message.seq });
      } else {
        this.reply({ type: 'closed' });
        this.exit(0);
      }
    });
  });

  kill = vi.fn(() => {
    this.exit(15);
    return true;
  });

  constructor(
    readonly modulePath: string,
    readonly args: string[] | undefined,
    readonly options: Record<string, unknown> | undefined,
  ) {
    super();
    queueMicrotask(() => this.emit('spawn'));
  }

  reply(message: HostMessage): void {
    this.emit('message', message);
  }

  /** The process ends without a word (SIGKILL, segfault). */
  crash(code = 139): void {
    this.exit(code);
  }

  exit(code: number): void {
    if (this.exited) return;
    this.exited = true;
    this.emit('exit', code);
  }
}

export function createFakeUtilityProcess() {
  const children: FakeUtilityChild[] = [];
  const utilityProcess = {
    fork: vi.fn((modulePath: string, args?: string[], options?: Record<string, unknown>) => {
      const child = new FakeUtilityChild(modulePath, args, options);
      children.push(child);
      return child;
    }),
  };
  return { children, utilityProcess };
}
