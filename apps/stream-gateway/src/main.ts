import { createRequestConnection, describeRedisConfig } from '@nself-tv/redis-keys';
import { buildGateway } from './app.js';
import { ConfigError, loadGatewayConfig } from './config.js';

async function main() {
  let config: ReturnType<typeof loadGatewayConfig>;
  try {
    config = loadGatewayConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`stream-gateway: refusing to start: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const connection = createRequestConnection(config.redis, {
    commandTimeoutMs: 1000,
    connectionName: 'stream-gateway',
  });
  const app = await buildGateway(config, { connection });
  connection.on('error', (error) => app.log.warn({ err: error.message }, 'redis connection error'));
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const address = await app.listen({ port: config.port, host: config.host });
  app.log.info({ address, redis: describeRedisConfig(config.redis) }, 'stream-gateway listening');
}

main().catch((error) => {
  process.stderr.write(`stream-gateway: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
