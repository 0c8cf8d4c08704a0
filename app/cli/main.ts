import type { CliIo } from './command.js';
import { COMMANDS } from './commands.js';
import { StationError } from '../../common/errors.js';

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'flashline — the Flashline station',
    '',
    'Usage: flashline <command> [options]     (flashline help <command> for its options)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}

/** Longest command name first, so "nvs generate" wins over a command named "nvs". */
function findCommand(argv: string[]): { command: (typeof COMMANDS)[number]; rest: string[] } | null {
  const sorted = [...COMMANDS].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  for (const command of sorted) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { command, rest: argv.slice(words.length) };
  }
  return null;
}

export async function main(argv: string[], io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    const found = argv[0] === 'help' ? findCommand(argv.slice(1)) : null;
    io.out(found ? `Usage: ${found.command.usage}\n` : help());
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    io.err(`Unknown command "${argv.join(' ')}".\n\n${help()}`);
    return 2;
  }
  try {
    return await found.command.run(found.rest, io);
  } catch (err) {
    if (err instanceof StationError) {
      io.err(`${err.message}\n`);
      return 1;
    }
    if (err instanceof TypeError && 'code' in err && String((err as { code: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      io.err(`${err.message}\n\nUsage: ${found.command.usage}\n`);
      return 2;
    }
    throw err;
  }
}
