import { createServer, type Server, type Socket } from 'node:net';
import { z } from 'zod';
import { formatMac } from './chip-profiles.js';
import { hostBoardOnPty, type PtyHost } from './pty-host.js';
import { VirtualBoard, type VirtualBoardOptions } from './virtual-board.js';

/**
 * A rack of virtual boards in a process of their own: each board on a pseudo-terminal, and a small
 * control socket (a Unix socket, one JSON object a line) through which a station watches the rack
 * and drives the boards' DTR/RTS (a pty carries no modem lines), and an operator (a test, a bench)
 * plugs and unplugs boards, switches faults on and reads a board's flash back.
 *
 * Why a separate process: the boards' ROM, stub, inflate and flash then run on their own event
 * loop, so the station's event-loop lag is the station's, and a station killed with SIGKILL leaves
 * the boards (and what their flash holds) behind, as a real line would.
 *
 * Requests  `{"id":1,"op":"plug","slotId":"slot-1","board":{…}}` → `{"id":1,"ok":true,"result":…}`
 * Lines     `{"op":"lines","slotId":"slot-1","dtr":true,"rts":false}` (no reply: the station's
 *           reset pulses must not wait for a round trip)
 * Events    `{"event":"attach","slotId":…,"path":"/dev/pts/7","usbVendorId":…,"usbProductId":…}`,
 *           `{"event":"detach","slotId":…}` to every connected client.
 * A board unplugged keeps a copy of `keepRegion` (by default the NVS partition), readable by its MAC,
 * so a harness can check every board that ever left the rack.
 */

/** How long a control client may take to send one line before it is cut off (bytes without a newline). */
export const BOARD_HOST_MAX_LINE_BYTES = 1 << 20;

const faultsSchema = z
  .object({
    dropEveryNthByte: z.number().int().min(2).optional(),
    corruptBlock: z
      .object({ seq: z.number().int().min(0), point: z.enum(['wire', 'flash']).optional(), op: z.number().int().optional(), times: z.number().int().min(1).optional(), byteOffset: z.number().int().min(0).optional() })
      .optional(),
    unplugAfterBytes: z.number().int().min(0).optional(),
    brownOutAfterBytes: z.number().int().min(0).optional(),
    silent: z.boolean().optional(),
    garbage: z.object({ probability: z.number().min(0).max(1), maxBytes: z.number().int().min(1).optional() }).optional(),
  })
  .strict();

const boardSchema = z.object({ seed: z.number().int().optional(), mac: z.string().optional(), faults: faultsSchema.optional() }).strict();

const requestSchema = z.discriminatedUnion('op', [
  z.object({ id: z.number().int(), op: z.literal('plug'), slotId: z.string().min(1).max(64), board: boardSchema.optional() }),
  z.object({ id: z.number().int(), op: z.literal('unplug'), slotId: z.string().min(1).max(64) }),
  z.object({ id: z.number().int(), op: z.literal('setFaults'), slotId: z.string().min(1).max(64), faults: faultsSchema }),
  z.object({ id: z.number().int(), op: z.literal('list') }),
  z.object({ id: z.number().int(), op: z.literal('readFlash'), mac: z.string(), offset: z.number().int().min(0), size: z.number().int().min(1).max(16 << 20) }),
  z.object({ id: z.number().int(), op: z.literal('boards') }),
  z.object({ id: z.number().int(), op: z.literal('configure'), cloudUrl: z.string().url().optional(), templateId: z.string().min(1).max(64).optional() }),
  z.object({ op: z.literal('lines'), slotId: z.string(), dtr: z.boolean().optional(), rts: z.boolean().optional(), brk: z.boolean().optional() }),
]);

export type BoardHostRequest = z.infer<typeof requestSchema>;
export type BoardHostFaults = z.infer<typeof faultsSchema>;

export interface HostedBoard {
  slotId: string;
  path: string;
  mac: string;
  usbVendorId: number;
  usbProductId: number;
}

export type BoardHostEvent = ({ event: 'attach' } & HostedBoard) | { event: 'detach'; slotId: string };

export interface BoardHostOptions {
  socketPath: string;
  /** Options for every board plugged (throttle, chip …); a plug's own options win. */
  board?: VirtualBoardOptions;
  /** Region copied when a board is unplugged, readable afterwards by MAC (default the demo NVS: 0x9000, 24 KiB). */
  keepRegion?: { offset: number; size: number };
  log?: (line: string) => void;
}

interface Seat {
  board: VirtualBoard;
  pty: PtyHost;
  hosted: HostedBoard;
}

export class BoardHost {
  private readonly seats = new Map<string, Seat>();
  /** MAC → kept region of boards no longer plugged. */
  private readonly shelf = new Map<string, { offset: number; bytes: Uint8Array }>();
  private readonly clients = new Set<Socket>();
  private readonly server: Server;
  private readonly keep: { offset: number; size: number };
  /** What the station last said about its cloud: given to every board plugged from then on. */
  private cloud: { cloudUrl?: string; templateId?: string } = {};
  /** Plugs and unplugs run one after the other (each spawns or stops a pty helper). */
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: BoardHostOptions) {
    this.keep = options.keepRegion ?? { offset: 0x9000, size: 0x6000 };
    this.server = createServer((socket) => this.accept(socket));
  }

  static async start(options: BoardHostOptions): Promise<BoardHost> {
    const host = new BoardHost(options);
    await new Promise<void>((resolve, reject) => {
      host.server.once('error', reject);
      host.server.listen(options.socketPath, () => resolve());
    });
    return host;
  }

  /** What is plugged now. */
  list(): HostedBoard[] {
    return [...this.seats.values()].map((s) => s.hosted);
  }

  boardIn(slotId: string): VirtualBoard | undefined {
    return this.seats.get(slotId)?.board;
  }

  plug(slotId: string, board: VirtualBoardOptions = {}): Promise<HostedBoard> {
    return this.serial(async () => {
      if (this.seats.has(slotId)) throw new Error(`${slotId} already has a board`);
      const { cloudUrl, templateId } = this.cloud;
      const vb = new VirtualBoard({
        ...this.options.board,
        ...(cloudUrl ? { cloudUrl } : {}),
        ...(templateId ? { app: { ...this.options.board?.app, templateId } } : {}),
        ...board,
      });
      await vb.ready;
      const pty = await hostBoardOnPty(vb);
      const hosted: HostedBoard = { slotId, path: pty.path, mac: formatMac(vb.macAddress), usbVendorId: vb.usbIds.vendorId, usbProductId: vb.usbIds.productId };
      this.seats.set(slotId, { board: vb, pty, hosted });
      this.shelf.delete(hosted.mac);
      vb.on('usb-attach', () => {
        if (this.seats.get(slotId)?.board === vb) this.broadcast({ event: 'attach', ...hosted });
      });
      this.options.log?.(`plugged ${slotId} (${hosted.mac}) on ${pty.path}`);
      this.broadcast({ event: 'attach', ...hosted });
      return hosted;
    });
  }

  unplug(slotId: string): Promise<void> {
    return this.serial(async () => {
      const seat = this.seats.get(slotId);
      if (!seat) return;
      this.seats.delete(slotId);
      this.shelf.set(seat.hosted.mac, { offset: this.keep.offset, bytes: seat.board.readFlash(this.keep.offset, this.keep.size) });
      seat.board.unplug();
      this.broadcast({ event: 'detach', slotId });
      await seat.pty.close();
      seat.board.dispose();
      this.options.log?.(`unplugged ${slotId} (${seat.hosted.mac})`);
    });
  }

  /**
   * The station's cloud, for the boards' applications: new boards get both, boards already plugged
   * follow the URL (the embedded cloud listens on a new port after every station start).
   */
  configure(cloud: { cloudUrl?: string; templateId?: string }): void {
    this.cloud = { ...this.cloud, ...cloud };
    if (cloud.cloudUrl) for (const seat of this.seats.values()) seat.board.setCloudUrl(cloud.cloudUrl);
  }

  /** Flash of a plugged board, or the kept region of one unplugged. */
  readFlash(mac: string, offset: number, size: number): Uint8Array {
    const seat = [...this.seats.values()].find((s) => s.hosted.mac === mac);
    if (seat) return seat.board.readFlash(offset, size);
    const kept = this.shelf.get(mac);
    if (!kept) throw new Error(`no board ${mac}`);
    const start = offset - kept.offset;
    if (start < 0 || start + size > kept.bytes.length) throw new Error(`only ${kept.bytes.length} bytes at 0x${kept.offset.toString(16)} were kept for ${mac}`);
    return kept.bytes.slice(start, start + size);
  }

  /** Every board the host has seen: plugged ones and those on the shelf. */
  boards(): { mac: string; slotId: string | null }[] {
    const plugged = [...this.seats.values()].map((s) => ({ mac: s.hosted.mac, slotId: s.hosted.slotId }));
    return [...plugged, ...[...this.shelf.keys()].map((mac) => ({ mac, slotId: null }))];
  }

  async close(): Promise<void> {
    for (const slotId of [...this.seats.keys()]) await this.unplug(slotId);
    for (const client of this.clients) client.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private broadcast(event: BoardHostEvent): void {
    const line = `${JSON.stringify(event)}\n`;
    for (const client of this.clients) if (!client.destroyed) client.write(line);
  }

  private accept(socket: Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => undefined);
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      pending += text;
      if (pending.length > BOARD_HOST_MAX_LINE_BYTES && !pending.includes('\n')) {
        socket.destroy();
        return;
      }
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.trim()) void this.handle(socket, line);
      }
    });
  }

  private async handle(socket: Socket, line: string): Promise<void> {
    let id: number | undefined;
    try {
      const parsed = requestSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`bad request: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      const request = parsed.data;
      if (request.op === 'lines') {
        // Modem lines go straight to the board, in arrival order, without a reply.
        const { dtr, rts, brk } = request;
        this.seats.get(request.slotId)?.board.setLines({ ...(dtr !== undefined ? { dtr } : {}), ...(rts !== undefined ? { rts } : {}), ...(brk !== undefined ? { brk } : {}) });
        return;
      }
      id = request.id;
      let result: unknown = null;
      switch (request.op) {
        case 'plug':
          result = await this.plug(request.slotId, stripUndefined(request.board ?? {}) as VirtualBoardOptions);
          break;
        case 'unplug':
          await this.unplug(request.slotId);
          break;
        case 'setFaults': {
          const seat = this.seats.get(request.slotId);
          if (!seat) throw new Error(`no board in ${request.slotId}`);
          seat.board.setFaults(stripUndefined(request.faults) as VirtualBoardOptions['faults'] & object);
          break;
        }
        case 'configure':
          this.configure({ ...(request.cloudUrl ? { cloudUrl: request.cloudUrl } : {}), ...(request.templateId ? { templateId: request.templateId } : {}) });
          break;
        case 'list':
          result = this.list();
          break;
        case 'boards':
          result = this.boards();
          break;
        case 'readFlash':
          result = Buffer.from(this.readFlash(request.mac, request.offset, request.size)).toString('base64');
          break;
      }
      if (!socket.destroyed) socket.write(`${JSON.stringify({ id, ok: true, result })}\n`);
    } catch (err) {
      if (!socket.destroyed) socket.write(`${JSON.stringify({ id: id ?? null, ok: false, error: err instanceof Error ? err.message : String(err) })}\n`);
    }
  }
}

/** zod keeps optional keys absent, but JSON may carry explicit nulls; exactOptionalPropertyTypes wants them gone. */
function stripUndefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
