import { describe, expect, it } from 'vitest';
import { runSelfTest, tokenProof } from '../../../native/selftest/self-test-runner.js';
import { ScriptedPort } from '../../support/scripted-port.js';

const TOKEN = 'Abcdefghijklmnopqrstuvwxyz012345';

/** A board that answers like the protocol says, holding `held`. */
function honestBoard(held: string): ScriptedPort {
  return new ScriptedPort((line, port) => {
    const [cmd, nonce] = line.trim().split(' ');
    if (cmd !== 'selftest' || !nonce) return;
    port.emit('I (312) boot: something the firmware logs\r\n');
    port.emit(`${JSON.stringify({ check: 'token', ok: true, proof: tokenProof(held, nonce) })}\r\n`);
    port.emit(`${JSON.stringify({ check: 'fw', ok: true, value: '1.0.0' })}\n`);
    port.emit(`${JSON.stringify({ selftest: 'done', ok: true, checks: 2 })}\n`);
  });
}

describe('runSelfTest', () => {
  it('passes a board that proves it holds the token, and never sends the token', async () => {
    const port = honestBoard(TOKEN);
    const result = await runSelfTest({ port, expectedToken: TOKEN });
    expect(result.ok).toBe(true);
    expect(result.checks.map((c) => c.check)).toEqual(['token', 'fw']);
    expect(port.written.join('\n')).not.toContain(TOKEN);
    expect(port.written[0]).toMatch(/^selftest [0-9a-f]{32}$/);
  });

  it('reads a check line glued to line noise (boot ROM at another baud rate)', async () => {
    const port = new ScriptedPort((line, p) => {
      const nonce = line.split(' ')[1] ?? '';
      p.emit(new Uint8Array([0x14, 0xe3, 0x9f, 0x00, 0x7b, 0x7b]));
      p.emit(`{"check":"token","ok":true,"proof":"${tokenProof(TOKEN, nonce)}"}\n{"selftest":"done","ok":true,"checks":1}\n`);
    });
    expect((await runSelfTest({ port, expectedToken: TOKEN })).ok).toBe(true);
  });

  it('fails a board holding a different token', async () => {
    const result = await runSelfTest({ port: honestBoard('Zbcdefghijklmnopqrstuvwxyz012345'), expectedToken: TOKEN });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/different token/);
    expect(result.reason).not.toContain(TOKEN);
  });

  it('fails a board replaying a proof made for another nonce', async () => {
    const replayed = tokenProof(TOKEN, '00000000000000000000000000000000');
    const port = new ScriptedPort((line, p) => {
      if (!line.startsWith('selftest')) return;
      p.emit(`{"check":"token","ok":true,"proof":"${replayed}"}\n{"selftest":"done","ok":true,"checks":1}\n`);
    });
    expect((await runSelfTest({ port, expectedToken: TOKEN })).ok).toBe(false);
  });

  it('retries while the app boots, then gives up on a silent board with a reason', async () => {
    const port = new ScriptedPort(() => undefined);
    const result = await runSelfTest({ port, expectedToken: TOKEN, timeoutMs: 6_000 });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/does not answer/);
    expect(port.written.length).toBe(4);
  });

  it('answers a board that started late (missed the first command)', async () => {
    let seen = 0;
    const honest = honestBoard(TOKEN);
    const port = new ScriptedPort((line, p) => {
      seen += 1;
      if (seen < 2) return; // still booting
      (honest as unknown as { onLine: (l: string, p: ScriptedPort) => void }).onLine(line, p);
    });
    const result = await runSelfTest({ port, expectedToken: TOKEN });
    expect(result.ok).toBe(true);
  });

  it('fails cleanly on a flood of garbage', async () => {
    const port = new ScriptedPort((line, p) => {
      if (!line.startsWith('selftest')) return;
      const junk = new Uint8Array(8192).map((_, i) => (i * 37) & 0xff);
      for (let i = 0; i < 16; i++) p.emit(junk);
    });
    const result = await runSelfTest({ port, expectedToken: TOKEN });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/flooded/);
  });

  it('fails when the board disconnects mid-test', async () => {
    const port = new ScriptedPort((line, p) => {
      if (!line.startsWith('selftest')) return;
      p.emit('{"check":"fw","ok":true}\n');
      setTimeout(() => p.disconnect(), 20);
    });
    const result = await runSelfTest({ port, expectedToken: TOKEN });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/disconnected/);
  });

  it('reports a failing check with its reason', async () => {
    const port = new ScriptedPort((line, p) => {
      const nonce = line.split(' ')[1] ?? '';
      p.emit(`{"check":"token","ok":true,"proof":"${tokenProof(TOKEN, nonce)}"}\n{"check":"heap","ok":false,"reason":"free heap 12000 < 40000"}\n{"selftest":"done","ok":false,"checks":2}\n`);
    });
    const result = await runSelfTest({ port, expectedToken: TOKEN });
    expect(result).toMatchObject({ ok: false, reason: 'Self-test check "heap" failed: free heap 12000 < 40000.' });
  });
});
