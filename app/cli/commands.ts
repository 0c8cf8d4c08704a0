import { batchExportCommand, batchImportCommand } from './batch-command.js';
import { cloudCommand } from './cloud-command.js';
import type { CliCommand } from './command.js';
import { fwPatchCommand } from './fw-command.js';
import { nvsGenerateCommand, nvsMfgCommand } from './nvs-command.js';
import { simCommand } from './sim-command.js';
import { serveCommand, startCommand } from './station-commands.js';

/** Every `flashline` sub-command. Add a command by adding its module here. */
export const COMMANDS: readonly CliCommand[] = [startCommand, serveCommand, batchExportCommand, batchImportCommand, nvsGenerateCommand, nvsMfgCommand, fwPatchCommand, simCommand, cloudCommand];
