import { randomUUID } from 'node:crypto';
import {
  assertSafeId,
  awaitReplicas,
  defineLuaScript,
  InvalidIdError,
  type Keyspace,
  keyspaceFor,
  namespaceTtl,
  type RedisClient,
  type ReplicaWait,
} from '@nself-tv/redis-keys';
import admitSource from './admit.lua';
import endSource from './end.lua';
import { SessionError, sessionRedisFailure } from './errors.js';
import heartbeatSource from './heartbeat.lua';
import listSource from './list.lua';
import {
  type AdmitResult,
  type EndResult,
  type HeartbeatResult,
  parseSession,
  parseSessions,
  type Session,
} from './session.js';

const endScript = defineLuaScript(endSource);
const listScript = defineLuaScript(listSource);

/**
 * The spec's session TTL and stream limits: the one place apps take their defaults from.
 * The TTL is the `session` row of the key layout (`NAMESPACES`).
 */
export const SESSION_DEFAULTS = {
  ttlSeconds: namespaceTtl('session'),
  maxFamilyStreams: 10,
  maxDeviceStreams: 2,
} as const;

/** Options of {@link createSessionStore}. */
export interface SessionStoreOptions {
  /** A request-path connection (`createRequestConnection(loadRedisConfig(env, 'sessions'))`). Not closed by the store. */
  connection: RedisClient;
  /**
   * Report an admission or an end only once this many replicas have it (`WAIT`), so a failover
   * cannot lose a stream the family was told about: `config.waitForReplicas`
   * (`REDIS_WAIT_REPLICAS`). Throws `NotReplicatedError` (`NOT_REPLICATED`, from redis-keys) when
   * they do not answer in time; an admit retried with the same `clientRequestId` then replays.
   * @default undefined (asynchronous replication)
   */
  waitForReplicas?: ReplicaWait | undefined;
  /** @default keyspaceFor(connection): the spec's keys, or the cluster layout on a cluster */
  keyspace?: Keyspace;
  /** Session TTL, refreshed by heartbeat (`SESSION_TTL_SECONDS`). @default 300 */
  ttlSeconds?: number;
  /** Concurrent streams per family (`MAX_FAMILY_STREAMS`). @default 10 */
  maxFamilyStreams?: number;
  /** Concurrent streams per device (`MAX_DEVICE_STREAMS`). @default 2 */
  maxDeviceStreams?: number;
  /** On a full family, end the session with the oldest heartbeat and admit the new one. @default false */
  evictOldestOnFamilyLimit?: boolean;
  /** Receives one event per operation, for metrics. It must not throw. */
  onEvent?: (event: SessionEvent) => void;
}

/** What the store reports, for metrics (`result` is a bounded label). */
export type SessionEvent =
  | { type: 'admit'; result: 'admitted' | 'replayed' | 'family_limit' | 'device_limit'; evicted: boolean }
  | { type: 'heartbeat'; result: 'ok' | 'session_not_found' | 'not_owner' }
  | { type: 'end'; result: 'ended' | 'already_gone' | 'not_owner' };

/** What an admission needs. Ids must follow the redis-keys safe-id rule. */
export interface AdmitRequest {
  userId: string;
  familyId: string;
  deviceId: string;
  mediaId: string;
  /** The client's id for this request: a retry with the same id returns the same session. */
  clientRequestId?: string | undefined;
  /** @default a random UUID */
  sessionId?: string | undefined;
}

/** Who is asking to heartbeat or end a session. */
export interface Caller {
  userId: string;
  /** When given, the session must be on this device; without it, any device of the user. */
  deviceId?: string | undefined;
}

/** Stream sessions with exact limits under concurrency. Every operation is one Lua script. */
export interface SessionStore {
  readonly ttlSeconds: number;
  readonly maxFamilyStreams: number;
  readonly maxDeviceStreams: number;
  admit(request: AdmitRequest): Promise<AdmitResult>;
  /** Refreshes the caller's session; with `deviceId`, only when the session is on that device. */
  heartbeat(sessionId: string, caller: Caller): Promise<HeartbeatResult>;
  end(sessionId: string, caller: Caller): Promise<EndResult>;
  /** A session by id, or `undefined`. Ownership is the caller's business. */
  get(sessionId: string): Promise<Session | undefined>;
  /** Live sessions of a family, pruned of dead ids. */
  listFamily(familyId: string): Promise<Session[]>;
  /** Live sessions of a device, pruned of dead ids. */
  listDevice(deviceId: string, familyId?: string): Promise<Session[]>;
}

function id(value: unknown, field: string): string {
  try {
    return assertSafeId(value, field);
  } catch (error) {
    if (error instanceof InvalidIdError) {
      throw new SessionError('INVALID_SESSION_INPUT', error.message, { cause: error, field });
    }
    throw error;
  }
}

/** Writes settings into a script's `{{NAME}}` slots; the values are safe ids, digits or prefixes built by redis-keys. */
function fillTemplate(source: string, values: Record<string, string>): string {
  return source.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined || /['\\\n]/.test(value)) throw new TypeError(`bad template value for ${name}`);
    return value;
  });
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new SessionError('INVALID_SESSION_CONFIG', `${name} must be a whole number of at least 1, got ${value}`);
  }
  return value;
}

/** Awaits a Redis call; its failure becomes the store's coded outage (`REDIS_UNAVAILABLE`, `REDIS_FULL`, `NOT_REPLICATED`). */
const redis = <T>(what: string, call: Promise<T>): Promise<T> =>
  call.catch((error: unknown) => {
    throw sessionRedisFailure(`session ${what}`, error);
  });

/**
 * Creates the session store.
 *
 * @example
 * const sessions = createSessionStore({ connection });
 * const result = await sessions.admit({ userId, familyId, deviceId, mediaId });
 * if (!result.ok) reply.code(429).send({ error: result.reason, active: result.active });
 */
export function createSessionStore(options: SessionStoreOptions): SessionStore {
  const keys = options.keyspace ?? keyspaceFor(options.connection);
  const { connection } = options;
  const ttl = positiveInt(options.ttlSeconds ?? SESSION_DEFAULTS.ttlSeconds, 'ttlSeconds');
  const maxFamily = positiveInt(options.maxFamilyStreams ?? SESSION_DEFAULTS.maxFamilyStreams, 'maxFamilyStreams');
  const maxDevice = positiveInt(options.maxDeviceStreams ?? SESSION_DEFAULTS.maxDeviceStreams, 'maxDeviceStreams');
  const evict = options.evictOldestOnFamilyLimit ? '1' : '0';
  // One set of prefixes for everyone, except on a cluster where each family has its slot's.
  const shared = keys.cluster ? undefined : keys.sessionPrefixes({ familyId: 'any' });
  const prefixesOf = (of: string | { familyId: string }) => shared ?? keys.sessionPrefixes(of);
  /** The key of a session, or undefined for an id that cannot name one (untagged, on a cluster). */
  const sessionKey = (sessionId: string) => {
    const sid = id(sessionId, 'sessionId');
    try {
      return { sid, key: keys.session(sid) };
    } catch (error) {
      if (error instanceof InvalidIdError) return { sid, key: undefined };
      throw error;
    }
  };

  const emit = (event: SessionEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // Metrics must not break playback.
    }
  };
  const admitScript = defineLuaScript(
    fillTemplate(admitSource, {
      TTL_SECONDS: String(ttl),
      FAMILY_LIMIT: String(maxFamily),
      DEVICE_LIMIT: String(maxDevice),
      EVICT_OLDEST: evict,
    }),
  );
  const heartbeatScript = defineLuaScript(fillTemplate(heartbeatSource, { TTL_SECONDS: String(ttl) }));
  const list = async (setKey: string, familyId: string) =>
    parseSessions(
      String(await redis('list', listScript.run(connection, [setKey], [prefixesOf({ familyId }).session]))),
    );

  return {
    ttlSeconds: ttl,
    maxFamilyStreams: maxFamily,
    maxDeviceStreams: maxDevice,

    async admit(request) {
      const userId = id(request.userId, 'userId');
      const familyId = id(request.familyId, 'familyId');
      const deviceId = id(request.deviceId, 'deviceId');
      const mediaId = id(request.mediaId, 'mediaId');
      const crid = request.clientRequestId === undefined ? '' : id(request.clientRequestId, 'clientRequestId');
      // On a cluster the id starts with the family's hash tag, so its key is found from the id alone.
      const sessionId = id(keys.sessionId(familyId, id(request.sessionId ?? randomUUID(), 'sessionId')), 'sessionId');
      const prefixes = prefixesOf({ familyId });
      const [status, json, extra] = (await redis(
        'admit',
        admitScript.run(
          connection,
          [keys.familyStreams(familyId), keys.deviceStreams(deviceId, familyId), keys.session(sessionId)],
          [sessionId, userId, mediaId, deviceId, familyId, crid, prefixes.session, prefixes.deviceStreams],
        ),
      )) as [string, string | number, string];
      emit({ type: 'admit', result: status as 'admitted', evicted: Boolean(extra) });
      if (status === 'admitted') await redis('admit', awaitReplicas(connection, options.waitForReplicas));
      if (status === 'admitted') {
        // The script wrote exactly these fields; only the server time comes back.
        const now = Number(json);
        const session: Session = { sessionId, userId, mediaId, deviceId, familyId, startedAt: now, lastHeartbeat: now };
        if (crid !== '') session.clientRequestId = crid;
        return { ok: true, session, replayed: false, evicted: extra ? parseSession(extra) : undefined };
      }
      if (status === 'replayed')
        return { ok: true, session: parseSession(String(json)), replayed: true, evicted: undefined };
      return { ok: false, reason: status as 'family_limit' | 'device_limit', active: parseSessions(String(json)) };
    },

    async heartbeat(sessionId, caller) {
      const { sid, key } = sessionKey(sessionId);
      const userId = id(caller.userId, 'userId');
      const deviceId = caller.deviceId === undefined ? '' : id(caller.deviceId, 'deviceId');
      if (key === undefined) {
        emit({ type: 'heartbeat', result: 'session_not_found' });
        return { ok: false, reason: 'session_not_found' };
      }
      const prefixes = prefixesOf(sid);
      const lastHeartbeat = Number(
        await redis(
          'heartbeat',
          heartbeatScript.run(connection, [key], [userId, deviceId, prefixes.familyStreams, prefixes.deviceStreams]),
        ),
      );
      if (lastHeartbeat > 0) {
        emit({ type: 'heartbeat', result: 'ok' });
        return { ok: true, lastHeartbeat, expiresAt: lastHeartbeat + ttl * 1000 };
      }
      const reason = lastHeartbeat === 0 ? 'session_not_found' : 'not_owner';
      emit({ type: 'heartbeat', result: reason });
      return { ok: false, reason };
    },

    async end(sessionId, caller) {
      const { sid, key } = sessionKey(sessionId);
      const userId = id(caller.userId, 'userId');
      const deviceId = caller.deviceId === undefined ? '' : id(caller.deviceId, 'deviceId');
      if (key === undefined) {
        emit({ type: 'end', result: 'already_gone' });
        return { ok: true, ended: undefined };
      }
      const prefixes = prefixesOf(sid);
      const [status, json] = (await redis(
        'end',
        endScript.run(connection, [key], [sid, userId, deviceId, prefixes.familyStreams, prefixes.deviceStreams]),
      )) as [string, string];
      emit({ type: 'end', result: status as 'ended' });
      if (status === 'ended') await redis('end', awaitReplicas(connection, options.waitForReplicas));
      if (status === 'not_owner') return { ok: false, reason: 'not_owner' };
      return { ok: true, ended: status === 'ended' ? parseSession(json) : undefined };
    },

    async get(sessionId) {
      const { key } = sessionKey(sessionId);
      if (key === undefined) return undefined;
      const raw = await redis('get', connection.get(key));
      return raw === null ? undefined : parseSession(raw);
    },

    listFamily: (familyId) => list(keys.familyStreams(id(familyId, 'familyId')), familyId),
    async listDevice(deviceId, familyId) {
      if (keys.cluster && familyId === undefined) {
        throw new SessionError('INVALID_SESSION_INPUT', 'familyId: required to list a device on a cluster', {
          field: 'familyId',
        });
      }
      const family = familyId === undefined ? 'any' : id(familyId, 'familyId');
      return list(keys.deviceStreams(id(deviceId, 'deviceId'), family), family);
    },
  };
}
