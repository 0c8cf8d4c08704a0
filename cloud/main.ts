/**
 * Runs the cloud service on its own: `npx tsx cloud/main.ts`.
 *
 *   FLASHLINE_CLOUD_HOST           listen address (default 127.0.0.1)
 *   FLASHLINE_CLOUD_PORT           port (default 8080; 0 picks a free one)
 *   FLASHLINE_CLOUD_DB             SQLite file or postgres:// URL (default :memory:)
 *   FLASHLINE_CLOUD_CLIENT_ID      OAuth2 client id to seed (default: random)
 *   FLASHLINE_CLOUD_CLIENT_SECRET  its secret (default: random, printed once on stdout)
 */
import { startCloudServer } from './server.js';

const env = process.env;
const server = await startCloudServer({
  host: env.FLASHLINE_CLOUD_HOST ?? '127.0.0.1',
  port: Number(env.FLASHLINE_CLOUD_PORT ?? 8080),
  dbPath: env.FLASHLINE_CLOUD_DB ?? ':memory:',
  seed: {
    ...(env.FLASHLINE_CLOUD_CLIENT_ID ? { clientId: env.FLASHLINE_CLOUD_CLIENT_ID } : {}),
    ...(env.FLASHLINE_CLOUD_CLIENT_SECRET ? { clientSecret: env.FLASHLINE_CLOUD_CLIENT_SECRET } : {}),
  },
});
const { orgId, templateId, clientId, clientSecret } = server.seed;
process.stdout.write(
  `${JSON.stringify({
    url: server.url,
    orgId,
    templateId,
    clientId,
    // The operator chose the secret when it came from the environment: do not echo it back.
    clientSecret: env.FLASHLINE_CLOUD_CLIENT_SECRET ? '(from FLASHLINE_CLOUD_CLIENT_SECRET)' : clientSecret,
  })}\n`,
);

const stop = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
