import { createRequestConnection, describeRedisConfig } from '@nself-tv/redis-keys';
import { runService } from '@nself-tv/service';
import { buildGateway } from './app.js';
import { loadGatewayConfig } from './config.js';

/** Longest a stop waits for in-flight requests before the process leaves anyway. */
const STOP_DEADLINE_MS = 10_000;

await runService('stream-gateway', async () => {
  const config = loadGatewayConfig();
  const connection = createRequestConnection(config.redis, {
    commandTimeoutMs: 1000,
    connectionName: 'stream-gateway',
  });
  const app = await buildGateway(config, { connection });
  connection.on('error', (error) => app.log.warn({ err: error.message }, 'redis connection error'));
  const address = await app.listen({ port: config.port, host: config.host });
  app.log.info({ address, redis: describeRedisConfig(config.redis) }, 'stream-gateway listening');
  return {
    address,
    async stop(signal) {
      app.log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
      const late = new Promise<false>((resolve) => setTimeout(() => resolve(false), STOP_DEADLINE_MS).unref());
      // The app's onClose hook closes Redis and flushes the log.
      return Promise.race([
        app.close().then(
          () => true,
          () => false,
        ),
        late,
      ]);
    },
  };
});
