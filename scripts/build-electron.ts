import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { STATION_HOST_BUNDLE } from '../app/station-host-protocol.js';

/**
 * Bundles the Electron side for packaging: `npx tsx scripts/build-electron.ts` (after the renderer build).
 *   dist/electron/main.js     ESM, the main process (windows, IPC relay, safeStorage); npm
 *                             dependencies stay external (packaged in node_modules).
 *   dist/electron/station-host.js
 *                             ESM, one file: the station core (SQLite, PDF, serial, cloud) that
 *                             main starts with utilityProcess.fork (app/station-host-entry.ts). One
 *                             file, no chunks: the core finds resources/ relative to its own module
 *                             (`import.meta.url`, e.g. native/usb/board-table.ts), so it must sit at
 *                             dist/electron/. Native modules stay external (rebuilt for Electron,
 *                             unpacked from the asar by electron-builder.yml).
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
      target: 'node22',
      minify: false,
      sourcemap: true,
      ssr: fileURLToPath(new URL('../app/station-host-entry.ts', import.meta.url)),
      rolldownOptions: {
        external: ['electron', ...nodeBuiltins],
        output: { format: 'es', entryFileNames: STATION_HOST_BUNDLE, codeSplitting: false },
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
