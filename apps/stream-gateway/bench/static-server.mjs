// The baseline for segment serving: the same files from a bare @fastify/static server.
import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';

const app = Fastify({ logger: false });
await app.register(fastifyStatic, { root: process.env.MEDIA_ROOT });
const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(JSON.stringify({ msg: 'listening', address }));
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
