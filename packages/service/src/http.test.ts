import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_ERRORS, HttpError } from './errors.js';
import { frameworkErrors, httpErrors, jsonBodies } from './http.js';

class OutageError extends Error {
  readonly code = 'STORE_DOWN';
}

describe('the one error policy', () => {
  const app = Fastify({ bodyLimit: 64, frameworkErrors });
  let base = '';
  beforeAll(async () => {
    await app.register(httpErrors, {
      fromDomain: (error) =>
        (error as { code?: string }).code === 'STORE_DOWN' ? new HttpError('service_unavailable') : undefined,
    });
    await app.register(jsonBodies);
    app.post('/echo', async (request) => ({ body: request.body ?? null }));
    app.get('/coded/:id', async () => {
      throw new HttpError('device_limit');
    });
    app.get('/coded', async () => {
      throw new HttpError('device_limit', 'two already', { activeSessions: [] });
    });
    app.get('/outage', async () => {
      throw new OutageError('ECONNREFUSED 127.0.0.1:6379');
    });
    app.get('/bug', async () => {
      throw new TypeError('secret internals');
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  const post = (body: string, type?: string) =>
    fetch(`${base}/echo`, { method: 'POST', body, headers: type ? { 'content-type': type } : {} }).then(async (r) => ({
      status: r.status,
      body: await r.json(),
    }));

  it('answers Fastify’s own errors with their status: 413, 415, 400', async () => {
    expect(await post(JSON.stringify({ pad: 'x'.repeat(100) }), 'application/json')).toEqual({
      status: 413,
      body: { error: 'payload_too_large', message: 'the body is larger than 64 bytes' },
    });
    expect(await post('hello', 'text/plain')).toMatchObject({ status: 415, body: { error: 'unsupported_media_type' } });
    expect(await post('<a/>', 'application/xml')).toMatchObject({ status: 415 });
    expect(await post('{"a":', 'application/json')).toEqual({
      status: 400,
      body: { error: 'bad_request', message: 'the body is not valid JSON' },
    });
    expect(await post('{"__proto__":{"x":1}}', 'application/json')).toMatchObject({
      status: 400,
      body: { message: 'the body must not contain __proto__ or constructor.prototype keys' },
    });
  });

  it('takes an empty JSON body as no body', async () => {
    expect(await post('', 'application/json')).toEqual({ status: 200, body: { body: null } });
    expect(await post(' {"a":1} ', 'application/json')).toEqual({ status: 200, body: { body: { a: 1 } } });
  });

  it('answers coded errors with the registry’s status, domain errors as the app maps them, bugs as 500', async () => {
    const get = async (path: string) => {
      const r = await fetch(`${base}${path}`);
      return { status: r.status, body: await r.json() };
    };
    expect(await get('/coded')).toEqual({
      status: 429,
      body: { error: 'device_limit', message: 'two already', activeSessions: [] },
    });
    expect(await get('/outage')).toEqual({
      status: 503,
      body: { error: 'service_unavailable', message: HTTP_ERRORS.service_unavailable.message },
    });
    const bug = await get('/bug');
    expect(bug).toEqual({
      status: 500,
      body: { error: 'internal_error', message: HTTP_ERRORS.internal_error.message },
    });
    expect(JSON.stringify(bug.body)).not.toContain('secret');
    expect(await get('/coded/%zz')).toEqual({
      status: 400,
      body: { error: 'bad_request', message: 'the URL is malformed' },
    });
    expect(await get('/nowhere?token=x')).toEqual({
      status: 404,
      body: { error: 'not_found', message: 'no route GET /nowhere' },
    });
  });

  it('gives every code one status, and an HttpError the status of its code', () => {
    for (const [code, { status }] of Object.entries(HTTP_ERRORS)) {
      expect(new HttpError(code as keyof typeof HTTP_ERRORS).status).toBe(status);
      expect(status).toBeGreaterThanOrEqual(400);
    }
  });
});
