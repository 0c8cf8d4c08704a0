import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stationError } from '../../common/errors.js';
import { CHIP_FAMILIES, type ChipFamilyName } from '../../core/payload/chip-families.js';
import { type BlnkoptValues, patchFirmwareTag } from '../../core/payload/firmware-tag-patch.js';
import type { CliCommand, CliIo } from './command.js';

/** A patched image holds an AuthToken: readable by the owner only. */
const SECRET_FILE_MODE = 0o600;

const USAGE = `flashline fw patch IN.bin OUT.bin (--auth TOKEN | --auth-file FILE) [options]
  Fills the classic Blynk.Edgent "blnkopt" tag inside an application image, in place (same length),
  and recomputes the image checksum and appended SHA-256. The token is never printed.
  --auth TOKEN        the device's AuthToken (visible to other users in the process list:
                      prefer --auth-file)
  --auth-file FILE    read the AuthToken from the first line of FILE
  --host HOST         Blynk server (kept from the tag when not given)
  --port N            Blynk server port (kept from the tag when not given)
  --ssid SSID         Wi-Fi network; classic Edgent uses the tag only when it has ssid and auth
  --pass PASSWORD     Wi-Fi password
  --chip FAMILY       refuse an image built for another chip (${CHIP_FAMILIES.join(', ')});
                      needed for ESP8266 images`;

function usageError(io: CliIo, message: string): number {
  io.err(`${message}\n\nUsage: ${USAGE}\n`);
  return 2;
}

function readAuthFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw stationError('INVALID_INPUT', `The AuthToken file "${path}" could not be read.`, true);
  }
  return (text.split(/\r?\n/)[0] ?? '').trim();
}

async function runPatch(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      auth: { type: 'string' },
      'auth-file': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      ssid: { type: 'string' },
      pass: { type: 'string' },
      chip: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  // Never echo positionals: a token typed without --auth would land here.
  if (positionals.length !== 2) return usageError(io, `fw patch takes IN.bin and OUT.bin (${positionals.length} arguments given).`);
  if ((values.auth === undefined) === (values['auth-file'] === undefined)) return usageError(io, 'Give the AuthToken with exactly one of --auth or --auth-file.');
  let port: number | undefined;
  if (values.port !== undefined) {
    if (!/^\d{1,5}$/.test(values.port)) return usageError(io, '--port must be a whole number from 1 to 65535.');
    port = Number(values.port);
  }
  let chip: ChipFamilyName | undefined;
  if (values.chip !== undefined) {
    const found = CHIP_FAMILIES.find((c) => c.toLowerCase() === values.chip!.toLowerCase());
    if (!found) return usageError(io, `--chip must be one of ${CHIP_FAMILIES.join(', ')}.`);
    chip = found;
  }
  const [inPath, outPath] = positionals as [string, string];
  let input: Uint8Array;
  try {
    input = new Uint8Array(readFileSync(inPath));
  } catch {
    throw stationError('INVALID_INPUT', `The firmware "${inPath}" could not be read.`, true);
  }
  const patchValues: BlnkoptValues = {
    auth: values.auth ?? readAuthFile(values['auth-file']!),
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(values.ssid !== undefined ? { ssid: values.ssid } : {}),
    ...(values.pass !== undefined ? { pass: values.pass } : {}),
  };
  const result = patchFirmwareTag(input, patchValues, chip ? { chip } : {});
  writeFileSync(resolve(outPath), result.image, { mode: SECRET_FILE_MODE });
  const { tag, parsed } = result;
  io.out(
    `Patched the blnkopt tag at 0x${tag.offset.toString(16)} (${tag.length} bytes, ${tag.spareBytes} spare): keys ${tag.keys.join(', ')}.\n` +
      `Image for ${parsed.family ?? 'an unknown chip'}: checksum${parsed.sha256Offset !== undefined ? ' and SHA-256' : ''} updated. Wrote ${resolve(outPath)}.\n`,
  );
  if (!tag.keys.includes('ssid')) {
    io.out('Note: the tag has no ssid; classic Blynk.Edgent reads the tag only when it holds both ssid and auth.\n');
  }
  return 0;
}

export const fwPatchCommand: CliCommand = {
  name: 'fw patch',
  usage: USAGE,
  summary: 'Write an AuthToken (and host, port, Wi-Fi) into a firmware image\'s blnkopt tag',
  run: runPatch,
};
