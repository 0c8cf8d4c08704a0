import { parseArgs } from 'node:util';
import { startBrowserMode } from '../browser-mode.js';
import { electronBinary } from '../electron-launcher.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HELP = `flashline — the Flashline station

Usage:
  flashline start [options]   Start the station: an Electron window where Electron can run,
                              otherwise browser mode (UI on 127.0.0.1, URL printed)
  flashline serve [options]   Start in browser mode (headless stations, tests)
  flashline help

Options for start/serve:
  --data-dir DIR     station data folder (default: the user-data folder, or FLASHLINE_DATA_DIR)
  --port N           browser mode port on 127.0.0.1 (default: a free port)
  --slots N          fixture positions, 1-8 (default 2)
  --boards N         virtual boards plugged in at start (default 2)
  --in-process       host virtual boards in-process instead of on pseudo-terminals
`;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command !== 'start' && command !== 'serve') {
    process.stderr.write(`Unknown command "${command}".\n\n${HELP}`);
    return 2;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        slots: { type: 'string' },
        boards: { type: 'string' },
        'in-process': { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const slots = values.slots ? Number(values.slots) : 2;
  if (!Number.isInteger(slots) || slots < 1 || slots > 8) {
    process.stderr.write('--slots must be a whole number from 1 to 8.\n');
    return 2;
  }
  const boards = values.boards ? Number(values.boards) : 2;
  const port = values.port ? Number(values.port) : 0;

  if (command === 'start') {
    const electron = electronBinary();
    if (electron && (process.platform !== 'linux' || process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) {
      const mainJs = join(ROOT, 'dist', 'electron', 'main.js');
      if (!existsSync(mainJs)) {
        const { buildElectron } = await import('../../scripts/build-electron.js');
        await buildElectron();
      }
      const child = spawn(electron, [mainJs], { stdio: 'inherit' });
      return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
    }
    process.stdout.write('Electron cannot run here: starting in browser mode.\n');
  }

  const station = await startBrowserMode({
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    port,
    slots,
    virtualBoards: boards,
    boardTransport: values['in-process'] ? 'in-process' : 'pty',
    log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
  });
  process.stdout.write(`\nFlashline station is running.\nOpen: ${station.url}\nData: ${station.dataDir}\nPress Ctrl+C to stop.\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await station.close();
  return 0;
}
