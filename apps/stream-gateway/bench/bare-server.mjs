// The baseline for the gateway bench: a bare Fastify route doing one Redis GET.
import { createRequestConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import Fastify from 'fastify';

const redis = createRequestConnection(loadRedisConfig(), { commandTimeoutMs: 1000 });
const app = Fastify({ logger: false });
app.get('/get', async () => ({ value: await redis.get('bench:key') }));
const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(JSON.stringify({ msg: 'listening', address }));
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
