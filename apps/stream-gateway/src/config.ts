import { type RedisConfig, redisSettings } from '@nself-tv/redis-keys';
import {
  ConfigError,
  defineSettings,
  type Env,
  flag,
  parseSettings,
  type SettingProblem,
  serviceSettings,
  wholeNumber,
} from '@nself-tv/service/settings';
import { SESSION_DEFAULTS } from '@nself-tv/sessions';
import { type HlsLayout, hlsLayoutSettings, type StorageConfig, storageSettings } from '@nself-tv/storage';
import { z } from 'zod';

/** Thrown at start-up; the message names every variable at fault and what is expected. */
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
    /** The store playback reads: `STORAGE=fs` (files under `MEDIA_ROOT`) or `s3` (`S3_*`), opened by the app. */
    store: StorageConfig;
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

const int = wholeNumber;
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** The problem with a secret, or the secret as bytes. */
const secret = (name: string, value: string | undefined): Uint8Array | SettingProblem => {
  const bytes = new TextEncoder().encode(value ?? '');
  return bytes.length >= 32
    ? bytes
    : {
        variable: name,
        message: `must be at least 32 bytes (got ${bytes.length}); generate one with: openssl rand -base64 48`,
      };
};

const httpUrl = (error: string) => z.url({ protocol: /^https?$/, error });

/** The gateway's own variables: callers' tokens, playback grants, stream limits, the browser and proxies. */
export const gatewaySettings = defineSettings(
  'stream-gateway',
  {
    AUTH_JWT_SECRET: z
      .string()
      .optional()
      .meta({ description: "HS256 secret of callers' tokens (32+ bytes).", shown: 'this or `AUTH_JWKS_URL`' }),
    AUTH_JWKS_URL: httpUrl('expected an http(s) URL')
      .optional()
      .meta({ description: "JWKS endpoint of callers' tokens.", shown: 'this or `AUTH_JWT_SECRET`' }),
    AUTH_JWT_ISSUER: z.string().min(1).optional().meta({ description: 'Checked when set.' }),
    AUTH_JWT_AUDIENCE: z.string().min(1).optional().meta({ description: 'Checked when set.' }),
    AUTH_CLAIM_USER_ID: list
      .default([`${HASURA}/x-hasura-user-id`, 'sub'])
      .meta({ description: 'Claim paths tried in order (a name, or a JSON Pointer).', shown: 'Hasura’s, then `sub`' }),
    AUTH_CLAIM_FAMILY_ID: list
      .default([`${HASURA}/x-hasura-family-id`, 'family_id'])
      .meta({ description: 'Claim paths tried in order.', shown: 'Hasura’s, then `family_id`' }),
    AUTH_CLAIM_ROLE: list.default([`${HASURA}/x-hasura-default-role`, 'role']).meta({
      description: 'Claim paths tried in order; role `restricted` gets 403 `policy_denied`.',
      shown: 'Hasura’s, then `role`',
    }),
    AUTH_CLOCK_SKEW_SECONDS: int(0, 300)
      .default(60)
      .meta({ description: 'Clock difference allowed on `exp`, `nbf` and `iat` (0–300).' }),
    PLAYBACK_JWT_SECRET: z.string({ error: 'is required (at least 32 bytes)' }).meta({
      description: 'Signs playback tokens and URLs (32+ bytes; not the same as `AUTH_JWT_SECRET`).',
      shown: 'required',
    }),
    PLAYBACK_TOKEN_TTL_SECONDS: int(60, 7 * 24 * 3600)
      .default(4 * 3600)
      .meta({ description: 'Playback token lifetime.' }),
    SESSION_TTL_SECONDS: int(1, 86_400)
      .default(SESSION_DEFAULTS.ttlSeconds)
      .meta({ description: 'Session lifetime, renewed by each heartbeat.' }),
    MAX_FAMILY_STREAMS: int(1, 1000)
      .default(SESSION_DEFAULTS.maxFamilyStreams)
      .meta({ description: 'Concurrent streams of one family.' }),
    MAX_DEVICE_STREAMS: int(1, 100)
      .default(SESSION_DEFAULTS.maxDeviceStreams)
      .meta({ description: 'Concurrent streams of one device.' }),
    HEARTBEAT_INTERVAL_SECONDS: int(1, 3600).default(60).meta({ description: 'What clients are told.' }),
    BODY_LIMIT_BYTES: int(256, 1_048_576)
      .default(8192)
      .meta({ description: 'Larger bodies get 413 `payload_too_large`.' }),
    ADMIT_RATE_LIMIT_PER_MINUTE: int(1, 100_000)
      .default(30)
      .meta({ description: 'Admissions per user and minute, per process.' }),
    PUBLIC_URL: httpUrl('expected an http(s) URL')
      .optional()
      .meta({ description: 'Base URL clients reach the gateway at, for `mediaUrl`.', shown: "the request's host" }),
    PLAYBACK_URL_TTL_SECONDS: int(60, 86_400)
      .default(1800)
      .meta({ description: "Lifetime of admit's signed `mediaUrl`." }),
    DEV_PLAYER: flag(false).meta({
      description: 'Serve the development player at `/dev/player` (never in production).',
    }),
    PLAYBACK_ACCESS: z
      .union([z.enum(['owner', 'any']), httpUrl('expected owner, any or an http(s) URL')])
      .default('owner')
      .meta({
        description:
          "Who may play what, at admit: `owner` (the families the ingest recorded in the item's `access.json`), `any` (every signed-in family), or your catalogue's decision URL.",
      }),
    CORS_ORIGINS: list
      .pipe(
        z.array(
          z.union([
            z.literal('*'),
            httpUrl('expected * or origins like https://tv.example.com').refine(
              (o) => !o.includes('*') && URL.canParse(o) && new URL(o).origin === o,
              'an origin is scheme://host[:port], with no path or wildcard',
            ),
          ]),
        ),
      )
      .default([])
      .meta({
        description:
          'Origins (`https://tv.example.com,…` or `*`) whose web apps may call `/api/` and `/play/` from the browser; unset: none.',
      }),
    TRUST_PROXY: z
      .string()
      .regex(/^(true|false|[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)$/, 'expected true, false or proxy addresses (CIDR)')
      .default('false')
      .meta({
        description:
          "`true` or the proxies' addresses: their `X-Forwarded-Host`/`-Proto` make admit's `mediaUrl` (behind nginx).",
      }),
  },
  (e) => {
    const problems: SettingProblem[] = [];
    const bytes = (name: string, value: string | undefined) => {
      const result = secret(name, value);
      if (result instanceof Uint8Array) return result;
      problems.push(result);
      return new Uint8Array();
    };
    if (!e.AUTH_JWT_SECRET && !e.AUTH_JWKS_URL) {
      problems.push({
        variable: '',
        message: 'AUTH_JWT_SECRET or AUTH_JWKS_URL is required to verify callers’ tokens',
      });
    }
    const authSecret = e.AUTH_JWT_SECRET ? bytes('AUTH_JWT_SECRET', e.AUTH_JWT_SECRET) : undefined;
    const playbackSecret = bytes('PLAYBACK_JWT_SECRET', e.PLAYBACK_JWT_SECRET);
    // One secret for both would let a playback token (handed to players, put in URLs) pass as a caller token.
    if (e.AUTH_JWT_SECRET !== undefined && e.AUTH_JWT_SECRET === e.PLAYBACK_JWT_SECRET) {
      problems.push({ variable: 'PLAYBACK_JWT_SECRET', message: 'must differ from AUTH_JWT_SECRET' });
    }
    if (problems.length) throw new ConfigError(problems);
    return { ...e, authSecret, playbackSecret };
  },
);

/** Every variable the gateway reads, in the order of its README tables. */
export const gatewayAppSettings = {
  service: serviceSettings(5003),
  gateway: gatewaySettings,
  store: storageSettings,
  layout: hlsLayoutSettings,
  redis: redisSettings('sessions'),
};

const trustProxyOf = (value: string): boolean | string[] =>
  value === 'true' ? true : value === 'false' ? false : value.split(',');

/** Reads and validates the configuration; throws one {@link ConfigError} naming every variable at fault. */
export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const { service, gateway: e, store, layout, redis } = parseSettings(gatewayAppSettings, env);
  return {
    port: service.PORT,
    host: service.HOST,
    logLevel: service.LOG_LEVEL,
    redis,
    auth: {
      secret: e.authSecret,
      jwksUrl: e.AUTH_JWKS_URL,
      issuer: e.AUTH_JWT_ISSUER,
      audience: e.AUTH_JWT_AUDIENCE,
      userIdClaims: e.AUTH_CLAIM_USER_ID,
      familyIdClaims: e.AUTH_CLAIM_FAMILY_ID,
      roleClaims: e.AUTH_CLAIM_ROLE,
      clockSkewSeconds: e.AUTH_CLOCK_SKEW_SECONDS,
    },
    playback: { secret: e.playbackSecret, ttlSeconds: e.PLAYBACK_TOKEN_TTL_SECONDS, issuer: 'stream_gateway' },
    sessions: {
      ttlSeconds: e.SESSION_TTL_SECONDS,
      maxFamilyStreams: e.MAX_FAMILY_STREAMS,
      maxDeviceStreams: e.MAX_DEVICE_STREAMS,
      heartbeatIntervalSeconds: e.HEARTBEAT_INTERVAL_SECONDS,
    },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    admitRateLimitPerMinute: e.ADMIT_RATE_LIMIT_PER_MINUTE,
    playbackFiles: {
      store,
      layout,
      publicUrl: e.PUBLIC_URL,
      urlTtlSeconds: e.PLAYBACK_URL_TTL_SECONDS,
    },
    devPlayer: e.DEV_PLAYER,
    access:
      e.PLAYBACK_ACCESS === 'owner' || e.PLAYBACK_ACCESS === 'any'
        ? { kind: e.PLAYBACK_ACCESS }
        : { kind: 'remote', url: e.PLAYBACK_ACCESS },
    corsOrigins: e.CORS_ORIGINS,
    trustProxy: trustProxyOf(e.TRUST_PROXY),
  };
}
