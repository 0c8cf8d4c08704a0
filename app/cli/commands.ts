import type { CliCommand } from './command.js';
import { serveCommand, startCommand } from './station-commands.js';

/** Every `flashline` sub-command. Add a command by adding its module here. */
export const COMMANDS: readonly CliCommand[] = [startCommand, serveCommand];
