import { describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import {
  buildLabelModel,
  buildQrPayload,
  DEFAULT_QR_TEMPLATE,
  formatMac,
  humanCodeFor,
  QR_PAYLOAD_MAX_CHARS,
  validateQrTemplate,
  type QrPayloadFields,
} from '../../../core/labels/label-model.js';

const QR_TOKEN = 'sqr_gCCsLSydh3d0ArmZj50l9zr79JXVooBR';
const AUTH_TOKEN = 'Zq8xW2mVb7Nc4Lk9Pj3Hg6Fd1Sa5Tr0E';

function rejection(fn: () => unknown): StationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StationError);
    return err as StationError;
  }
  throw new Error('expected a StationError, nothing was thrown');
}

describe('buildQrPayload', () => {
  it('makes the plain {qrToken}+{orgId} string by default', () => {
    expect(DEFAULT_QR_TEMPLATE).toBe('{qrToken}+{orgId}');
    expect(buildQrPayload(DEFAULT_QR_TEMPLATE, { qrToken: QR_TOKEN, orgId: 1 })).toBe(
      'sqr_gCCsLSydh3d0ArmZj50l9zr79JXVooBR+1',
    );
    expect(buildQrPayload(DEFAULT_QR_TEMPLATE, { qrToken: QR_TOKEN, orgId: '4821' })).toBe(`${QR_TOKEN}+4821`);
  });

  it('fills every allowed placeholder, repeated ones included, and keeps literal text', () => {
    const fields: QrPayloadFields = { qrToken: QR_TOKEN, orgId: 7, serial: 'FL-000042', mac: '24:0A:C4:00:00:01', templateId: 'TMPL1234' };
    expect(buildQrPayload('https://claim.example/c?t={qrToken}&o={orgId}&s={serial}', fields)).toBe(
      `https://claim.example/c?t=${QR_TOKEN}&o=7&s=FL-000042`,
    );
    expect(buildQrPayload('{templateId}/{mac}/{qrToken}/{qrToken}', fields)).toBe(`TMPL1234/24:0A:C4:00:00:01/${QR_TOKEN}/${QR_TOKEN}`);
  });

  it('rejects unknown placeholders and lists the allowed ones', () => {
    const err = rejection(() => buildQrPayload('{qrToken}+{org}', { qrToken: QR_TOKEN, orgId: 1 }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('{org}');
    expect(err.message).toContain('{qrToken}');
  });

  it.each(['{authToken}', '{AuthToken}', '{auth}', '{deviceToken}', '{token}', '{secret}', '{ authToken }', '{password}', '{apiKey}'])(
    'refuses %s because it would print a secret',
    (placeholder) => {
      const err = rejection(() => validateQrTemplate(`{qrToken}+${placeholder}`));
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.message).toMatch(/secret/);
    },
  );

  it('requires {qrToken}, balanced braces and printable ASCII', () => {
    expect(rejection(() => validateQrTemplate('{orgId}')).message).toMatch(/must contain \{qrToken\}/);
    expect(rejection(() => validateQrTemplate('')).code).toBe('INVALID_INPUT');
    expect(rejection(() => validateQrTemplate('{qrToken}+{orgId')).message).toMatch(/brace/);
    expect(rejection(() => validateQrTemplate('{qrToken}}')).message).toMatch(/brace/);
    expect(rejection(() => validateQrTemplate('{qrToken}\n')).message).toMatch(/ASCII/);
    expect(rejection(() => validateQrTemplate('{qrToken}→{orgId}')).message).toMatch(/ASCII/);
    expect(() => validateQrTemplate('{qrToken}')).not.toThrow();
  });

  it('refuses a qrToken that is not a claim code (an AuthToken passed by mistake) without echoing it', () => {
    const err = rejection(() => buildQrPayload(DEFAULT_QR_TEMPLATE, { qrToken: AUTH_TOKEN, orgId: 1 }));
    expect(err.message).toMatch(/claim code/);
    expect(err.message).not.toContain(AUTH_TOKEN);
    expect(JSON.stringify(err.toJSON())).not.toContain(AUTH_TOKEN);
  });

  it('checks orgId and the fields a template needs', () => {
    expect(rejection(() => buildQrPayload(DEFAULT_QR_TEMPLATE, { qrToken: QR_TOKEN, orgId: 0 })).message).toMatch(/organisation/);
    expect(rejection(() => buildQrPayload(DEFAULT_QR_TEMPLATE, { qrToken: QR_TOKEN, orgId: '1 OR 1' })).code).toBe('INVALID_INPUT');
    expect(rejection(() => buildQrPayload('{qrToken}/{serial}', { qrToken: QR_TOKEN, orgId: 1 })).message).toMatch(/no serial/);
  });

  it('caps the payload length so the QR stays scannable on the smallest label', () => {
    const filler = 'x'.repeat(QR_PAYLOAD_MAX_CHARS - QR_TOKEN.length);
    expect(buildQrPayload(`{qrToken}${filler}`, { qrToken: QR_TOKEN, orgId: 1 })).toHaveLength(QR_PAYLOAD_MAX_CHARS);
    expect(rejection(() => buildQrPayload(`{qrToken}${filler}x`, { qrToken: QR_TOKEN, orgId: 1 })).message).toMatch(/at most 128/);
  });
});

describe('humanCodeFor / formatMac', () => {
  it('groups the last six characters of the QR token', () => {
    expect(humanCodeFor(QR_TOKEN)).toBe('XVo oBR');
    expect(humanCodeFor('sqr_aaaaaaaaaaaaaaaaaaaaaaaaaaa-_9Zz')).toBe('a-_ 9Zz');
    expect(rejection(() => humanCodeFor(AUTH_TOKEN)).message).not.toContain(AUTH_TOKEN);
  });

  it('normalises MAC addresses', () => {
    expect(formatMac('240ac4123456')).toBe('24:0A:C4:12:34:56');
    expect(formatMac('24-0a-c4-12-34-56')).toBe('24:0A:C4:12:34:56');
    expect(rejection(() => formatMac('24:0a:c4:12:34')).code).toBe('INVALID_INPUT');
  });
});

describe('buildLabelModel', () => {
  it('reads only label fields from a wider token row, so the AuthToken cannot come along', () => {
    const row = {
      id: 17,
      qrToken: QR_TOKEN,
      authToken: AUTH_TOKEN,
      deviceToken: AUTH_TOKEN,
      orgId: 1,
      productName: '  Smart Plug Mini ',
      serial: 'FL-2026-000017',
      mac: '240ac4000011',
    };
    const label = buildLabelModel(row);
    expect(label).toEqual({
      qrPayload: `${QR_TOKEN}+1`,
      productName: 'Smart Plug Mini',
      serial: 'FL-2026-000017',
      mac: '24:0A:C4:00:00:11',
      humanCode: 'XVo oBR',
    });
    expect(JSON.stringify(label)).not.toContain(AUTH_TOKEN);
  });

  it('uses the product template and leaves mac out when there is none', () => {
    const label = buildLabelModel({ qrToken: QR_TOKEN, orgId: 3, productName: 'P', serial: 'S1' }, 'X:{qrToken}:{serial}');
    expect(label).toEqual({ qrPayload: `X:${QR_TOKEN}:S1`, productName: 'P', serial: 'S1', humanCode: 'XVo oBR' });
    expect('mac' in label).toBe(false);
  });

  it('requires a product name and a serial', () => {
    expect(rejection(() => buildLabelModel({ qrToken: QR_TOKEN, orgId: 1, productName: ' ', serial: 'S' })).message).toMatch(/product name/);
    expect(rejection(() => buildLabelModel({ qrToken: QR_TOKEN, orgId: 1, productName: 'P', serial: '' })).message).toMatch(/serial/);
  });
});
