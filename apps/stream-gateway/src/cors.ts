import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/** The routes a web app on another origin calls: the session API and playback. Probes and docs stay same-origin. */
const CROSS_ORIGIN_ROUTES = /^\/(api|play)\//;

/**
 * Lets web apps served from `origins` (or any origin, `['*']`) call the session API and play:
 * the answers carry `Access-Control-Allow-Origin`, and preflights of the headers the web client
 * and HLS players send (`Authorization`, `Content-Type`, `X-Device-Id`, `Range`) are answered.
 * No cookies are involved (callers send a bearer token, players a signed URL), so credentials
 * are never allowed. Without `CORS_ORIGINS` nothing is registered: browsers keep every other
 * origin out, the safe default.
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  await app.register(cors, {
    hook: 'onRequest',
    delegator: (request, done) => {
      if (!CROSS_ORIGIN_ROUTES.test(request.url)) return done(null, { origin: false });
      return done(null, {
        origin: any ? '*' : (origin, ok) => ok(null, origin !== undefined && allowed.has(origin) ? origin : false),
        methods: ['GET', 'HEAD', 'POST', 'DELETE'],
        allowedHeaders: ['authorization', 'content-type', 'x-device-id', 'x-request-id', 'range'],
        exposedHeaders: ['x-request-id', 'retry-after', 'content-length', 'content-range'],
        credentials: false,
        maxAge: 600,
        strictPreflight: true,
      });
    },
  });
}
