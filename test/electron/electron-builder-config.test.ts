import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { sep } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STATION_HOST_BUNDLE } from '../../app/station-host-protocol.js';

/**
 * electron-builder.yml checked without packaging (no Electron binary here): against
 * electron-builder's own JSON schema (the validation `electron-builder` runs first), and for the
 * properties the app depends on: the utility-process entry is packaged inside the asar, native
 * modules are unpacked and rebuilt for Electron, production fuses, macOS entitlements.
 */
const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../../', import.meta.url));
const yaml = require('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, debugLogger: { isEnabled: boolean; add(key: string, value: unknown): void }): Promise<void>;
};
const { minimatch } = require('minimatch') as { minimatch(path: string, pattern: string, options?: { dot?: boolean }): boolean };

interface BuilderConfig {
  files: string[];
  asar: boolean;
  asarUnpack: string[];
  npmRebuild: boolean;
  nativeRebuilder: string;
  electronFuses: Record<string, boolean>;
  linux: { target: string[] };
  win: { target: string[] };
  mac: { target: string[]; hardenedRuntime: boolean; entitlements: string; entitlementsInherit: string };
}

const config = yaml.load(readFileSync(`${root}electron-builder.yml`, 'utf8')) as BuilderConfig;
const noDebug = { isEnabled: false, add: () => undefined };

/** Included by `files` the way electron-builder reads it: later `!` patterns exclude. */
function packaged(path: string): boolean {
  let included = false;
  for (const pattern of config.files) {
    if (pattern.startsWith('!')) {
      if (minimatch(path, pattern.slice(1), { dot: true })) included = false;
    } else if (minimatch(path, pattern, { dot: true })) included = true;
  }
  return included;
}
const unpacked = (path: string) => config.asarUnpack.some((pattern) => minimatch(path, pattern, { dot: true }));

describe('electron-builder.yml', () => {
  it("passes electron-builder's own schema validation", async () => {
    await expect(validateConfiguration(config, noDebug)).resolves.toBeUndefined();
    // The validation is real: a misspelt option fails it.
    await expect(validateConfiguration({ ...config, asarUnpak: [] }, noDebug)).rejects.toThrow(/asarUnpak/);
  });

  it('packages the main process, preload, renderer and the station core entry inside the asar', () => {
    for (const file of ['dist/electron/main.js', 'dist/electron/preload.cjs', `dist/electron/${STATION_HOST_BUNDLE}`, 'dist/renderer/index.html', 'resources/boards.json', 'package.json']) {
      expect(packaged(file), file).toBe(true);
    }
    expect(packaged('dist/electron/main.js.map')).toBe(false);
    expect(packaged('resources/build/entitlements.mac.plist')).toBe(false);
    expect(config.asar).toBe(true);
    // The JS entry stays in the asar under its integrity check; only native code is unpacked.
    expect(unpacked(`dist/electron/${STATION_HOST_BUNDLE}`)).toBe(false);
  });

  it('unpacks every native module the station core loads, and rebuilds them for Electron', () => {
    // Every .node file these packages ship or built here (prebuilds for every platform included).
    const nativeFiles = ['better-sqlite3', '@serialport/bindings-cpp', 'usb'].flatMap((pkg) =>
      (readdirSync(`${root}node_modules/${pkg}`, { recursive: true }) as string[])
        .filter((file) => file.endsWith('.node'))
        .map((file) => `node_modules/${pkg}/${file.split(sep).join('/')}`),
    );
    expect(nativeFiles).toEqual(
      expect.arrayContaining([
        'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
        'node_modules/@serialport/bindings-cpp/prebuilds/linux-x64/@serialport+bindings-cpp.glibc.node',
        'node_modules/usb/prebuilds/linux-x64/node.napi.glibc.node',
      ]),
    );
    for (const file of nativeFiles) expect(unpacked(file), file).toBe(true);
    expect(config.npmRebuild).toBe(true);
    expect(['sequential', 'parallel']).toContain(config.nativeRebuilder);
  });

  it('keeps the production fuses', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('targets AppImage + deb, NSIS and dmg; macOS signs with hardened runtime and the entitlements file', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.mac.hardenedRuntime).toBe(true);
    const entitlements = readFileSync(`${root}${config.mac.entitlements}`, 'utf8');
    expect(entitlements).toContain('<key>com.apple.security.cs.allow-jit</key>');
    // Not needed since Electron 12, and it widens the attack surface.
    expect(entitlements).not.toContain('<key>com.apple.security.cs.allow-unsigned-executable-memory</key>');
    expect(existsSync(`${root}${config.mac.entitlementsInherit}`)).toBe(true);
  });
});
