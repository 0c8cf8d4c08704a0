import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { buildBatchZip, CSV_FILE_NAME, parseBatchZip, QR_FOLDER } from '../../../core/batches/batch-zip.js';
import { buildExportZip } from '../../../cloud/export/export-zip.js';
import { writeCsv } from '../../../core/batches/csv.js';
import { readZip, writeZip, type ZipEntryInput } from '../../../core/batches/zip.js';
import { assertLabelToolsInstalled } from '../../support/label-decode.js';
import { batchTokens } from './batch-fixtures.js';

const ORG = 4821;

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);

/** A hand-made export: the CSV rows given, and a PNG per AuthToken (or the entries given). */
function handMade(rows: string[][], extra: ZipEntryInput[] = [], pngsFor: string[] | null = null): Buffer {
  const auths = pngsFor ?? rows.slice(1).map((r) => r[rows[0]!.indexOf('AuthToken')] ?? '');
  return writeZip([
    { name: CSV_FILE_NAME, data: Buffer.from(writeCsv(rows)) },
    ...auths.map((a) => ({ name: `${QR_FOLDER}/${a}.png`, data: PNG, method: 'store' as const })),
    ...extra,
  ]);
}

/** Every refusal: INVALID_INPUT, and never an AuthToken (or a long piece of one) in the message. */
function refusal(zip: Buffer, secrets: string[], options?: Parameters<typeof parseBatchZip>[1]): string {
  try {
    parseBatchZip(zip, options);
  } catch (err) {
    expect(err).toBeInstanceOf(StationError);
    expect((err as StationError).code).toBe('INVALID_INPUT');
    const message = (err as StationError).message;
    for (const s of secrets) for (let i = 0; i + 8 <= s.length; i++) expect(message).not.toContain(s.slice(i, i + 8));
    return message;
  }
  throw new Error('accepted');
}

describe('buildBatchZip', () => {
  it("writes the CSV and one QR PNG per token named after its AuthToken, encoding {qrToken}+{orgId}", async () => {
    await assertLabelToolsInstalled();
    const tokens = batchTokens(5, 'export');
    const zip = await buildBatchZip({ orgId: ORG, templateId: 'TMPL7', tokens });
    const entries = readZip(zip);
    expect(entries.map((e) => e.name)).toEqual([CSV_FILE_NAME, ...tokens.map((t) => `${QR_FOLDER}/${t.authToken}.png`)]);
    expect(entries[0]!.data.toString()).toBe(
      writeCsv([
        ['AuthToken', 'QR Token', 'QR Payload', 'Template ID', 'Organization ID', 'Station State'],
        ...tokens.map((t) => [t.authToken, t.qrToken, `${t.qrToken}+${ORG}`, 'TMPL7', String(ORG), '']),
      ]),
    );
    const dir = mkdtempSync(join(tmpdir(), 'batch-png-'));
    try {
      const files = entries.slice(1).map((e, i) => {
        const file = join(dir, `${i}.png`);
        writeFileSync(file, e.data);
        return file;
      });
      const r = spawnSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', ...files], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(tokens.map((t) => `${t.qrToken}+${ORG}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('round-trips through parseBatchZip, AuthTokens that start with "-" included (formula quote removed)', async () => {
    const tokens = batchTokens(20, 'rt');
    tokens[3] = { ...tokens[3]!, authToken: `-${tokens[3]!.authToken.slice(1)}` };
    const zip = await buildBatchZip({ orgId: ORG, templateId: 'TMPL7', tokens });
    expect(readZip(zip)[0]!.data.toString()).toContain(`\r\n'-${tokens[3]!.authToken.slice(1)},`);
    expect(parseBatchZip(zip)).toEqual({
      tokens: tokens.map(({ authToken, qrToken }) => ({ authToken, qrToken })),
      orgId: ORG,
      templateId: 'TMPL7',
      ignoredColumns: [],
      pngCount: 20,
    });
  });
});

describe('parseBatchZip', () => {
  const tokens = batchTokens(4, 'imp');
  const secrets = tokens.map((t) => t.authToken);
  const auths = tokens.map((t) => t.authToken);
  const header = ['AuthToken', 'QR Token', 'QR Payload', 'Template ID', 'Organization ID', 'Status', 'Created At'];
  const rows = () => [header, ...tokens.map((t) => [t.authToken, t.qrToken, `${t.qrToken}+${ORG}`, 'TMPL7', String(ORG), 'UNCLAIMED', '2026-11-22T08:00:00.000Z'])];

  it('reads the console export of our cloud service (metadata columns ignored and listed)', async () => {
    const template = { id: 1, orgId: ORG, name: 'Plug', blynkTemplateId: 'TMPLab12cd34', metadataFields: [{ name: 'Batch Note', type: 'text' as const }], qrPayloadFormat: '{qrToken}+{orgId}', createdAt: 0 };
    const rowsOf = tokens.map((t, i) => ({
      id: i + 1, qrToken: t.qrToken, deviceToken: t.authToken, orgId: ORG, templateId: 1, batchId: 'b', createdAt: 0, status: 'UNCLAIMED' as const,
      ownerId: null, deviceId: null, claimedOrgId: null, metadata: JSON.stringify({ 'Batch Note': `lot ${i}` }), deletedAt: null, voidReason: null,
    }));
    const zip = await buildExportZip(template, rowsOf, Date.UTC(2026, 10, 22));
    expect(parseBatchZip(zip)).toEqual({
      tokens: tokens.map(({ authToken, qrToken }) => ({ authToken, qrToken })),
      orgId: ORG,
      templateId: 'TMPLab12cd34',
      ignoredColumns: ['Batch Note'],
      pngCount: 4,
    });
  });

  it('accepts a minimal file (AuthToken, QR Token), and takes the organisation from {qrToken}+{orgId} payloads', () => {
    const bare = handMade([['QR Token', 'AuthToken'], ...tokens.map((t) => [t.qrToken, t.authToken])]);
    expect(parseBatchZip(bare)).toMatchObject({ orgId: null, templateId: null, tokens: tokens.map(({ authToken, qrToken }) => ({ authToken, qrToken })) });
    const withPayload = handMade([['AuthToken', 'QR Token', 'QR Payload'], ...tokens.map((t) => [t.authToken, t.qrToken, `${t.qrToken}+${ORG}`])]);
    expect(parseBatchZip(withPayload)).toMatchObject({ orgId: ORG });
    // A template with another payload format: fine as long as it carries the QR token.
    const url = handMade([['AuthToken', 'QR Token', 'QR Payload'], ...tokens.map((t) => [t.authToken, t.qrToken, `https://x.example/c/${t.qrToken}`])]);
    expect(parseBatchZip(url)).toMatchObject({ orgId: null });
  });

  it('refuses bad headers: a missing or differently-cased required column, a blank or repeated name', () => {
    expect(refusal(handMade([['QR Token', 'Authtoken'], ...tokens.map((t) => [t.qrToken, t.authToken])], [], auths), secrets)).toMatch(/no "AuthToken" column.*case-sensitive/);
    expect(refusal(handMade([['QR Token', 'AuthToken', ''], ...tokens.map((t) => [t.qrToken, t.authToken, 'x'])]), secrets)).toMatch(/column 3 of the header has no name/);
    expect(refusal(handMade([['QR Token', 'AuthToken', 'QR Token'], ...tokens.map((t) => [t.qrToken, t.authToken, t.qrToken])]), secrets)).toMatch(/names column "QR Token" twice/);
    expect(refusal(handMade([header], [], auths), secrets)).toMatch(/has a header but no tokens/);
    expect(refusal(handMade([], [], auths), secrets)).toMatch(/is empty/);
  });

  it('refuses bad rows by row number: token shapes, duplicates, mixed organisations or templates, payload mismatch, claimed or used tokens', () => {
    const cases: [(rs: string[][]) => void, RegExp][] = [
      [(rs) => (rs[2]![0] = rs[2]![0]!.slice(0, 31)), /row 3: the AuthToken is not 32 characters/],
      [(rs) => (rs[2]![0] = `${rs[2]![0]!.slice(0, 31)}!`), /row 3: the AuthToken is not 32/],
      [(rs) => (rs[3]![1] = rs[3]![1]!.replace('sqr_', 'sqx_')), /row 4: the QR Token is not sqr_/],
      [(rs) => (rs[3]![0] = rs[1]![0]!), /row 4: the same AuthToken as row 2/],
      [(rs) => (rs[4]![1] = rs[1]![1]!), /row 5: the QR Payload does not contain|row 5: the same QR Token as row 2/],
      [(rs) => (rs[3]![2] = `${rs[2]![1]}+${ORG}`), /row 4: the QR Payload does not contain the row's QR Token/],
      [(rs) => (rs[3]![2] = `${rs[3]![1]}+99`), /row 4: the QR Payload's organisation differs/],
      [(rs) => (rs[2]![3] = 'OTHER'), /row 3: the Template ID differs/],
      [(rs) => (rs[2]![3] = 'bad id!'), /row 3: the Template ID is not a template id/],
      [(rs) => ((rs[4]![4] = String(ORG + 1)), (rs[4]![2] = '')), /row 5: Organization ID 4822 differs from 4821/],
      [(rs) => ((rs[2]![4] = 'x1'), (rs[2]![2] = '')), /row 3: the Organization ID "x1" is not a positive whole number/],
      [(rs) => (rs[3]![5] = 'CLAIMED'), /row 4: the token's Status is CLAIMED; only UNCLAIMED/],
    ];
    for (const [mutate, expected] of cases) {
      const rs = rows().map((row) => [...row]);
      mutate(rs);
      // PNGs follow the original AuthTokens, so the row checks must fire before the PNG checks.
      expect(refusal(handMade(rs, [], auths), secrets), String(expected)).toMatch(expected);
    }
    const used = [['AuthToken', 'QR Token', 'Station State'], ...tokens.map((t, i) => [t.authToken, t.qrToken, i === 2 ? 'failed' : 'available'])];
    expect(refusal(handMade(used), secrets)).toMatch(/row 4: this token was already used at a station \(state failed\)/);
  });

  it('refuses QR folders that do not match the rows: missing, extra, not PNG, two folders, no folder, stray files', () => {
    const csv = rows();
    expect(refusal(handMade(csv, [], auths.slice(0, 3)), secrets)).toMatch(/row 5: there is no QR image/);
    const stranger = batchTokens(1, 'stranger')[0]!.authToken;
    expect(refusal(handMade(csv, [{ name: `${QR_FOLDER}/${stranger}.png`, data: PNG }]), [...secrets, stranger])).toMatch(/named after no AuthToken/);
    const notPng = writeZip([
      { name: CSV_FILE_NAME, data: Buffer.from(writeCsv(csv)) },
      ...auths.map((a, i) => ({ name: `${QR_FOLDER}/${a}.png`, data: i === 1 ? Buffer.from('GIF89a....') : PNG })),
    ]);
    expect(refusal(notPng, secrets)).toMatch(/is not a PNG/);
    const twoFolders = writeZip([
      { name: CSV_FILE_NAME, data: Buffer.from(writeCsv(csv)) },
      ...auths.map((a, i) => ({ name: `${i % 2 ? 'a' : 'b'}/${a}.png`, data: PNG })),
    ]);
    expect(refusal(twoFolders, secrets)).toMatch(/several folders/);
    expect(refusal(writeZip([{ name: CSV_FILE_NAME, data: Buffer.from(writeCsv(csv)) }]), secrets)).toMatch(/no folder of QR images/);
    expect(refusal(handMade(csv, [{ name: 'README.txt', data: Buffer.from('hi') }]), secrets)).toMatch(/neither the CSV nor a QR PNG/);
    expect(refusal(handMade(csv, [{ name: 'second.csv', data: Buffer.from('a\r\n') }]), secrets)).toMatch(/exactly one CSV file.*holds 2/);
  });

  it('refuses a CSV in UTF-16 or binary inside the zip, and more tokens than allowed', () => {
    const csv = writeCsv(rows());
    const withCsv = (data: Buffer) =>
      writeZip([{ name: CSV_FILE_NAME, data }, ...auths.map((a) => ({ name: `${QR_FOLDER}/${a}.png`, data: PNG }))]);
    expect(refusal(withCsv(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv, 'utf16le')])), secrets)).toMatch(/UTF-16/);
    expect(refusal(withCsv(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00])), secrets)).toMatch(/binary data/);
    expect(refusal(withCsv(Buffer.from(csv)), secrets, { maxTokens: 3 })).toMatch(/has 4 tokens; at most 3/);
    // A BOM (Excel's "CSV UTF-8") is fine.
    expect(parseBatchZip(withCsv(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv)]))).tokens).toHaveLength(4);
  });

  it('passes zip-level refusals through (path traversal)', () => {
    const evil = Buffer.from(handMade(rows(), [{ name: 'zz/evil.png', data: PNG }]));
    for (let at = evil.indexOf('zz/evil.png'); at >= 0; at = evil.indexOf('zz/evil.png', at + 1)) evil.write('../evil.png', at, 'latin1');
    expect(refusal(evil, secrets)).toMatch(/climbs out/);
  });
});
