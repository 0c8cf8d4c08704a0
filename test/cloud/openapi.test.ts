import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLOUD_ERROR_STATUS } from '../../cloud/http/http-error.js';
import { CLOUD_ROUTES } from '../../cloud/routes/index.js';

interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, unknown> };
}

const spec = JSON.parse(readFileSync(new URL('../../cloud/openapi.json', import.meta.url), 'utf8')) as OpenApi;

describe('cloud/openapi.json', () => {
  it('describes exactly the routes the server has', () => {
    const documented = Object.entries(spec.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    const served = CLOUD_ROUTES.map((r) => `${r.method} ${r.path}`).sort();
    expect(documented).toEqual(served);
  });

  it('marks bearer routes as bearer-secured and documents their 401', () => {
    for (const route of CLOUD_ROUTES.filter((r) => r.auth === 'bearer')) {
      const op = spec.paths[route.path]?.[route.method.toLowerCase()];
      expect(op?.security).toEqual([{ bearerAuth: [] }]);
      expect(op?.responses).toHaveProperty('401');
      // Station clients are refused (403) wherever they are not allowed; station routes say so too.
      expect(op?.responses).toHaveProperty('403');
    }
  });

  it('lists every error code the server can answer', () => {
    const schema = spec.components.schemas.Error as { properties: { error: { properties: { code: { enum: string[] } } } } };
    expect(schema.properties.error.properties.code.enum.sort()).toEqual(Object.keys(CLOUD_ERROR_STATUS).sort());
  });

  it('has no dangling $ref', () => {
    const refs = [...JSON.stringify(spec).matchAll(/"\$ref":"#\/components\/(schemas|responses)\/([^"]+)"/g)];
    expect(refs.length).toBeGreaterThan(10);
    for (const [, kind, name] of refs) expect(spec.components[kind as 'schemas' | 'responses']).toHaveProperty(name!);
  });
});
