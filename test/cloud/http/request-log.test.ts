import { describe, expect, it } from 'vitest';
import { CloudLogger, redactSecrets } from '../../../cloud/http/request-log.js';
import { newAuthToken, newBearerToken, newClientSecret, newQrToken } from '../../../cloud/secrets.js';

describe('redactSecrets', () => {
  it('removes every kind of token the cloud makes, wherever it sits in a line', () => {
    for (const secret of [newAuthToken(), newBearerToken(), newClientSecret(), newQrToken()]) {
      const line = `{"path":"/external/api/${secret}/x","q":"token=${secret}&a=1","b":"Bearer ${secret}"}`;
      const redacted = redactSecrets(line);
      expect(redacted).not.toContain(secret);
      expect(redacted.match(/\[redacted\]/g)).toHaveLength(3);
    }
  });

  it('keeps what the log needs', () => {
    const line =
      '{"at":"2026-11-22T12:00:00.000Z","event":"request","method":"POST","path":"/api/v1/organization/static-tokens/generate","status":201,"ms":7.5,"orgId":1}';
    expect(redactSecrets(line)).toBe(line);
  });
});

describe('CloudLogger', () => {
  it('writes one JSON object per line, redacted', () => {
    const lines: string[] = [];
    const token = newAuthToken();
    new CloudLogger((l) => lines.push(l), () => Date.UTC(2026, 0, 1)).log('request', { path: `/x/${token}`, status: 404 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({ at: '2026-01-01T00:00:00.000Z', event: 'request', path: '/x/[redacted]', status: 404 });
  });
});
