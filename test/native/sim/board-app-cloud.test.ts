import { afterEach, describe, expect, it } from 'vitest';
import { VirtualBoard } from '../../../native/sim/virtual-board.js';
import { lineCollector } from './sim-helpers.js';

const TOKEN = 'Ab-_0123456789abcdefghijKLMNOPQR';

/** Edgent's `connect <auth>` on the virtual board's console (no cloud here: storing, status, erase). */
describe('virtual board app: connect <auth>', () => {
  let board: VirtualBoard;
  afterEach(() => board?.dispose());

  async function command(text: string, match: (line: string) => boolean): Promise<{ line: string; lines: string[] }> {
    const console = lineCollector(board);
    board.write(Buffer.from(`${text}\n`, 'latin1'));
    const line = await console.waitFor(match);
    return { line, lines: console.lines };
  }

  it('stores a well-formed token without ever echoing it, reports it in status, and `config erase` removes it', async () => {
    board = new VirtualBoard({ seed: 5 });
    const saved = await command(`connect ${TOKEN}`, (l) => l.includes('"connect"'));
    expect(JSON.parse(saved.line)).toEqual({ connect: 'saved' });
    const status = await command('status', (l) => l.startsWith('{"state"'));
    expect(JSON.parse(status.line)).toMatchObject({ token: true, cloud: false });
    expect([...saved.lines, ...status.lines].join('\n')).not.toContain(TOKEN);
    await command('config erase', (l) => l.includes('"config":"erased"'));
    const after = await command('status', (l) => l.startsWith('{"state"'));
    expect(JSON.parse(after.line)).toMatchObject({ state: 'WAIT_CONFIG', token: false });
  });

  it('refuses a malformed token', async () => {
    board = new VirtualBoard({ seed: 6 });
    const answer = await command('connect short', (l) => l.includes('"connect"'));
    expect(JSON.parse(answer.line)).toMatchObject({ connect: 'error' });
    const status = await command('status', (l) => l.startsWith('{"state"'));
    expect(JSON.parse(status.line)).toMatchObject({ token: false });
  });
});
