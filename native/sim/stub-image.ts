import { getStubJsonByChipName } from 'esptool-js';
import type { ChipProfile } from './chip-profiles.js';

/**
 * The flasher stub a host uploads with MEM_BEGIN/MEM_DATA/MEM_END. The simulated ROM "runs" the stub
 * when the bytes in RAM at the stub's text and data addresses are exactly the ones esptool-js ships
 * (esp-flasher-stub, in `lib/targets/stub_flasher/<chip>.json`) and MEM_END jumps to its entry; with
 * the `any` stub policy (rom-protocol.ts) also any other complete image, such as esptool.py's stub.
 * Anything else is code the simulation cannot run, and the chip goes quiet like a crashed RAM app.
 */
export interface StubImage {
  entry: number;
  textStart: number;
  text: Uint8Array;
  dataStart: number;
  data: Uint8Array;
}

const cache = new Map<string, Promise<StubImage | undefined>>();

export function loadStubImage(profile: ChipProfile): Promise<StubImage | undefined> {
  let pending = cache.get(profile.esptoolName);
  if (!pending) {
    pending = getStubJsonByChipName(profile.esptoolName).then((stub) =>
      stub
        ? {
            entry: stub.entry,
            textStart: stub.text_start,
            text: stub.decodedText,
            dataStart: stub.data_start,
            data: stub.decodedData,
          }
        : undefined,
    );
    cache.set(profile.esptoolName, pending);
  }
  return pending;
}
