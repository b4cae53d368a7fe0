import { ConfigError, defineSettings, onOff, type Settings } from '@nself-tv/service/settings';
import { z } from 'zod';
import { RedisConfigError } from './errors.js';

/** A validated, normalised Redis connection setting. */
export interface RedisConfig {
  readonly host: string;
  readonly port: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly db: number;
  readonly tls: boolean;
  /** Which variables it came from, for start-up logs (never includes the password). */
  readonly source: string;
  /**
   * Cluster mode (`REDIS_CLUSTER_NODES`): seed nodes of a Redis Cluster; `host`/`port` are the
   * first of them. Keys then carry hash tags (see `createKeyspace({ cluster: true })`).
   */
  readonly cluster?: { readonly nodes: readonly RedisNode[] } | undefined;
  /**
   * `REDIS_WAIT_REPLICAS` (+ `REDIS_WAIT_TIMEOUT_MS`, default 1000): producers and the session
   * store acknowledge a write only once this many replicas have it, so a failover cannot lose it.
   */
  readonly waitForReplicas?: ReplicaWait | undefined;
  /**
   * Sentinel mode (`REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`): the client asks the sentinels
   * for the current master of `name` and follows failovers.
   */
  readonly sentinel?:
    | {
        readonly nodes: readonly RedisNode[];
        readonly name: string;
        readonly username: string | undefined;
        readonly password: string | undefined;
      }
    | undefined;
}

/** Replicas a write must reach before it is acknowledged (`WAIT`). */
export interface ReplicaWait {
  readonly replicas: number;
  readonly timeoutMs: number;
}

/** One `host:port` of a node list. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/**
 * Which Redis a component talks to. `queues` reads `REDIS_*`; `cache` and
 * `sessions` read `CACHE_REDIS_*` / `SESSIONS_REDIS_*` when any of them is set
 * and fall back to `REDIS_*` otherwise, so one Redis is the default and a
 * separate, evicting instance for cache data is one variable away.
 */
export type RedisRole = 'queues' | 'cache' | 'sessions';

const ROLE_PREFIX: Record<RedisRole, string> = { queues: '', cache: 'CACHE_', sessions: 'SESSIONS_' };

/** `REDIS_HOST` when unset. In the Docker deployment it is set to `redis`. */
export const DEFAULT_REDIS_HOST = 'localhost';
/** `REDIS_PORT` when unset. */
export const DEFAULT_REDIS_PORT = 6379;

const port = z.coerce
  .number({ error: 'expected a port number' })
  .int('expected an integer port')
  .min(1, 'expected a port between 1 and 65535')
  .max(65535, 'expected a port between 1 and 65535');
const db = z.coerce
  .number({ error: 'expected a database number' })
  .int('expected an integer')
  .min(0, 'expected 0 or more');
const waitReplicas = z.coerce
  .number({ error: 'expected a number of replicas' })
  .int('expected a whole number')
  .min(0, 'expected 0 to 16')
  .max(16, 'expected 0 to 16');
const waitTimeoutMs = z.coerce
  .number({ error: 'expected milliseconds' })
  .int('expected a whole number')
  .min(1, 'expected 1 to 60000')
  .max(60_000, 'expected 1 to 60000');
const nonEmpty = z.string().min(1, 'must not be empty when set');

/** Each variable of a role (after its prefix) and the schema its value is read with. */
const VARIABLES = {
  REDIS_URL: nonEmpty,
  REDIS_HOST: nonEmpty,
  REDIS_PORT: port,
  REDIS_USERNAME: nonEmpty,
  REDIS_PASSWORD: z.string(),
  REDIS_DB: db,
  REDIS_TLS: onOff,
  REDIS_CLUSTER_NODES: nonEmpty,
  REDIS_SENTINELS: nonEmpty,
  REDIS_SENTINEL_NAME: nonEmpty,
  REDIS_SENTINEL_USERNAME: nonEmpty,
  REDIS_SENTINEL_PASSWORD: z.string(),
  REDIS_WAIT_REPLICAS: waitReplicas,
  REDIS_WAIT_TIMEOUT_MS: waitTimeoutMs,
} as const;
type Suffix = keyof typeof VARIABLES;
const SUFFIXES = Object.keys(VARIABLES) as Suffix[];

/** The prefix a role's variables are read with: its own (`CACHE_REDIS_*`) when any is set, else `REDIS_*`. */
function prefixOf(env: NodeJS.ProcessEnv, role: RedisRole): string {
  const rolePrefix = ROLE_PREFIX[role];
  return rolePrefix !== '' && SUFFIXES.some((s) => (env[rolePrefix + s] ?? '') !== '') ? rolePrefix : '';
}

/** Every variable of the role whose value its own schema refuses: what `redisSettings` names at once. */
function variableProblems(env: NodeJS.ProcessEnv, role: RedisRole): { variable: string; message: string }[] {
  const prefix = prefixOf(env, role);
  return SUFFIXES.flatMap((suffix) => {
    const raw = env[prefix + suffix];
    if (raw === undefined || raw === '') return [];
    const parsed = (VARIABLES[suffix] as z.ZodType).safeParse(raw.trim());
    return parsed.success
      ? []
      : [{ variable: prefix + suffix, message: parsed.error.issues[0]?.message ?? 'invalid value' }];
  });
}

function fail(variable: string, error: z.ZodError): never {
  throw new RedisConfigError(variable, error.issues[0]?.message ?? 'invalid value', { cause: error });
}

function read<T>(env: NodeJS.ProcessEnv, variable: string, schema: z.ZodType<T>): T | undefined {
  const raw = env[variable];
  if (raw === undefined || raw === '') return undefined;
  const parsed = schema.safeParse(raw.trim());
  if (!parsed.success) fail(variable, parsed.error);
  return parsed.data;
}

/** `host:port,host:port` (IPv6 as `[::1]:7000`), at most 64 nodes. */
function nodeList(variable: string, raw: string): RedisNode[] {
  const items = raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0 || items.length > 64) {
    throw new RedisConfigError(variable, 'expected 1 to 64 nodes as host:port,host:port');
  }
  return items.map((item) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d+)$/.exec(item);
    if (!match?.[1] || !match[2]) throw new RedisConfigError(variable, `expected host:port, got '${item}'`);
    const parsed = port.safeParse(match[2]);
    if (!parsed.success) fail(variable, parsed.error);
    return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port: parsed.data };
  });
}

function fromUrl(variable: string, raw: string): Omit<RedisConfig, 'source'> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new RedisConfigError(variable, 'expected a URL like redis://[user:password@]host[:port][/db]', { cause });
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new RedisConfigError(variable, `expected scheme redis:// or rediss://, got ${url.protocol}//`);
  }
  if (!url.hostname) throw new RedisConfigError(variable, 'expected a host name');
  const dbPart = url.pathname.replace(/^\//, '');
  const dbParsed = db.safeParse(dbPart === '' ? '0' : dbPart);
  if (!dbParsed.success)
    throw new RedisConfigError(variable, `database in the path: ${dbParsed.error.issues[0]?.message}`);
  const portParsed = port.safeParse(url.port === '' ? String(DEFAULT_REDIS_PORT) : url.port);
  if (!portParsed.success) fail(variable, portParsed.error);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: portParsed.data,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: dbParsed.data,
    tls: url.protocol === 'rediss:',
  };
}

/**
 * Reads the Redis connection for a role from the environment.
 * `REDIS_URL` (`redis://` or `rediss://`) wins when set; otherwise
 * `REDIS_HOST` (default `localhost`), `REDIS_PORT` (6379), `REDIS_USERNAME`,
 * `REDIS_PASSWORD`, `REDIS_DB` (0) and `REDIS_TLS` (false) apply.
 * `REDIS_CLUSTER_NODES` (`host:port,…`) selects cluster mode, and
 * `REDIS_SENTINELS` (`host:port,…`) with `REDIS_SENTINEL_NAME` (and
 * `REDIS_SENTINEL_USERNAME`/`REDIS_SENTINEL_PASSWORD` for the sentinels
 * themselves) Sentinel mode; `REDIS_PASSWORD`, `REDIS_USERNAME` and
 * `REDIS_TLS` then apply to the data nodes.
 *
 * @throws RedisConfigError (`INVALID_REDIS_CONFIG`) naming the variable at fault.
 * @example
 * const config = loadRedisConfig(process.env);            // queues
 * const cacheConfig = loadRedisConfig(process.env, 'cache'); // CACHE_REDIS_* or REDIS_*
 */
export function loadRedisConfig(env: NodeJS.ProcessEnv = process.env, role: RedisRole = 'queues'): RedisConfig {
  const p = prefixOf(env, role);
  const name = (suffix: Suffix) => p + suffix;
  const get = <S extends Suffix>(suffix: S) =>
    read(env, name(suffix), VARIABLES[suffix] as unknown as z.ZodType<z.output<(typeof VARIABLES)[S]>>);

  const clusterNodes = get('REDIS_CLUSTER_NODES');
  const sentinels = get('REDIS_SENTINELS');
  if (clusterNodes !== undefined && sentinels !== undefined) {
    throw new RedisConfigError(name('REDIS_SENTINELS'), `cannot be combined with ${name('REDIS_CLUSTER_NODES')}`);
  }
  const replicas = get('REDIS_WAIT_REPLICAS');
  const waitTimeout = get('REDIS_WAIT_TIMEOUT_MS');
  if (replicas && clusterNodes !== undefined) {
    throw new RedisConfigError(name('REDIS_WAIT_REPLICAS'), `is not supported with ${name('REDIS_CLUSTER_NODES')}`);
  }
  const wait = replicas ? { waitForReplicas: { replicas, timeoutMs: waitTimeout ?? 1000 } } : {};
  const url = get('REDIS_URL');
  if (url !== undefined) {
    if (clusterNodes !== undefined || sentinels !== undefined) {
      throw new RedisConfigError(
        name('REDIS_URL'),
        `names one server; with ${clusterNodes ? name('REDIS_CLUSTER_NODES') : name('REDIS_SENTINELS')} use REDIS_PASSWORD and REDIS_TLS instead`,
      );
    }
    return { ...fromUrl(name('REDIS_URL'), url), ...wait, source: name('REDIS_URL') };
  }
  const tls = get('REDIS_TLS') ?? false;
  const single = {
    host: get('REDIS_HOST') ?? DEFAULT_REDIS_HOST,
    port: get('REDIS_PORT') ?? DEFAULT_REDIS_PORT,
    username: get('REDIS_USERNAME'),
    password: get('REDIS_PASSWORD'),
    db: get('REDIS_DB') ?? 0,
    tls,
    source: `${name('REDIS_HOST')}/${name('REDIS_PORT')}`,
    ...wait,
  };
  if (clusterNodes !== undefined) {
    const nodes = nodeList(name('REDIS_CLUSTER_NODES'), clusterNodes);
    // A cluster has database 0 only.
    if (single.db !== 0) throw new RedisConfigError(name('REDIS_DB'), 'must be 0 in cluster mode');
    const [first] = nodes as [RedisNode];
    return { ...single, host: first.host, port: first.port, cluster: { nodes }, source: name('REDIS_CLUSTER_NODES') };
  }
  if (sentinels !== undefined) {
    const nodes = nodeList(name('REDIS_SENTINELS'), sentinels);
    const masterName = get('REDIS_SENTINEL_NAME');
    if (masterName === undefined) {
      throw new RedisConfigError(name('REDIS_SENTINEL_NAME'), `is required with ${name('REDIS_SENTINELS')}`);
    }
    const [first] = nodes as [RedisNode];
    return {
      ...single,
      host: first.host,
      port: first.port,
      sentinel: {
        nodes,
        name: masterName,
        username: get('REDIS_SENTINEL_USERNAME'),
        password: get('REDIS_SENTINEL_PASSWORD'),
      },
      source: `${name('REDIS_SENTINELS')}/${name('REDIS_SENTINEL_NAME')}`,
    };
  }
  return single;
}

/** Renders a config for logs, without the password. */
export function describeRedisConfig(config: RedisConfig): string {
  const user = config.username ? `${config.username}@` : '';
  const list = (nodes: readonly RedisNode[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  if (config.cluster) return `redis cluster ${list(config.cluster.nodes)} (from ${config.source})`;
  if (config.sentinel) {
    return `redis sentinel master '${config.sentinel.name}' via ${list(config.sentinel.nodes)}/${config.db} (from ${config.source})`;
  }
  return `${config.tls ? 'rediss' : 'redis'}://${user}${config.host}:${config.port}/${config.db} (from ${config.source})`;
}

/** The README rows of the Redis variables (any role reads the same set, under its prefix). */
const REDIS_VARIABLES = [
  {
    name: 'REDIS_URL',
    default: 'unset',
    meaning: '`redis://[user:password@]host:port/db` or `rediss://…`; wins over the variables below.',
  },
  { name: 'REDIS_HOST', default: `\`${DEFAULT_REDIS_HOST}\``, meaning: 'Where Redis is.' },
  { name: 'REDIS_PORT', default: `\`${DEFAULT_REDIS_PORT}\``, meaning: 'Its port.' },
  { name: 'REDIS_USERNAME', default: 'unset', meaning: 'ACL user.' },
  { name: 'REDIS_PASSWORD', default: 'unset', meaning: 'Password (never logged).' },
  { name: 'REDIS_DB', default: '`0`', meaning: 'Database number (0 in cluster mode).' },
  { name: 'REDIS_TLS', default: '`false`', meaning: 'TLS to Redis (on or off).' },
  {
    name: 'REDIS_CLUSTER_NODES',
    default: 'unset',
    meaning:
      '`host:port,host:port,…`: a Redis Cluster (see [Redis Cluster and Sentinel](#redis-cluster-and-sentinel)); `REDIS_PASSWORD`, `REDIS_USERNAME`, `REDIS_TLS` apply to its nodes.',
  },
  {
    name: 'REDIS_SENTINELS',
    default: 'unset',
    meaning: '`host:port,…` of the sentinels: the client follows failovers.',
  },
  { name: 'REDIS_SENTINEL_NAME', default: 'unset', meaning: "The master's name (required with `REDIS_SENTINELS`)." },
  {
    name: 'REDIS_SENTINEL_USERNAME',
    default: 'unset',
    meaning: "The sentinels' own user (the data nodes use `REDIS_USERNAME`).",
  },
  {
    name: 'REDIS_SENTINEL_PASSWORD',
    default: 'unset',
    meaning: "The sentinels' own password (the data nodes use `REDIS_PASSWORD`).",
  },
  {
    name: 'REDIS_WAIT_REPLICAS',
    default: 'unset',
    meaning: 'Acknowledge enqueues, admissions and ends only once this many replicas have them (0–16).',
  },
  { name: 'REDIS_WAIT_TIMEOUT_MS', default: '`1000`', meaning: 'How long such a write waits for them (1–60000).' },
  {
    name: 'SESSIONS_REDIS_*`, `CACHE_REDIS_*',
    default: 'the `REDIS_*` values',
    meaning: 'The same set for the sessions or cache Redis, when they live apart from the queues.',
  },
] as const;

/**
 * The Redis variables of one role, as the apps compose their settings: {@link loadRedisConfig},
 * whose {@link RedisConfigError} becomes the settings' `ConfigError` naming the variable.
 */
export const redisSettings = (role: RedisRole = 'queues'): Settings<RedisConfig> =>
  defineSettings(
    'Redis (all apps, the demo and the CLI)',
    // The variables are a family per role (`SESSIONS_REDIS_*` falling back to `REDIS_*`): they are
    // read by loadRedisConfig, with a zod schema each, and documented as rows.
    {},
    (_values, env) => {
      // Every variable its own schema refuses, at once; then what only holds together.
      const problems = variableProblems(env, role);
      if (problems.length) throw new ConfigError(problems);
      try {
        return loadRedisConfig(env, role);
      } catch (error) {
        if (!(error instanceof RedisConfigError)) throw error;
        throw new ConfigError([{ variable: error.variable, message: error.reason }], { cause: error });
      }
    },
    { rows: REDIS_VARIABLES },
  );
