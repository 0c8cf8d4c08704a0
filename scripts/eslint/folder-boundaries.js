// ESLint rule: the folders are named for the runtime their code needs (docs/architecture.md), and
// each may import only the folders listed here. Relative imports are resolved to the top-level
// folder they land in, so `core/station` importing `../cloud/x.js` (core/cloud) is fine while
// `core/x.ts` importing `../cloud/x.js` (the cloud service) is not.
import { dirname, relative, resolve, sep } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');

/** Top-level folder -> folders of ours it may import (itself always allowed). */
export const ALLOWED = {
  common: [],
  native: ['common'],
  core: ['common', 'native'],
  cloud: ['common'],
  app: ['common', 'core', 'native', 'cloud', 'scripts'],
  electron: ['common', 'core', 'app'],
  renderer: ['common'],
};

/** Packages that only some folders may use. */
const PACKAGE_RULES = [
  { name: 'electron', only: ['electron'], why: 'only electron/ imports electron' },
  { name: 'better-sqlite3', not: ['renderer', 'common'], why: 'the renderer talks only to the station API' },
  { name: 'serialport', not: ['renderer', 'common'], why: 'the renderer talks only to the station API' },
  { name: 'usb', not: ['renderer', 'common'], why: 'the renderer talks only to the station API' },
  { name: 'esptool-js', not: ['renderer', 'common', 'core', 'cloud'], why: 'hardware lives in native/' },
];

function topFolder(file) {
  const rel = relative(ROOT, file);
  if (rel.startsWith('..')) return null;
  return rel.split(sep)[0] ?? null;
}

export const folderBoundaries = {
  meta: { type: 'problem', schema: [], messages: { folder: '{{from}}/ may not import {{to}}/ (allowed: {{allowed}}).', pkg: '{{from}}/ may not import {{pkg}}: {{why}}.' } },
  create(context) {
    const from = topFolder(context.filename);
    // Build configs (vite.config.ts) run in Node whatever folder they sit in.
    if (!from || !(from in ALLOWED) || /\.config\.[cm]?[jt]s$/.test(context.filename)) return {};
    const check = (node, source) => {
      if (typeof source !== 'string') return;
      if (source.startsWith('.')) {
        const to = topFolder(resolve(dirname(context.filename), source));
        if (!to || to === from || ALLOWED[from].includes(to)) return;
        context.report({ node, messageId: 'folder', data: { from, to, allowed: ALLOWED[from].join(', ') || 'nothing of ours' } });
        return;
      }
      const pkg = source.startsWith('@') ? source.split('/').slice(0, 2).join('/') : source.split('/')[0];
      for (const rule of PACKAGE_RULES) {
        if (rule.name !== pkg) continue;
        const banned = rule.only ? !rule.only.includes(from) : rule.not.includes(from);
        if (banned) context.report({ node, messageId: 'pkg', data: { from, pkg, why: rule.why } });
      }
      if (from === 'renderer' && (source.startsWith('node:') || source === 'fs' || source === 'child_process')) {
        context.report({ node, messageId: 'pkg', data: { from, pkg: source, why: 'the renderer runs in the browser' } });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};
