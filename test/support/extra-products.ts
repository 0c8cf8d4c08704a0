import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { defaultProductManifestPath } from '../../core/product/manifest.js';

export const SECOND_PRODUCT = { id: 'demo-plug', name: 'Demo Smart Plug', labelStock: 'letter-3x10' } as const;

/**
 * Puts two more manifests into `<dataDir>/products/`: a second product (the demo firmware under
 * another id, name and label stock, so a switch shows on the label sheet) and a broken one (a part
 * file that does not exist), which the station must list with its error.
 */
export function writeExtraProducts(dataDir: string): void {
  const demoPath = defaultProductManifestPath();
  const dir = join(dataDir, 'products');
  mkdirSync(dir, { recursive: true });
  const demo = JSON.parse(readFileSync(demoPath, 'utf8')) as {
    name: string;
    builds: { parts: { path: string }[]; flashline: { partitionTable: { path: string } } }[];
    flashline: { id: string; labelStock: string };
  };
  // Part paths are relative to the manifest: point them back at the shipped demo firmware.
  const rebase = (p: string): string => relative(dir, resolve(dirname(demoPath), p));
  for (const build of demo.builds) {
    for (const part of build.parts) part.path = rebase(part.path);
    build.flashline.partitionTable.path = rebase(build.flashline.partitionTable.path);
  }
  const second: typeof demo = { ...demo, name: SECOND_PRODUCT.name, flashline: { ...demo.flashline, id: SECOND_PRODUCT.id, labelStock: SECOND_PRODUCT.labelStock } };
  writeFileSync(join(dir, `${SECOND_PRODUCT.id}.json`), JSON.stringify(second, null, 2));
  const broken = structuredClone(second);
  broken.name = 'Broken Gadget';
  broken.flashline.id = 'broken-gadget';
  broken.builds[0]!.parts[2]!.path = 'missing-app.bin';
  writeFileSync(join(dir, 'broken-gadget.json'), JSON.stringify(broken, null, 2));
}
