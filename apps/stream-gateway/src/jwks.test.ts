import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useTestRedis } from '@nself-tv/test-redis';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayKit } from './test-helpers.js';

const redis = useTestRedis();
const start = gatewayKit(redis);
let jwksServer: Server;
let jwksUrl = '';
const issuerKeys = await generateKeyPair('RS256');
const otherKeys = await generateKeyPair('RS256');

beforeAll(async () => {
  const jwk = { ...(await exportJWK(issuerKeys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  jwksServer = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
});
afterAll(() => new Promise<void>((resolve) => jwksServer.close(() => resolve())));

const rs256 = (key: Parameters<SignJWT['sign']>[0], kid = 'k1') =>
  new SignJWT({ 'https://hasura.io/jwt/claims': { 'x-hasura-user-id': 'jwks-user', 'x-hasura-family-id': 'jwks-fam' } })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setExpirationTime('10m')
    .sign(key);

describe('AUTH_JWKS_URL', () => {
  it('verifies RS256 tokens against the JWKS and refuses tokens signed with another key', async () => {
    const gw = await start({ AUTH_JWT_SECRET: '', AUTH_JWKS_URL: jwksUrl });
    const ok = await gw.call('POST', '/api/v1/admit', {
      token: await rs256(issuerKeys.privateKey),
      body: { mediaId: 'm', deviceId: 'd' },
    });
    expect(ok.status).toBe(200);
    const forged = await gw.call('POST', '/api/v1/admit', {
      token: await rs256(otherKeys.privateKey),
      body: { mediaId: 'm', deviceId: 'd' },
    });
    expect(forged.status).toBe(401);
  });
});
