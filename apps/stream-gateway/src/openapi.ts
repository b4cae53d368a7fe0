const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
const idParam = (name: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' },
});
const secured = { security: [{ bearer: [] }] };

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
      Error: {
        type: 'object',
        required: ['error', 'message'],
        properties: {
          error: {
            type: 'string',
            enum: [
              'bad_request',
              'unauthorized',
              'policy_denied',
              'session_not_found',
              'concurrency_limit',
              'device_limit',
              'rate_limited',
              'not_found',
              'service_unavailable',
              'internal_error',
            ],
          },
          message: { type: 'string' },
          field: { type: 'string', description: 'The request field at fault (400 only).' },
          activeSessions: { type: 'array', items: { $ref: '#/components/schemas/Session' } },
        },
      },
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
      AdmitRequest: {
        type: 'object',
        required: ['mediaId', 'deviceId'],
        additionalProperties: false,
        properties: {
          mediaId: { type: 'string' },
          deviceId: { type: 'string' },
          userId: { type: 'string', description: 'Must match the token when given.' },
          familyId: { type: 'string', description: 'Must match the token when given.' },
          clientRequestId: { type: 'string', description: 'Retries with the same id take no second slot.' },
        },
      },
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
                        token: { type: 'string', description: 'HS256 playback JWT' },
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
          403: error('Ids that disagree with the token, or a restricted role'),
          429: error('concurrency_limit (family) or device_limit, with activeSessions; or rate_limited'),
        },
      },
    },
    '/api/v1/heartbeat/{sessionId}': {
      post: {
        ...secured,
        summary: 'Keep a session alive (every heartbeatIntervalSeconds)',
        parameters: [idParam('sessionId')],
        requestBody: {
          required: false,
          content: { 'application/json': { schema: { type: 'object', properties: { deviceId: { type: 'string' } } } } },
        },
        responses: {
          200: { description: '`{ status: "ok", sessionId, expiresAt }`' },
          400: error('No deviceId (body or X-Device-Id header)'),
          401: error('Missing or invalid token'),
          404: error('session_not_found: expired, ended, or not the caller’s'),
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
