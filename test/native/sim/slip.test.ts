import { describe, expect, it } from 'vitest';
import { SlipDecoder, slipEncode } from '../../../native/sim/slip.js';

describe('slipEncode', () => {
  it('frames with 0xC0 and escapes 0xC0 / 0xDB inside', () => {
    expect(Buffer.from(slipEncode(Uint8Array.of(0x01, 0xc0, 0x02, 0xdb, 0x03))).toString('hex')).toBe('c001dbdc02dbdd03c0');
  });

  it('leaves an empty payload as two ENDs', () => {
    expect(Array.from(slipEncode(new Uint8Array(0)))).toEqual([0xc0, 0xc0]);
  });
});

describe('SlipDecoder', () => {
  it('decodes frames split at every possible byte boundary, escapes included', () => {
    const payloads = [Uint8Array.of(0xc0, 0xdb, 0x00), Uint8Array.of(1, 2, 3, 0xdb), Uint8Array.of(0xc0)];
    const wire = Buffer.concat(payloads.map((p) => slipEncode(p)));
    for (let cut = 1; cut < wire.length; cut++) {
      const decoder = new SlipDecoder();
      const frames = [...decoder.pushFrames(wire.subarray(0, cut)), ...decoder.pushFrames(wire.subarray(cut))];
      expect(frames.map((f) => Buffer.from(f).toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
    }
  });

  it('reports bytes outside frames as noise and skips empty frames', () => {
    const decoder = new SlipDecoder();
    const events = decoder.push(Buffer.concat([Buffer.from('boot log\r\n'), Buffer.from([0xc0, 0xc0, 0x41, 0xc0])]));
    expect(events).toEqual([
      { kind: 'noise', bytes: Uint8Array.from(Buffer.from('boot log\r\n')) },
      { kind: 'frame', payload: Uint8Array.of(0x41) },
    ]);
  });

  it('treats bytes after a frame as noise until the next END opens a frame', () => {
    const decoder = new SlipDecoder();
    const text = Buffer.from('rst:0xc\r\n');
    const events = decoder.push(Buffer.concat([Buffer.from([0xc0, 0x41, 0xc0]), text, Buffer.from([0xc0, 0x42, 0xc0])]));
    expect(events).toEqual([
      { kind: 'frame', payload: Uint8Array.of(0x41) },
      { kind: 'noise', bytes: Uint8Array.from(text) },
      { kind: 'frame', payload: Uint8Array.of(0x42) },
    ]);
  });

  it('drops a frame with a bad escape and recovers on the next END', () => {
    const decoder = new SlipDecoder();
    const events = decoder.push(Uint8Array.of(0xc0, 0x01, 0xdb, 0x55, 0x02, 0xc0, 0x07, 0xc0));
    expect(events[0]).toEqual({ kind: 'error', reason: 'bad-escape' });
    // The bytes after the broken escape up to the next END are treated as noise, then 0x07 is a frame.
    expect(events.filter((e) => e.kind === 'frame')).toEqual([{ kind: 'frame', payload: Uint8Array.of(0x07) }]);
  });
});
