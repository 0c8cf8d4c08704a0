#!/usr/bin/env node
// The `flashline` command. The station is written in TypeScript and runs from source through tsx
// (esbuild), so the CLI, the tests and browser mode all run the very same modules.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../app/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
