import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/**
 * Bundles the Electron side for packaging: `npx tsx scripts/build-electron.ts` (after the renderer build).
 *   dist/electron/main.js     ESM, main process + core; npm dependencies stay external (they are
 *                             packaged in node_modules, the native ones rebuilt for Electron).
 *   dist/electron/preload.cjs CommonJS in one file: a sandboxed preload can neither be ESM nor
 *                             require our other files.
 */
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const outDir = fileURLToPath(new URL('../dist/electron', import.meta.url));
const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

export async function buildElectron(): Promise<void> {
  await build({
    configFile: false,
    root: repoRoot,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: true,
      target: 'node22',
      minify: false,
      sourcemap: true,
      ssr: fileURLToPath(new URL('../electron/main.ts', import.meta.url)),
      rolldownOptions: {
        external: ['electron', ...nodeBuiltins],
        output: { format: 'es', entryFileNames: 'main.js', chunkFileNames: 'chunks/[name]-[hash].js' },
      },
    },
  });
  await build({
    configFile: false,
    root: repoRoot,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: false,
      target: 'chrome120',
      minify: false,
      sourcemap: false,
      lib: {
        entry: fileURLToPath(new URL('../electron/preload.ts', import.meta.url)),
        formats: ['cjs'],
        fileName: () => 'preload.cjs',
      },
      rolldownOptions: { external: ['electron'] },
    },
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildElectron();
}
