// Shared by this app's tests only.
import { Writable } from 'node:stream';
import { createRequestConnection, keyspaceFor, waitForReady } from '@nself-tv/redis-keys';
import type { TestRedis } from '@nself-tv/test-redis';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { afterAll } from 'vitest';
import { buildGateway } from './app.js';
import { loadGatewayConfig } from './config.js';

export const AUTH_SECRET = 'test-auth-secret-that-is-long-enough-0123456789';
export const PLAYBACK_SECRET = 'test-playback-secret-long-enough-0123456789ab';
const HASURA = 'https://hasura.io/jwt/claims';

/** A caller token as Hasura-style auth issues them. */
export function token(
  userId: string,
  familyId: string,
  options: {
    role?: string;
    secret?: string;
    /** A jose time span, or `null` for a token without `exp`. */
    expiresIn?: string | null;
    audience?: string;
    issuer?: string;
    /** `iat` and `nbf` in seconds since the epoch. @default iat now, no nbf */
    issuedAt?: number;
    notBefore?: number;
  } = {},
) {
  let jwt = new SignJWT({
    [HASURA]: {
      'x-hasura-user-id': userId,
      'x-hasura-family-id': familyId,
      'x-hasura-default-role': options.role ?? 'user',
    },
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt(options.issuedAt);
  if (options.expiresIn !== null) jwt = jwt.setExpirationTime(options.expiresIn ?? '1h');
  if (options.notBefore !== undefined) jwt = jwt.setNotBefore(options.notBefore);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  return jwt.sign(new TextEncoder().encode(options.secret ?? AUTH_SECRET));
}

/** Starts gateways on port 0 against the run's Redis under `namespace`; closes them after the file. */
export interface TestGateway {
  app: FastifyInstance;
  address: string;
  logs: string[];
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: Record<string, any>; headers: Headers }>;
}

export function gatewayKit(
  redis: Pick<TestRedis, 'env' | 'namespace'>,
): (env?: Record<string, string>) => Promise<TestGateway> {
  const { namespace } = redis;
  const apps: FastifyInstance[] = [];
  afterAll(async () => {
    // A response a test did not read to the end keeps its connection busy, and close waits for
    // busy connections: they are cut once closing has begun.
    await Promise.all(
      apps.map((a) => {
        const closed = a.close();
        a.server.closeAllConnections();
        return closed;
      }),
    );
  });
  return async (env: Record<string, string> = {}) => {
    // A test that names its own Redis gets only that one.
    const own = env.REDIS_URL !== undefined || env.REDIS_CLUSTER_NODES !== undefined;
    const config = loadGatewayConfig({
      ...(own ? {} : redis.env),
      AUTH_JWT_SECRET: AUTH_SECRET,
      PLAYBACK_JWT_SECRET: PLAYBACK_SECRET,
      LOG_LEVEL: 'info',
      // Session tests admit any media id; who may play what has its own tests (PLAYBACK_ACCESS=owner).
      PLAYBACK_ACCESS: 'any',
      ...env,
    });
    const logs: string[] = [];
    const logStream = new Writable({
      write(chunk, _enc, done) {
        logs.push(...chunk.toString().trim().split('\n'));
        done();
      },
    });
    const connection = createRequestConnection(config.redis, { commandTimeoutMs: 1000 });
    connection.on('error', () => undefined);
    const app = await buildGateway(config, { connection, keyspace: keyspaceFor(connection, { namespace }), logStream });
    apps.push(app);
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    // As a load balancer would, start sending once the gateway is ready (a cluster's request path
    // refuses until it is up); a test about a Redis that is away goes on after a short wait.
    await waitForReady(connection, 3000).catch(() => undefined);
    const call = async (
      method: string,
      path: string,
      options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
    ) => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined;
      if (options.raw !== undefined) body = options.raw;
      else if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      const res = await fetch(`${address}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text);
      } catch {
        json = { text };
      }
      return { status: res.status, body: json as Record<string, any>, headers: res.headers as Headers };
    };
    return { app, address, call, logs };
  };
}
