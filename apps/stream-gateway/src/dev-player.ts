import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isSafeId } from '@nself-tv/redis-keys';
import { HttpError } from '@nself-tv/service';
import type { FastifyPluginAsync } from 'fastify';
import { SignJWT } from 'jose';
import type { GatewayConfig } from './config.js';
import { PLAYER_HTML } from './player-page.js';

/** The identity the development player signs in as (`?family=` on the page picks the family). */
export const DEV_USER = { userId: 'dev-user', familyId: 'dev-family' };

/**
 * Development only (`DEV_PLAYER=true`, never in production): the player page
 * at `/dev/player`, hls.js from npm at `/dev/player/hls.min.js`, and
 * `POST /dev/token[?family=<familyId>]`, which signs a caller token for
 * {@link DEV_USER} (in that family: admit plays only the family's own media)
 * with `AUTH_JWT_SECRET` so the page can sign in.
 */
export const devPlayer: FastifyPluginAsync<{ auth: GatewayConfig['auth'] }> = async (app, config) => {
  const hlsJs = await readFile(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));
  app.get('/dev/player', async (_request, reply) => reply.type('text/html; charset=utf-8').send(PLAYER_HTML));
  app.get('/dev/player/hls.min.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(hlsJs),
  );
  app.post('/dev/token', async (request) => {
    const secret = config.auth.secret;
    if (!secret) throw new HttpError('policy_denied', 'dev tokens need AUTH_JWT_SECRET (HS256)');
    const asked = (request.query as { family?: unknown }).family;
    if (asked !== undefined && !isSafeId(asked)) {
      throw new HttpError('bad_request', 'family: must be a safe id', { field: 'family' });
    }
    const familyId = asked ?? DEV_USER.familyId;
    let jwt = new SignJWT({ family_id: familyId, role: 'user' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(DEV_USER.userId)
      .setIssuedAt()
      .setExpirationTime('1h');
    if (config.auth.issuer) jwt = jwt.setIssuer(config.auth.issuer);
    if (config.auth.audience) jwt = jwt.setAudience(config.auth.audience);
    return { token: await jwt.sign(secret), userId: DEV_USER.userId, familyId };
  });
};
