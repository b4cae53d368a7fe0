import { safeIdSchema } from '@nself-tv/redis-keys';
import { errorBodySchema, type HttpErrorCode } from '@nself-tv/service';
import { z } from 'zod';
import { admitBody, heartbeatBody } from './api-schemas.js';

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
const jsonSchema = (schema: z.ZodType) => ({ ...z.toJSONSchema(schema, { io: 'input' }), $schema: undefined });
const idParam = (name: string) => ({ name, in: 'path', required: true, schema: jsonSchema(safeIdSchema) });
const secured = { security: [{ bearer: [] }] };

/** The `error` codes the gateway answers, each with its status in `HTTP_ERRORS`. */
export const GATEWAY_ERROR_CODES: readonly HttpErrorCode[] = [
  'bad_request',
  'unauthorized',
  'policy_denied',
  'not_found',
  'session_not_found',
  'payload_too_large',
  'unsupported_media_type',
  'concurrency_limit',
  'device_limit',
  'rate_limited',
  'internal_error',
  'service_unavailable',
];
/** What a route that takes a JSON body answers besides its own. */
const bodyErrors = {
  413: error('payload_too_large: the body is over BODY_LIMIT_BYTES'),
  415: error('unsupported_media_type: a body that is not application/json'),
};

/** The OpenAPI 3.1 document served at `GET /openapi.json`. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'nself-tv stream gateway',
    version: '0.1.0',
    description:
      'Playback sessions under concurrent-stream limits (10 per family, 2 per device by default). Every /api route needs the caller’s JWT; user and family come from it.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    schemas: {
      Error: errorBodySchema(GATEWAY_ERROR_CODES, {
        activeSessions: { type: 'array', items: { $ref: '#/components/schemas/Session' } },
      }),
      Session: {
        type: 'object',
        properties: {
          sessionId: { type: 'string' },
          userId: { type: 'string' },
          mediaId: { type: 'string' },
          deviceId: { type: 'string' },
          familyId: { type: 'string' },
          startedAt: { type: 'string', format: 'date-time' },
          lastHeartbeat: { type: 'string', format: 'date-time' },
        },
      },
      AdmitRequest: jsonSchema(admitBody),
      HeartbeatRequest: jsonSchema(heartbeatBody.unwrap().unwrap()),
    },
  },
  paths: {
    '/api/v1/admit': {
      post: {
        ...secured,
        summary: 'Start a playback session',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/AdmitRequest' } } },
        },
        responses: {
          200: {
            description: 'Admitted',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    data: {
                      type: 'object',
                      properties: {
                        sessionId: { type: 'string' },
                        mediaUrl: {
                          type: 'string',
                          format: 'uri',
                          description:
                            'Signed URL of the master playlist, bound to this session and media (PLAYBACK_URL_TTL_SECONDS)',
                        },
                        trickplayUrl: { type: 'string', format: 'uri', description: 'Signed trickplay WebVTT' },
                        token: { type: 'string', description: 'HS256 playback JWT (for the fallback manifest path)' },
                        expiresAt: {
                          type: 'string',
                          format: 'date-time',
                          description: 'When the session lapses without a heartbeat',
                        },
                        tokenExpiresAt: { type: 'string', format: 'date-time' },
                        heartbeatIntervalSeconds: { type: 'integer' },
                      },
                    },
                  },
                },
              },
            },
          },
          400: error('Malformed body; `field` names what is wrong'),
          401: error('Missing or invalid token'),
          403: error(
            'policy_denied: ids that disagree with the token, a restricted role, or a media item the caller’s family may not play (PLAYBACK_ACCESS)',
          ),
          ...bodyErrors,
          429: error('concurrency_limit (family) or device_limit, with activeSessions; or rate_limited'),
          500: error('internal_error: a fault; the request id finds it in the logs'),
          503: error('service_unavailable: Redis, or the access decision, cannot answer now; retry'),
        },
      },
    },
    '/api/v1/heartbeat/{sessionId}': {
      post: {
        ...secured,
        summary: 'Keep a session alive (every heartbeatIntervalSeconds)',
        parameters: [idParam('sessionId')],
        description:
          'No body, an empty body (with or without a JSON content type) or `{ deviceId }`. The token’s user must own the session; a device id, in the body or `X-Device-Id`, must then be the session’s.',
        requestBody: {
          required: false,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/HeartbeatRequest' } } },
        },
        responses: {
          200: { description: '`{ status: "ok", sessionId, expiresAt }`' },
          400: error('A malformed device id'),
          401: error('Missing or invalid token'),
          404: error('session_not_found: expired, ended, or not the caller’s'),
          ...bodyErrors,
        },
      },
    },
    '/api/v1/session/{sessionId}': {
      delete: {
        ...secured,
        summary: 'End a session (idempotent)',
        parameters: [idParam('sessionId')],
        responses: { 200: { description: '`{ status: "ended", sessionId }`' }, 401: error('Missing or invalid token') },
      },
    },
    '/api/v1/sessions/{familyId}': {
      get: {
        ...secured,
        summary: 'Active sessions of the caller’s family',
        parameters: [idParam('familyId')],
        responses: {
          200: { description: '`{ data: [Session], count, familyId }`' },
          401: error('Missing or invalid token'),
          403: error('Another family'),
        },
      },
    },
    '/play/{mediaId}/{signature}/{path}': {
      get: {
        summary: 'Playback files: master, variant, audio and subtitle playlists, segments, WebVTT, trickplay',
        description:
          'Authorised by the signature in the path (bound to a session and the media) while the session is live: refused within 2 s after DELETE or expiry. Playlists come back with every URI signed. Ranges, HEAD, ETag; segments `private, max-age=31536000, immutable`, playlists `private, max-age=2`.',
        parameters: [
          idParam('mediaId'),
          { name: 'signature', in: 'path', required: true, schema: { type: 'string', maxLength: 512 } },
          {
            name: 'path',
            in: 'path',
            required: true,
            schema: { type: 'string' },
            description: 'A file under the media’s HLS folder',
          },
        ],
        responses: {
          200: { description: 'The file (`application/vnd.apple.mpegurl`, `video/mp2t`, `text/vtt`, `image/jpeg`…)' },
          206: { description: 'A byte range' },
          304: { description: 'Not modified (If-None-Match)' },
          401: error('Missing, malformed or forged signature'),
          403: error('Expired URL, another media item, or the session has ended'),
          404: error('No such file (or a path that would leave the media root)'),
          416: { description: 'Unsatisfiable range' },
        },
      },
    },
    '/api/stream/{mediaId}/manifest.m3u8': {
      get: {
        summary: 'The web client’s fallback: the master playlist for a playback token',
        parameters: [
          idParam('mediaId'),
          {
            name: 'token',
            in: 'query',
            required: true,
            schema: { type: 'string' },
            description: 'The playback JWT from admit',
          },
        ],
        responses: {
          200: { description: 'The master playlist, every URI signed' },
          401: error('Missing or invalid playback token'),
          403: error('Another media item, or the session has ended'),
        },
      },
    },
    '/api/v1/playback/authorize': {
      get: {
        summary: 'nginx auth_request / CDN check for a playback URI (no bytes)',
        parameters: [
          {
            name: 'X-Original-URI',
            in: 'header',
            required: true,
            schema: { type: 'string' },
            description: '/play/<mediaId>/<signature>/<path>',
          },
        ],
        responses: {
          204: { description: 'Allowed' },
          401: error('No or a forged signature'),
          403: error('Expired, another media item, or the session has ended'),
        },
      },
    },
    '/dev/player': {
      get: { summary: 'Development player (only with DEV_PLAYER=true)', responses: { 200: { description: 'HTML' } } },
    },
    '/dev/token': {
      post: {
        summary: 'Development sign-in (only with DEV_PLAYER=true): a caller JWT for dev-user in dev-family',
        responses: { 200: { description: '`{ token, userId, familyId }`' } },
      },
    },
    '/health': { get: { summary: 'Liveness', responses: { 200: { description: 'The process is up' } } } },
    '/ready': {
      get: {
        summary: 'Readiness: Redis answers',
        responses: { 200: { description: 'Ready' }, 503: error('Redis unreachable') },
      },
    },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'Text exposition' } } } },
  },
} as const;
