import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTvMetrics } from '@nself-tv/metrics';
import {
  createIngestService,
  createJobInspector,
  createProducer,
  type IngestService,
  MAX_INGEST_ID_LENGTH,
  payloadJsonSchema,
} from '@nself-tv/queues';
import { createKeyspace, createRequestConnection, loadRedisConfig, SAFE_ID_PATTERN } from '@nself-tv/redis-keys';
import { errorDocsProblems, HTTP_ERRORS } from '@nself-tv/service';
import { ConfigError } from '@nself-tv/service/settings';
import { createFileStorage } from '@nself-tv/storage';
import { createS3Storage } from '@nself-tv/storage/s3';
import { startRedisServer, startS3Server, useTestRedis } from '@nself-tv/test-redis';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKER_ERROR_CODES, workerOpenApi } from './openapi.js';
import { startWorkerApp } from './worker-app.js';
import { WORKER_ROUTER_OPTIONS, workerRoutes } from './worker-http.js';

const redis = useTestRedis();
const keyspace = createKeyspace({ namespace: redis.namespace, cluster: redis.cluster });
const connection = createRequestConnection(loadRedisConfig(redis.env), { commandTimeoutMs: 2000 });
const producer = createProducer({ connection, keyspace });
const inspector = createJobInspector(connection, keyspace);
const apps: ReturnType<typeof Fastify>[] = [];
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await producer.close();
  await inspector.close();
  connection.disconnect();
});

async function start(apiToken: string | undefined, readToken?: string, extra: { ingest?: IngestService } = {}) {
  const app = Fastify({ bodyLimit: 4096, routerOptions: WORKER_ROUTER_OPTIONS });
  await app.register(workerRoutes, {
    ...extra,
    readToken,
    queues: { optimize: 'image:optimize', poster: 'image:poster' },
    connection,
    producer,
    inspector,
    metrics: createTvMetrics({ queues: inspector, defaultMetrics: false, keyspace }),
    apiToken,
  });
  apps.push(app);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    raw?: { type: string; text: string },
  ) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined || raw) headers['content-type'] = raw?.type ?? 'application/json';
    const res = await fetch(`${address}${path}`, {
      method,
      headers,
      ...(raw ? { body: raw.text } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, any> };
  };
  return Object.assign(call, { address });
}

const optimize = { source: { bucket: 'media', key: 'a.jpg' }, output: { bucket: 'media', key: 'a.webp' } };

describe('worker HTTP surface', () => {
  it('enqueues with the API token, validates with the queue schema, and reports jobs and queues', async () => {
    const call = await start('secret-token');
    expect((await call('POST', '/api/v1/jobs/optimize', optimize)).status).toBe(401);
    expect((await call('POST', '/api/v1/jobs/optimize', optimize, 'wrong-token')).status).toBe(401);
    const queued = await call('POST', '/api/v1/jobs/optimize', optimize, 'secret-token');
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ queue: 'image:optimize', status: 'queued' });
    expect(await redis.client.llen(keyspace.queueKey('image:optimize', 'wait'))).toBe(1);
    const bad = await call('POST', '/api/v1/jobs/optimize', { ...optimize, quality: 500 }, 'secret-token');
    expect(bad).toMatchObject({ status: 400, body: { error: 'bad_request', field: 'quality' } });
    expect((await call('POST', '/api/v1/jobs/transcode', optimize, 'secret-token')).status).toBe(404);

    // Reading a job needs a token too: it holds the payload and the failure reason.
    expect((await call('GET', `/api/v1/jobs/${queued.body.jobId}`)).status).toBe(401);
    expect((await call('GET', `/api/v1/jobs/${queued.body.jobId}`, undefined, 'wrong-token')).status).toBe(401);
    const job = await call('GET', `/api/v1/jobs/${queued.body.jobId}`, undefined, 'secret-token');
    expect(job.body).toMatchObject({
      jobId: queued.body.jobId,
      queue: 'image:optimize',
      state: 'waiting',
      attemptsMade: 0,
    });
    expect((await call('GET', '/api/v1/jobs/unknown-job', undefined, 'secret-token')).status).toBe(404);
    expect((await call('GET', '/api/v1/jobs/a:b', undefined, 'secret-token')).status).toBe(400);
    // Another app's job (a transcode, on a queue this app does not run) is not this app's to tell.
    const video = await producer.enqueue('video:transcode', {
      mediaId: 'm-other',
      familyId: 'f',
      source: { bucket: 'media', key: 'uploads/other.mkv' },
      output: { bucket: 'media', prefix: 'hls/other/' },
    });
    const other = await call('GET', `/api/v1/jobs/${video}`, undefined, 'secret-token');
    expect(other).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(JSON.stringify(other.body)).not.toContain('other.mkv');
    expect((await inspector.getJob(video))?.queue).toBe('video:transcode');
    await producer.queue('video:transcode').remove(video);
    const status = await call('GET', '/api/v1/queues/status');
    expect(status.body.queues.map((q: { queue: string }) => q.queue)).toEqual(['image:poster', 'image:optimize']);
    const health = await call('GET', '/health');
    expect(health.body.status).toBe('ok');
    expect(health.body.queues.find((q: { queue: string }) => q.queue === 'image:optimize').waiting).toBe(1);
    expect((await call('GET', '/ready')).status).toBe(200);
  });

  it('refuses submissions with 403 when no API token is configured', async () => {
    const call = await start(undefined);
    const res = await call('POST', '/api/v1/jobs/optimize', optimize, 'anything');
    expect(res).toMatchObject({ status: 403, body: { error: 'policy_denied' } });
    expect((await call('GET', '/api/v1/jobs/some-job', undefined, 'anything')).status).toBe(403);
  });

  it('a read token reads jobs and cannot submit them', async () => {
    const call = await start('secret-token', 'read-only-token');
    const queued = await call('POST', '/api/v1/jobs/optimize', optimize, 'secret-token');
    expect((await call('GET', `/api/v1/jobs/${queued.body.jobId}`, undefined, 'read-only-token')).status).toBe(200);
    expect((await call('POST', '/api/v1/jobs/optimize', optimize, 'read-only-token')).status).toBe(401);
  });

  it('answers every error as {error, message, field?}', async () => {
    const call = await start('secret-token');
    const post = (raw: { type: string; text: string }) =>
      call('POST', '/api/v1/jobs/optimize', undefined, 'secret-token', raw);
    const json = (text: string) => ({ type: 'application/json', text });
    const cases = [
      [await call('POST', '/api/v1/jobs/optimize', { ...optimize, media_id: 'x' }, 'secret-token'), 400, 'media_id'],
      [await post(json('{"source":')), 400, undefined],
      [await post(json('{"__proto__":{"polluted":true}}')), 400, undefined],
      [await post(json('{"constructor":{"prototype":{"polluted":true}}}')), 400, undefined],
      // Fastify's own errors keep their status: 413 for a body over the limit, 415 for another type.
      [await post(json(JSON.stringify({ ...optimize, pad: 'x'.repeat(5000) }))), 413, undefined],
      [await post({ type: 'application/xml', text: '<job/>' }), 415, undefined],
      [await post({ type: 'text/plain', text: 'hello' }), 415, undefined],
      [await post(json('')), 400, undefined],
      [await call('GET', '/api/v1/nothing-here'), 404, undefined],
    ] as const;
    for (const [res, status, field] of cases) {
      expect(res.status).toBe(status);
      expect(Object.keys(res.body).sort()).toEqual(field ? ['error', 'field', 'message'] : ['error', 'message']);
      expect(typeof res.body.error).toBe('string');
      expect(res.body.message).not.toMatch(/FST_|Fastify/);
      if (field) expect(res.body.field).toBe(field);
      expect(HTTP_ERRORS[res.body.error as keyof typeof HTTP_ERRORS]?.status).toBe(status);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('documents exactly the error codes of the registry it answers, each at its status', () => {
    for (const ingests of [false, true]) {
      const doc = workerOpenApi('t', { optimize: 'image:optimize' }, { ingests });
      expect(errorDocsProblems(doc)).toEqual([]);
    }
    // The check itself: a code the registry lacks, or a status no code has, is found.
    const broken = structuredClone(workerOpenApi('t', { optimize: 'image:optimize' }, { ingests: true })) as {
      components: { schemas: { Error: { properties: { error: { enum: string[] } } } } };
      paths: Record<string, unknown>;
    };
    broken.components.schemas.Error.properties.error.enum = [...WORKER_ERROR_CODES, 'teapot'];
    (broken.paths['/api/v1/jobs/optimize'] as { post: { responses: Record<string, unknown> } }).post.responses[418] = {
      description: 'a teapot',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
    expect(errorDocsProblems(broken)).toEqual([
      'error code teapot is not in HTTP_ERRORS',
      'POST /api/v1/jobs/optimize documents 418, which no listed error code has',
    ]);
  });

  it('serves an OpenAPI document generated from the schemas the routes validate with', async () => {
    const call = await start('secret-token');
    const doc = (await call('GET', '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/jobs/optimize', '/api/v1/jobs/poster', '/api/v1/jobs/{id}', '/health']),
    );
    const { $id: _, $schema: __, ...payload } = payloadJsonSchema('image:optimize');
    expect(doc.components.schemas.ImageOptimizePayload).toEqual(payload);
    expect(doc.paths['/api/v1/jobs/optimize'].post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/ImageOptimizePayload',
    );
    expect(doc.paths['/api/v1/jobs/{id}'].get.parameters[0].schema.pattern).toBe(SAFE_ID_PATTERN.source);
    // What the document calls required is what the route refuses without.
    for (const field of payload.required as string[]) {
      const { [field]: _dropped, ...rest } = optimize as Record<string, unknown>;
      const res = await call('POST', '/api/v1/jobs/optimize', rest, 'secret-token');
      expect(res.status, field).toBe(400);
      expect(res.body.field, field).toBe(field);
    }
  });
});

describe('ingests over HTTP', () => {
  const ingest = createIngestService({ connection, producer, keyspace });
  const movie = { mediaId: 'film-1', familyId: 'fam', source: { bucket: 'media', key: 'uploads/film-1.mkv' } };

  it('starts once per Idempotency-Key, reports state, cancels, and refuses what it should', async () => {
    const call = await start('secret-token', 'read-token-0123456789', { ingest });
    const key = { 'idempotency-key': 'lib-req-42' };
    const post = (body: unknown, headers: Record<string, string> = key, token = 'secret-token') =>
      fetch(`${call.address}/api/v1/ingests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }).then(async (r) => ({
        status: r.status,
        location: r.headers.get('location'),
        body: (await r.json()) as Record<string, unknown>,
      }));

    expect((await post(movie, key, 'wrong-token')).status).toBe(401);
    const first = await post(movie);
    expect(first).toMatchObject({ status: 202, body: { ingestId: 'lib-req-42', replayed: false } });
    expect(first.location).toBe('/api/v1/ingests/lib-req-42');
    // A retry of the same request is the same ingest: one transcode job, not two.
    expect((await post(movie)).body).toMatchObject({ ingestId: 'lib-req-42', replayed: true });
    // An ingest's transcode carries its place in the chunk schedule, so it waits among the prioritized.
    expect(await redis.client.llen(keyspace.queueKey('video:transcode', 'wait'))).toBe(0);
    expect(await redis.client.zcard(keyspace.queueKey('video:transcode', 'prioritized'))).toBe(1);
    // The same key for another title is a client bug, not a retry.
    expect((await post({ ...movie, mediaId: 'film-2' })).status).toBe(409);
    for (const [body, headers, field] of [
      [{ ...movie, source: { bucket: 'media', key: '../etc/passwd' } }, { 'idempotency-key': 'k1' }, 'source.key'],
      [{ ...movie, mediaId: 'a:b' }, { 'idempotency-key': 'k2' }, 'mediaId'],
      [{ ...movie, surprise: true }, { 'idempotency-key': 'k3' }, undefined],
      [movie, { 'idempotency-key': 'bad key*' }, 'Idempotency-Key'],
      [{ ...movie, ingestId: 'other' }, { 'idempotency-key': 'k4' }, 'ingestId'],
      [[movie], {}, undefined],
    ] as const) {
      const res = await post(body, headers as Record<string, string>);
      expect(res.status, JSON.stringify(body)).toBe(400);
      if (field) expect(res.body.field, JSON.stringify(body)).toBe(field);
    }

    const get = (id: string, token = 'read-token-0123456789') =>
      fetch(`${call.address}/api/v1/ingests/${id}`, { headers: { authorization: `Bearer ${token}` } });
    const state = (await (await get('lib-req-42')).json()) as { status: string; mediaId: string };
    expect(state).toMatchObject({ status: 'pending', mediaId: 'film-1' });
    expect((await get('no-such-ingest')).status).toBe(404);
    expect((await get('a*b')).status).toBe(400);
    expect((await get('lib-req-42', 'nope-nope-nope-nope')).status).toBe(401);
    // The read token may look, not cancel.
    const cancel = (id: string, token = 'secret-token') =>
      fetch(`${call.address}/api/v1/ingests/${id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await cancel('lib-req-42', 'read-token-0123456789')).status).toBe(401);
    const cancelled = await cancel('lib-req-42');
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as { status: string }).status).toBe('cancelled');
    expect(await redis.client.zcard(keyspace.queueKey('video:transcode', 'prioritized'))).toBe(0);
    expect((await cancel('no-such-ingest')).status).toBe(404);

    const doc = (await call('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/ingests', '/api/v1/ingests/{id}']));
    expect(doc.components.schemas.IngestRequest.required).toEqual(['mediaId', 'familyId', 'source']);
  });
});

const ingestFor = (call: { address: string }, id: string) =>
  fetch(`${call.address}/api/v1/ingests/${id}`, { headers: { authorization: 'Bearer secret-token' } }).then(
    (r) => r.status,
  );

describe('ownership records and the media store', () => {
  const post = (call: { address: string }, body: unknown) =>
    fetch(`${call.address}/api/v1/ingests`, {
      method: 'POST',
      headers: { authorization: 'Bearer secret-token', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
  const movie = (mediaId: string) => ({
    mediaId,
    familyId: 'fam-a',
    source: { bucket: 'media', key: `uploads/${mediaId}.mkv` },
  });

  it('an ingest that ends without media (failed or cancelled before its transcode) leaves no ownership record; one with media keeps it', async () => {
    const mediaRoot = await mkdtemp(join(tmpdir(), 'ingest-access-'));
    const record = (mediaId: string) => join(mediaRoot, 'media', 'library', mediaId, 'access.json');
    const exists = (path: string) =>
      readFile(path).then(
        () => true,
        () => false,
      );
    try {
      const storage = createFileStorage({ root: mediaRoot });
      const ingest = createIngestService({ connection, producer, keyspace, storage });
      const call = await start('secret-token', undefined, { ingest });

      const failing = await post(call, movie('film-fails'));
      expect(failing.status).toBe(202);
      expect(await exists(record('film-fails'))).toBe(true);
      // The worker reports a final failure of the probe, as it does for a source with no video.
      const failed = await ingest.updateStage(failing.body.ingestId as string, 'probe', {
        status: 'failed',
        error: 'source has no video stream',
        code: 'NO_VIDEO',
      });
      expect(failed).toMatchObject({ status: 'failed', code: 'NO_VIDEO' });
      expect(await exists(record('film-fails'))).toBe(false);
      // What a caller reads over HTTP: the code, on the ingest and its stage; nothing left pending.
      const read = (await (
        await fetch(`${call.address}/api/v1/ingests/${failing.body.ingestId}`, {
          headers: { authorization: 'Bearer secret-token' },
        })
      ).json()) as { code: string; stages: { name: string; status: string; code?: string }[] };
      expect(read.code).toBe('NO_VIDEO');
      expect(read.stages.find((st) => st.name === 'probe')?.code).toBe('NO_VIDEO');
      expect(read.stages.filter((st) => st.status === 'pending' || st.status === 'running')).toEqual([]);

      // Cancelled before anything was encoded: the record goes too.
      const cancelled = await post(call, movie('film-cancelled'));
      await fetch(`${call.address}/api/v1/ingests/${cancelled.body.ingestId}`, {
        method: 'DELETE',
        headers: { authorization: 'Bearer secret-token' },
      });
      expect(await exists(record('film-cancelled'))).toBe(false);

      // A record this ingest did not write (the family's earlier ingest made media) stays.
      const again = await post(call, movie('film-kept'));
      await ingest.updateStage(again.body.ingestId as string, 'probe', { status: 'completed' });
      await ingest.updateStage(again.body.ingestId as string, 'transcode', { status: 'completed' });
      const retry = await post(call, movie('film-kept'));
      await ingest.updateStage(retry.body.ingestId as string, 'probe', {
        status: 'failed',
        error: 'no video',
        code: 'NO_VIDEO',
      });
      expect(await exists(record('film-kept'))).toBe(true);
      // Another family is still refused, before anything is written.
      expect((await post(call, { ...movie('film-kept'), familyId: 'fam-b' })).body.error).toBe('conflict');
    } finally {
      await rm(mediaRoot, { recursive: true, force: true });
    }
  });

  it('a store that refuses the credentials is 502 store_refused, one that is down 503; nothing is started or recorded', async () => {
    const s3 = await startS3Server(['media']);
    try {
      for (const [options, status, code] of [
        [{ accessKeyId: 'NOT-A-KNOWN-KEY', secretAccessKey: 'S3RVER' }, 502, 'store_refused'],
        [
          { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', endpoint: 'http://127.0.0.1:9' },
          503,
          'service_unavailable',
        ],
      ] as const) {
        const storage = createS3Storage({ endpoint: s3.endpoint, forcePathStyle: true, ...options });
        const ingest = createIngestService({ connection, producer, keyspace, storage });
        const call = await start('secret-token', undefined, { ingest });
        const mediaId = `film-${status}`;
        const res = await post(call, { ...movie(mediaId), ingestId: `store-${status}` });
        expect(res.status, code).toBe(status);
        expect(res.body.error).toBe(code);
        expect(String(res.body.message)).not.toMatch(/S3RVER|NOT-A-KNOWN-KEY/);
        expect(await ingest.get(`store-${status}`)).toBeUndefined();
        const good = createS3Storage({
          endpoint: s3.endpoint,
          forcePathStyle: true,
          accessKeyId: 'S3RVER',
          secretAccessKey: 'S3RVER',
        });
        expect(await good.stat({ bucket: 'media', key: `library/${mediaId}/access.json` })).toBeUndefined();
      }
    } finally {
      await s3.close();
    }
  });
});

describe('ingest keys across families and retries', () => {
  it('a key names one request: another family, output, renditions or stages is 409 and tells nothing; long keys read back', async () => {
    const mediaRoot = await mkdtemp(join(tmpdir(), 'ingest-keys-'));
    try {
      const storage = createFileStorage({ root: mediaRoot });
      const ingest = createIngestService({ connection, producer, keyspace, storage });
      const call = await start('secret-token', undefined, { ingest });
      const post = (body: unknown, key: string) =>
        fetch(`${call.address}/api/v1/ingests`, {
          method: 'POST',
          headers: { authorization: 'Bearer secret-token', 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify(body),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
      const movie = {
        mediaId: 'film-k',
        familyId: 'fam-a',
        source: { bucket: 'media', key: 'uploads/secret-title.mkv' },
      };
      expect((await post(movie, 'key-1')).body).toMatchObject({ ingestId: 'key-1', replayed: false });
      for (const other of [
        { ...movie, familyId: 'fam-b' },
        { ...movie, output: { bucket: 'media', prefix: 'elsewhere/' } },
        { ...movie, renditions: ['240p'] },
        { ...movie, externalStages: ['database'] },
        { ...movie, thumbnails: { trickplayIntervalSeconds: 10 } },
      ]) {
        const res = await post(other, 'key-1');
        expect(res.status, JSON.stringify(other)).toBe(409);
        expect(res.body.error).toBe('conflict');
        // Nothing of the first ingest is told to whoever reused its key.
        expect(JSON.stringify(res.body)).not.toMatch(/secret-title|film-k|fam-a/);
      }
      expect((await post(movie, 'key-1')).body).toMatchObject({ replayed: true });

      // The ingest recorded who may play the item; another family cannot ingest into it.
      expect(JSON.parse(await readFile(join(mediaRoot, 'media', 'library', 'film-k', 'access.json'), 'utf8'))).toEqual({
        familyIds: ['fam-a'],
      });
      const taken = await post({ ...movie, familyId: 'fam-b' }, 'key-2');
      expect(taken).toMatchObject({ status: 409, body: { error: 'conflict' } });
      expect(await ingest.get('key-2')).toBeUndefined();

      // Concurrent first attempts: exactly one says replayed: false.
      const racing = await Promise.all(
        Array.from({ length: 8 }, () => post({ ...movie, mediaId: 'film-race' }, 'key-race')),
      );
      expect(racing.map((r) => r.status)).toEqual(Array(8).fill(202));
      expect(racing.filter((r) => r.body.replayed === false)).toHaveLength(1);
      expect(await redis.client.zcard(keyspace.queueKey('video:transcode', 'prioritized'))).toBeGreaterThan(0);

      // The longest key accepted still fits every stage's job id, and reads back; one longer is 400 before anything is written.
      const longest = 'k'.repeat(MAX_INGEST_ID_LENGTH);
      expect((await post({ ...movie, mediaId: 'film-long' }, longest)).status).toBe(202);
      const back = await fetch(`${call.address}/api/v1/ingests/${longest}`, {
        headers: { authorization: 'Bearer secret-token' },
      });
      expect(back.status).toBe(200);
      const jobId = ingest.jobIdFor(longest, 'subtitles');
      expect(jobId.length).toBeLessThanOrEqual(128);
      const tooLong = 'k'.repeat(MAX_INGEST_ID_LENGTH + 1);
      expect((await post({ ...movie, mediaId: 'film-longer' }, tooLong)).status).toBe(400);
      expect(await ingest.get(tooLong)).toBeUndefined();
      // A job id of 128 characters reads back too.
      const job = await fetch(`${call.address}/api/v1/jobs/${'j'.repeat(128)}`, {
        headers: { authorization: 'Bearer secret-token' },
      });
      expect(job.status).toBe(404);
      expect(((await job.json()) as { error: string }).error).toBe('not_found');
    } finally {
      await rm(mediaRoot, { recursive: true, force: true });
    }
  });

  it('bounds new ingests per family (every process, one counter) and overall, with 429 and Retry-After', async () => {
    const limits = { perFamilyPerMinute: 3, maxWaiting: 1000 };
    // Two services on two connections: two processes sharing one Redis.
    const other = createRequestConnection(loadRedisConfig(redis.env), { commandTimeoutMs: 2000 });
    try {
      const a = await start('secret-token', undefined, {
        ingest: createIngestService({ connection, producer, keyspace, limits }),
      });
      const b = await start('secret-token', undefined, {
        ingest: createIngestService({ connection: other, producer, keyspace, limits }),
      });
      const post = (call: typeof a, family: string, i: number, key = `lim-${family}-${i}`) =>
        fetch(`${call.address}/api/v1/ingests`, {
          method: 'POST',
          headers: { authorization: 'Bearer secret-token', 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify({
            mediaId: `lim-${family}-${i}`,
            familyId: family,
            source: { bucket: 'media', key: 'u.mkv' },
          }),
        });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(i % 2 ? b : a, 'fam-bulk', i)).status);
      expect(statuses).toEqual([202, 202, 202, 429, 429]);
      const refused = await post(a, 'fam-bulk', 9);
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(await refused.json()).toMatchObject({ error: 'rate_limited' });
      expect(await redis.client.ttl(keyspace.ingestRate('fam-bulk'))).toBeGreaterThan(0);
      // A retry of an ingest that started is not a new one; another family is not held back.
      expect((await post(a, 'fam-bulk', 0)).status).toBe(202);
      expect((await post(a, 'fam-small', 0)).status).toBe(202);

      // Everyone's together: past maxWaiting transcodes, nobody starts a new one.
      const waiting = await producer.queue('video:transcode').getJobCounts('waiting', 'prioritized', 'delayed');
      const full = await start('secret-token', undefined, {
        ingest: createIngestService({
          connection,
          producer,
          keyspace,
          limits: { perFamilyPerMinute: 100, maxWaiting: (waiting.waiting ?? 0) + (waiting.prioritized ?? 0) },
        }),
      });
      const over = await post(full, 'fam-new', 0);
      expect(over.status).toBe(429);
      expect(((await over.json()) as { message: string }).message).toMatch(/transcodes are waiting/);
      expect(await ingestFor(full, 'lim-fam-new-0')).toBe(404);
    } finally {
      other.disconnect();
    }
  });

  it('a body that is not JSON is 415, as the document says', async () => {
    const call = await start('secret-token');
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'text/plain; charset=utf-8']) {
      const res = await call('POST', '/api/v1/jobs/optimize', undefined, 'secret-token', {
        type,
        text: JSON.stringify(optimize),
      });
      expect(res, type).toMatchObject({ status: 415, body: { error: 'unsupported_media_type' } });
    }
  });
});

describe('a full Redis', () => {
  it('an enqueue or an ingest is 503 "Redis is full", nothing half written; room again, it works', async () => {
    const server = await startRedisServer({ args: ['--maxmemory-policy', 'noeviction'] });
    const own = createRequestConnection(loadRedisConfig({ REDIS_URL: server.url }), { commandTimeoutMs: 2000 });
    const ownProducer = createProducer({ connection: own });
    const ownInspector = createJobInspector(own);
    const app = Fastify({ routerOptions: WORKER_ROUTER_OPTIONS });
    try {
      await app.register(workerRoutes, {
        queues: { optimize: 'image:optimize' },
        connection: own,
        producer: ownProducer,
        inspector: ownInspector,
        metrics: createTvMetrics({ defaultMetrics: false }),
        apiToken: 'secret-token',
        ingest: createIngestService({ connection: own, producer: ownProducer }),
      });
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      const post = (path: string, body: unknown, key?: string) =>
        fetch(`${address}${path}`, {
          method: 'POST',
          headers: {
            authorization: 'Bearer secret-token',
            'content-type': 'application/json',
            ...(key ? { 'idempotency-key': key } : {}),
          },
          body: JSON.stringify(body),
        });
      const ingestBody = { mediaId: 'film-full', familyId: 'fam', source: { bucket: 'media', key: 'u.mkv' } };
      expect((await post('/api/v1/jobs/optimize', optimize)).status).toBe(202);
      const used = Number(/used_memory:(\d+)/.exec(await own.info('memory'))?.[1]);
      await own.config('SET', 'maxmemory', String(Math.floor(used / 2)));
      for (const res of [
        await post('/api/v1/jobs/optimize', optimize),
        await post('/api/v1/ingests', ingestBody, 'full-1'),
      ]) {
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({
          error: 'service_unavailable',
          message: 'Redis is full: nothing was written; retry later',
        });
      }
      expect(await own.exists(createKeyspace().ingest('full-1'))).toBe(0);
      await own.config('SET', 'maxmemory', '0');
      expect((await post('/api/v1/ingests', ingestBody, 'full-1')).status).toBe(202);
    } finally {
      await app.close();
      await ownProducer.close();
      await ownInspector.close();
      own.disconnect();
      await server.close();
    }
  });
});

describe('service shell', () => {
  it('startWorkerApp reports a bad setting as a ConfigError naming the variable, without exiting', async () => {
    const env = { ...redis.env, MEDIA_ROOT: tmpdir() };
    for (const [bad, message] of [
      [{ PORT: 'eighty' }, /^PORT: /],
      [{ QUEUE_IMAGE_POSTER_ATTEMPTS: 'lots' }, /QUEUE_IMAGE_POSTER_ATTEMPTS: expected a whole number/],
      [{ REDIS_URL: 'http://localhost:6379' }, /REDIS_URL/],
      [{ MAX_VIDEO_PIXELS: '10' }, /^MAX_VIDEO_PIXELS: expected at least 64/],
      [{ FFMPEG_MAX_MEMORY_MB: 'lots' }, /^FFMPEG_MAX_MEMORY_MB: /],
      [{ STORAGE: 'ftp' }, /^STORAGE: expected fs or s3/],
      [{ DASHBOARD: 'read-only' }, /^DASHBOARD: read-only needs DASHBOARD_TOKEN or API_TOKEN/],
    ] as const) {
      const started = startWorkerApp({
        name: 'thumbnail-generator',
        defaultPort: 0,
        routes: {},
        processors: () => ({}),
        env: { ...env, ...bad },
      });
      await expect(started).rejects.toBeInstanceOf(ConfigError);
      await expect(started).rejects.toThrow(message);
    }
    // Still here: a library never ends the process.
    expect(process.exitCode).toBeUndefined();
  });

  it('refuses to start with one error that names every bad variable, of every package', async () => {
    const started = startWorkerApp({
      name: 'thumbnail-generator',
      defaultPort: 0,
      routes: {},
      processors: () => ({}),
      env: {
        ...redis.env,
        MEDIA_ROOT: tmpdir(),
        PORT: 'eighty',
        API_TOKEN: 'short',
        MAX_VIDEO_PIXELS: '10',
        STORAGE: 'ftp',
        REDIS_PORT: '99999',
        REDIS_URL: '',
        QUEUE_IMAGE_SPRITE_CONCURRENCY: 'many',
        QUEUE_IMAGE_POSTER_ATTEMPTS: 'lots',
      },
    });
    const error = (await started.catch((e) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems.map((p) => p.variable)).toEqual([
      'PORT',
      'API_TOKEN',
      'MAX_VIDEO_PIXELS',
      'STORAGE',
      'REDIS_PORT',
      'QUEUE_IMAGE_POSTER_ATTEMPTS',
      'QUEUE_IMAGE_SPRITE_CONCURRENCY',
    ]);
    expect(error.message).toContain(
      'API_TOKEN: must be at least 16 characters; MAX_VIDEO_PIXELS: expected at least 64',
    );
  });

  it('hands the app its own settings, parsed with the runner’s', async () => {
    const own = {
      title: 'Own',
      variables: [],
      read: (env: Record<string, string | undefined>) => ({ colour: env.OWN_COLOUR ?? 'grey' }),
    };
    let seen: unknown;
    await startWorkerApp({
      name: 'thumbnail-generator',
      defaultPort: 0,
      routes: {},
      settings: own,
      processors: (_storage, limits, settings) => {
        seen = { limits, settings };
        return {};
      },
      env: { ...redis.env, MEDIA_ROOT: tmpdir(), OWN_COLOUR: 'teal', MAX_VIDEO_PIXELS: '1000000' },
    }).catch((error) => error);
    // No processors given: it refuses to start, after handing the settings over.
    expect(seen).toEqual({ limits: { maxVideoPixels: 1_000_000 }, settings: { colour: 'teal' } });
  });

  it('an ingest without output writes where HLS_BUCKET and HLS_PREFIX say', async () => {
    const mediaRoot = await mkdtemp(join(tmpdir(), 'worker-layout-'));
    const refuse = async () => {
      throw Object.assign(new Error('not a video'), { code: 'NOT_MEDIA' });
    };
    const app = await startWorkerApp({
      name: 'video-processor',
      defaultPort: 0,
      ingestRoutes: true,
      routes: { transcode: 'video:transcode' },
      processors: () => ({ 'video:transcode': refuse, 'video:trickplay': refuse, 'video:subtitle': refuse }),
      env: {
        ...redis.env,
        MEDIA_ROOT: mediaRoot,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
        API_TOKEN: 'layout-test-token-0123456789',
        HLS_BUCKET: 'hls',
        HLS_PREFIX: 'tv/{mediaId}/hls/',
      },
    });
    try {
      const headers = { authorization: 'Bearer layout-test-token-0123456789', 'content-type': 'application/json' };
      const body = { mediaId: 'film-l', familyId: 'fam-l', source: { bucket: 'media', key: 'up/film.mkv' } };
      const started = await fetch(`${app.address}/api/v1/ingests`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      expect(started.status).toBe(202);
      const { ingestId } = (await started.json()) as { ingestId: string };
      const job = await fetch(`${app.address}/api/v1/jobs/${ingestId}-transcode`, { headers });
      // Before, the ingest never read them and wrote under media/library/<mediaId>/.
      expect(((await job.json()) as { data: unknown }).data).toMatchObject({
        output: { bucket: 'hls', prefix: 'tv/film-l/hls/' },
      });
    } finally {
      await app.stop('test');
      await rm(mediaRoot, { recursive: true, force: true });
    }
  });
});
