import { resolve } from 'node:path';
import { loadRedisConfig, type RedisConfig } from '@nself-tv/redis-keys';
import { SESSION_DEFAULTS } from '@nself-tv/sessions';
import { type HlsLayout, hlsLayoutFromEnv, type MediaStorage, storageFromEnv } from '@nself-tv/storage';
import { ConfigError, configFrom, parseEnv, serviceEnvFields } from '@nself-tv/worker-http/service';
import { z } from 'zod';

/** Thrown at start-up; the message names the variable and what is expected. */
export { ConfigError };

const HASURA = '/https:~1~1hasura.io~1jwt~1claims';

/** Everything the gateway reads from the environment. */
export interface GatewayConfig {
  port: number;
  host: string;
  logLevel: string;
  redis: RedisConfig;
  auth: {
    secret: Uint8Array | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    /** Claim paths tried in order: a claim name, or a JSON Pointer (RFC 6901) starting with '/'. */
    userIdClaims: string[];
    familyIdClaims: string[];
    roleClaims: string[];
    /** Clock difference allowed on `exp`, `nbf` and `iat`, in seconds. */
    clockSkewSeconds: number;
  };
  playback: { secret: Uint8Array; ttlSeconds: number; issuer: string };
  sessions: {
    ttlSeconds: number;
    maxFamilyStreams: number;
    maxDeviceStreams: number;
    heartbeatIntervalSeconds: number;
  };
  bodyLimitBytes: number;
  admitRateLimitPerMinute: number;
  playbackFiles: {
    /** The media store the ingest writes to (`MEDIA_ROOT`). */
    mediaRoot: string;
    /** The store playback reads: `STORAGE=fs` (files under `MEDIA_ROOT`) or `s3` (`S3_*`). */
    storage: MediaStorage;
    /** Where a media item's HLS lives (`HLS_BUCKET`, `HLS_PREFIX`), the ingest's rule. */
    layout: HlsLayout;
    /** Base URL clients reach the gateway at (`PUBLIC_URL`); unset: the request's host. */
    publicUrl: string | undefined;
    /** Lifetime of admit's `mediaUrl` (`PLAYBACK_URL_TTL_SECONDS`). */
    urlTtlSeconds: number;
  };
  /** Serve the development player at `/dev/player` (`DEV_PLAYER`). */
  devPlayer: boolean;
  /**
   * Who may play what, decided at admit (`PLAYBACK_ACCESS`): `owner` (the families the ingest
   * recorded), `any` (every signed-in family), or the URL of the deployment's decision endpoint.
   */
  access: { kind: 'owner' } | { kind: 'any' } | { kind: 'remote'; url: string };
  /** Origins whose web apps may call the gateway from the browser (`CORS_ORIGINS`); empty: none, `['*']`: any. */
  corsOrigins: string[];
  /** Proxies whose `X-Forwarded-*` headers are believed (`TRUST_PROXY`), as Fastify's `trustProxy`. */
  trustProxy: boolean | string[];
}

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `expected at least ${min}`).max(max, `expected at most ${max}`));
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

const schema = z.object({
  ...serviceEnvFields(5003),
  AUTH_JWT_SECRET: z.string().optional(),
  AUTH_JWKS_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  AUTH_JWT_ISSUER: z.string().min(1).optional(),
  AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
  AUTH_CLAIM_USER_ID: list.default([`${HASURA}/x-hasura-user-id`, 'sub']),
  AUTH_CLAIM_FAMILY_ID: list.default([`${HASURA}/x-hasura-family-id`, 'family_id']),
  AUTH_CLAIM_ROLE: list.default([`${HASURA}/x-hasura-default-role`, 'role']),
  AUTH_CLOCK_SKEW_SECONDS: int(0, 300).default(60),
  PLAYBACK_JWT_SECRET: z.string({ error: 'is required (at least 32 bytes)' }),
  PLAYBACK_TOKEN_TTL_SECONDS: int(60, 7 * 24 * 3600).default(4 * 3600),
  SESSION_TTL_SECONDS: int(1, 86_400).default(SESSION_DEFAULTS.ttlSeconds),
  MAX_FAMILY_STREAMS: int(1, 1000).default(SESSION_DEFAULTS.maxFamilyStreams),
  MAX_DEVICE_STREAMS: int(1, 100).default(SESSION_DEFAULTS.maxDeviceStreams),
  HEARTBEAT_INTERVAL_SECONDS: int(1, 3600).default(60),
  BODY_LIMIT_BYTES: int(256, 1_048_576).default(8192),
  ADMIT_RATE_LIMIT_PER_MINUTE: int(1, 100_000).default(30),
  MEDIA_ROOT: z.string().min(1).default('./media'),
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  PLAYBACK_URL_TTL_SECONDS: int(60, 86_400).default(1800),
  DEV_PLAYER: z.enum(['true', 'false', '1', '0'], { error: 'expected true or false' }).default('false'),
  PLAYBACK_ACCESS: z
    .union([z.enum(['owner', 'any']), z.url({ protocol: /^https?$/, error: 'expected owner, any or an http(s) URL' })])
    .default('owner'),
  CORS_ORIGINS: list
    .pipe(
      z.array(
        z.union([
          z.literal('*'),
          z
            .url({ protocol: /^https?$/, error: 'expected * or origins like https://tv.example.com' })
            .refine(
              (o) => !o.includes('*') && URL.canParse(o) && new URL(o).origin === o,
              'an origin is scheme://host[:port], with no path or wildcard',
            ),
        ]),
      ),
    )
    .default([]),
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)$/, 'expected true, false or proxy addresses (CIDR)')
    .default('false'),
});

const trustProxyOf = (value: string): boolean | string[] =>
  value === 'true' ? true : value === 'false' ? false : value.split(',');

const secret = (name: string, value: string | undefined): Uint8Array => {
  const bytes = new TextEncoder().encode(value ?? '');
  if (bytes.length < 32) {
    throw new ConfigError(
      `${name} must be at least 32 bytes (got ${bytes.length}); generate one with: openssl rand -base64 48`,
    );
  }
  return bytes;
};

/** Reads and validates the configuration; throws {@link ConfigError} naming the variable at fault. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const e = parseEnv(schema, env);
  if (!e.AUTH_JWT_SECRET && !e.AUTH_JWKS_URL) {
    throw new ConfigError('AUTH_JWT_SECRET or AUTH_JWKS_URL is required to verify callers’ tokens');
  }
  const authSecret = e.AUTH_JWT_SECRET ? secret('AUTH_JWT_SECRET', e.AUTH_JWT_SECRET) : undefined;
  const playbackSecret = secret('PLAYBACK_JWT_SECRET', e.PLAYBACK_JWT_SECRET);
  // One secret for both would let a playback token (handed to players, put in URLs) pass as a caller token.
  if (e.AUTH_JWT_SECRET !== undefined && e.AUTH_JWT_SECRET === e.PLAYBACK_JWT_SECRET) {
    throw new ConfigError('PLAYBACK_JWT_SECRET must differ from AUTH_JWT_SECRET');
  }
  const layout = configFrom(() => hlsLayoutFromEnv(env));
  const redis = configFrom(() => loadRedisConfig(env, 'sessions'));
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    redis,
    auth: {
      secret: authSecret,
      jwksUrl: e.AUTH_JWKS_URL,
      issuer: e.AUTH_JWT_ISSUER,
      audience: e.AUTH_JWT_AUDIENCE,
      userIdClaims: e.AUTH_CLAIM_USER_ID,
      familyIdClaims: e.AUTH_CLAIM_FAMILY_ID,
      roleClaims: e.AUTH_CLAIM_ROLE,
      clockSkewSeconds: e.AUTH_CLOCK_SKEW_SECONDS,
    },
    playback: { secret: playbackSecret, ttlSeconds: e.PLAYBACK_TOKEN_TTL_SECONDS, issuer: 'stream_gateway' },
    sessions: {
      ttlSeconds: e.SESSION_TTL_SECONDS,
      maxFamilyStreams: e.MAX_FAMILY_STREAMS,
      maxDeviceStreams: e.MAX_DEVICE_STREAMS,
      heartbeatIntervalSeconds: e.HEARTBEAT_INTERVAL_SECONDS,
    },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    admitRateLimitPerMinute: e.ADMIT_RATE_LIMIT_PER_MINUTE,
    playbackFiles: {
      mediaRoot: resolve(e.MEDIA_ROOT),
      storage: configFrom(() => storageFromEnv(env, resolve(e.MEDIA_ROOT))),
      layout,
      publicUrl: e.PUBLIC_URL,
      urlTtlSeconds: e.PLAYBACK_URL_TTL_SECONDS,
    },
    devPlayer: e.DEV_PLAYER === 'true' || e.DEV_PLAYER === '1',
    access:
      e.PLAYBACK_ACCESS === 'owner' || e.PLAYBACK_ACCESS === 'any'
        ? { kind: e.PLAYBACK_ACCESS }
        : { kind: 'remote', url: e.PLAYBACK_ACCESS },
    corsOrigins: e.CORS_ORIGINS,
    trustProxy: trustProxyOf(e.TRUST_PROXY),
  };
}
