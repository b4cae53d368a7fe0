// The baselines for the gateway bench: bare Fastify routes doing one Redis GET.
import { createRequestConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import Fastify from 'fastify';

const redis = createRequestConnection(loadRedisConfig(), { commandTimeoutMs: 1000 });
const app = Fastify({ logger: false });
app.get('/get', async () => ({ value: await redis.get('bench:key') }));
// The same with a small JSON body, for routes whose clients send one.
app.post('/get', async (request) => ({ value: await redis.get('bench:key'), deviceId: request.body?.deviceId }));
const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(JSON.stringify({ msg: 'listening', address }));
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
