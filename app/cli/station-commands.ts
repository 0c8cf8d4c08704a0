import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startBrowserMode } from '../browser-mode.js';
import { electronBinary } from '../electron-launcher.js';
import type { CliCommand, CliIo } from './command.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const STATION_OPTIONS = `  --data-dir DIR     station data folder (default: the user-data folder, or FLASHLINE_DATA_DIR)
  --port N           browser mode port on 127.0.0.1 (default: a free port)
  --slots N          fixture positions, 1-8 (default 2)
  --boards N         virtual boards plugged in at start (default 2)
  --in-process       host virtual boards in-process instead of on pseudo-terminals
  --board-host SOCK  use the boards of a board host (native/sim/board-host-main.ts) on this socket
  --usb              use real boards on USB serial bridges instead of virtual ones
  --printer NAME     print label sheets on this CUPS printer (default: save PDFs in the data folder)
  --full-flash       write bootloader, partition table and app too (default: the token payload only)
  --supervisor-pin N set the supervisor PIN (4-12 digits; default: a random PIN, printed at first start)`;

async function runStation(args: string[], io: CliIo, allowElectron: boolean): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      slots: { type: 'string' },
      boards: { type: 'string' },
      'in-process': { type: 'boolean' },
      'board-host': { type: 'string' },
      usb: { type: 'boolean' },
      printer: { type: 'string' },
      'full-flash': { type: 'boolean' },
      auto: { type: 'boolean' },
      'supervisor-pin': { type: 'string' },
    },
    strict: true,
  });
  const slots = values.slots ? Number(values.slots) : 2;
  if (!Number.isInteger(slots) || slots < 1 || slots > 8) {
    io.err('--slots must be a whole number from 1 to 8.\n');
    return 2;
  }
  const boards = values.boards ? Number(values.boards) : 2;
  if (!Number.isInteger(boards) || boards < 0 || boards > slots) {
    io.err('--boards must be a whole number from 0 to the number of slots.\n');
    return 2;
  }
  const port = values.port ? Number(values.port) : 0;
  const supervisorPin = values['supervisor-pin'];
  if (supervisorPin !== undefined && !/^[0-9]{4,12}$/.test(supervisorPin)) {
    io.err('--supervisor-pin must be 4 to 12 digits.\n');
    return 2;
  }

  if (allowElectron) {
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
    io.out('Electron cannot run here: starting in browser mode.\n');
  }

  const station = await startBrowserMode({
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    port,
    slots,
    virtualBoards: boards,
    boardTransport: values['in-process'] ? 'in-process' : 'pty',
    ...(values['board-host'] ? { boardHost: values['board-host'] } : {}),
    hardware: values.usb ? 'usb' : 'virtual',
    ...(values.printer ? { printer: values.printer } : {}),
    plan: values['full-flash'] ? 'full' : 'token-only',
    autoRun: values.auto ?? false,
    ...(supervisorPin !== undefined ? { supervisorPin } : {}),
    log: (line) => io.out(`${new Date().toISOString()} ${line}\n`),
  });
  io.out(`\nFlashline station is running.\nOpen: ${station.url}\nData: ${station.dataDir}\n`);
  if (station.initialSupervisorPin) {
    // Shown this once: only its scrypt hash is stored. Change it with --supervisor-pin.
    io.out(`Supervisor PIN (shown once, write it down): ${station.initialSupervisorPin}\n`);
  }
  io.out('Press Ctrl+C to stop.\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await station.close();
  return 0;
}

export const startCommand: CliCommand = {
  name: 'start',
  usage: `flashline start [options]\n${STATION_OPTIONS}`,
  summary: 'Start the station: an Electron window where Electron can run, otherwise browser mode (URL printed)',
  run: (args, io) => runStation(args, io, true),
};

export const serveCommand: CliCommand = {
  name: 'serve',
  usage: `flashline serve [options]\n${STATION_OPTIONS}`,
  summary: 'Start the station in browser mode on 127.0.0.1 (headless stations, tests)',
  run: (args, io) => runStation(args, io, false),
};
