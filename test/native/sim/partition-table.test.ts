import { describe, expect, it } from 'vitest';
import {
  buildPartitionTable,
  defaultPartitions,
  findBootAppPartition,
  findNvsPartition,
  parsePartitionTable,
} from '../../../native/sim/partition-table.js';

describe('ESP-IDF partition table', () => {
  it('round-trips entries with the MD5 entry ESP-IDF appends', () => {
    const table = buildPartitionTable(defaultPartitions(4 * 1024 * 1024));
    expect(Buffer.from(table.subarray(0, 2)).toString('hex')).toBe('aa50');
    const parsed = parsePartitionTable(table);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.hasMd5).toBe(true);
    expect(findNvsPartition(parsed.entries)).toMatchObject({ label: 'nvs', offset: 0x9000, size: 0x6000 });
    expect(findBootAppPartition(parsed.entries)).toMatchObject({ label: 'factory', offset: 0x10000 });
  });

  it('reports an erased table as absent and a tampered one as a bad MD5', () => {
    expect(parsePartitionTable(new Uint8Array(0xc00).fill(0xff))).toEqual({ ok: false, reason: 'absent' });
    const table = buildPartitionTable(defaultPartitions(4 * 1024 * 1024));
    table[4] = table[4]! ^ 0x10; // nvs offset
    expect(parsePartitionTable(table)).toEqual({ ok: false, reason: 'bad-md5' });
  });
});
