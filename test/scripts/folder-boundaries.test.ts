import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'flashline/folder-boundaries').map((m) => m.message);
}

describe('folder boundary lint rule', () => {
  it('lets only electron/ import electron', async () => {
    expect(await problems('core/x.ts', "import { app } from 'electron'; export const a = app;")).toEqual([
      'core/ may not import electron: only electron/ imports electron.',
    ]);
    expect(await problems('electron/x.ts', "import { app } from 'electron'; export const a = app;")).toEqual([]);
  });

  it('keeps the renderer on common/ only', async () => {
    expect(await problems('renderer/src/x.ts', "import { a } from '../../core/queue/token-queue.js'; export const b = a;")).toHaveLength(1);
    expect(await problems('renderer/src/x.ts', "import { a } from '../../common/api.js'; export const b = a;")).toEqual([]);
    expect(await problems('renderer/src/x.ts', "import Database from 'better-sqlite3'; export const d = Database;")).toHaveLength(1);
  });

  it('resolves relative paths: core/cloud is core, the top-level cloud/ is not', async () => {
    expect(await problems('core/station/x.ts', "import { a } from '../cloud/cloud-client.js'; export const b = a;")).toEqual([]);
    expect(await problems('core/x.ts', "import { a } from '../cloud/server.js'; export const b = a;")).toEqual([
      'core/ may not import cloud/ (allowed: common, native).',
    ]);
  });

  it('keeps native/ and common/ free of core/', async () => {
    expect(await problems('native/sim/x.ts', "export { a } from '../../core/queue/token-queue.js';")).toHaveLength(1);
    expect(await problems('common/x.ts', "const m = await import('../native/sim/slip.js'); export const a = m;")).toHaveLength(1);
  });
});
