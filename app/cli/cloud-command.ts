import { parseArgs } from 'node:util';
import { startCloudServer } from '../../cloud/server.js';
import type { CliCommand, CliIo } from './command.js';

const DEFAULT_DB = 'flashline-cloud.db';
const DEFAULT_PORT = 8080;

const USAGE = `flashline cloud [options]
  --db PATH|URL    SQLite file (default ./${DEFAULT_DB}) or a postgres://user@host:port/db URL
  --port N         port (default ${DEFAULT_PORT}; 0 picks a free one)
  --host ADDR      listen address (default 127.0.0.1; anything else exposes the service)
  --quiet          no request log on stderr
Environment: FLASHLINE_CLOUD_CLIENT_ID / FLASHLINE_CLOUD_CLIENT_SECRET fix the seeded OAuth2 client
(otherwise a fresh secret is made and printed once at each start).`;

/**
 * Runs the cloud service until `stop` resolves. Prints the URL and the seeded API client's
 * credentials once; the secret only when this start made it (one from the environment is the
 * operator's and is not echoed).
 */
export async function runCloud(args: string[], io: CliIo, stop: Promise<void>): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { db: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, quiet: { type: 'boolean' } },
    strict: true,
  });
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    io.err('--port must be a whole number from 0 to 65535.\n');
    return 2;
  }
  const env = process.env;
  const server = await startCloudServer({
    host: values.host ?? '127.0.0.1',
    port,
    dbPath: values.db ?? DEFAULT_DB,
    seed: {
      ...(env.FLASHLINE_CLOUD_CLIENT_ID ? { clientId: env.FLASHLINE_CLOUD_CLIENT_ID } : {}),
      ...(env.FLASHLINE_CLOUD_CLIENT_SECRET ? { clientSecret: env.FLASHLINE_CLOUD_CLIENT_SECRET } : {}),
    },
    log: values.quiet ? () => undefined : (line) => io.err(`${line}\n`),
  });
  const { orgId, templateId, clientId, clientSecret } = server.seed;
  const store = /^postgres(ql)?:/i.test(values.db ?? '') ? 'PostgreSQL' : `SQLite (${values.db ?? DEFAULT_DB})`;
  io.out(
    [
      'Flashline cloud is running.',
      `URL:           ${server.url}`,
      `Store:         ${store}`,
      `Organisation:  ${orgId} (template ${templateId})`,
      `Client ID:     ${clientId}`,
      `Client secret: ${env.FLASHLINE_CLOUD_CLIENT_SECRET ? '(from FLASHLINE_CLOUD_CLIENT_SECRET)' : clientSecret}`,
      'API:           cloud/openapi.json. Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  await stop;
  await server.close();
  return 0;
}

export const cloudCommand: CliCommand = {
  name: 'cloud',
  usage: USAGE,
  summary: 'Run the cloud service (Blynk-compatible static-token lifecycle) on 127.0.0.1',
  run: (args, io) =>
    runCloud(
      args,
      io,
      new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      }),
    ),
};
