import { describe, expect, it } from 'vitest';
import { FlashlineCloudClient } from '../../../core/cloud/cloud-client.js';
import { checkCloudUrl } from '../../../core/cloud/cloud-url.js';

describe('cloud URLs', () => {
  it('allows https anywhere and http only to loopback', () => {
    for (const ok of ['https://cloud.example.com', 'http://127.0.0.1:8080', 'http://localhost:3000', 'http://[::1]:9000', 'http://127.1.2.3']) {
      expect(() => checkCloudUrl(ok)).not.toThrow();
    }
    for (const bad of ['http://cloud.example.com', 'http://192.168.1.10:8080', 'http://127.0.0.1.evil.com', 'ftp://127.0.0.1', 'https://u:p@x.com', 'nonsense']) {
      expect(() => checkCloudUrl(bad)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
    expect(() => new FlashlineCloudClient({ baseUrl: 'http://cloud.example.com', clientId: 'a', clientSecret: 'b' })).toThrow(/use https:\/\//);
  });
});
