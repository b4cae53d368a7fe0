import type { QueueName } from '@nself-tv/redis-keys';
import { z } from 'zod';
import { ingestRequestSchema, ingestStateSchema } from '../ingest/state.js';
import { PAYLOAD_SCHEMAS, RESULT_SCHEMAS } from './registry.js';

/**
 * JSON Schema (draft 2020-12) of a queue's payload as producers send it, for
 * producers in other languages. The same documents are shipped as
 * `@nself-tv/queues/schemas/<queue>.payload.json` (`video:transcode` →
 * `video-transcode`).
 */
export function payloadJsonSchema(queue: QueueName): Record<string, unknown> {
  const schema = z.toJSONSchema(PAYLOAD_SCHEMAS[queue], { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  const doc: Record<string, unknown> = {
    ...schema,
    $id: `https://nself.org/schemas/tv/${fileStem(queue)}.payload.json`,
    title: `${queue} payload`,
  };
  if (queue === 'image:sprite') {
    // The "exactly one of video and images" rule is a refinement zod cannot export.
    doc.oneOf = [{ required: ['video'] }, { required: ['images'] }];
  }
  return doc;
}

/** JSON Schema of a queue's result, for status readers in other languages. */
export function resultJsonSchema(queue: QueueName): Record<string, unknown> {
  const schema = z.toJSONSchema(RESULT_SCHEMAS[queue], { io: 'output', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return { ...schema, $id: `https://nself.org/schemas/tv/${fileStem(queue)}.result.json`, title: `${queue} result` };
}

/** File name stem of a queue's schema files: `video:transcode` → `video-transcode`. */
export function fileStem(queue: QueueName): string {
  return queue.replace(':', '-');
}

/** JSON Schema of an ingest request (`POST /api/v1/ingests` on the video-processor). */
export function ingestRequestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ingestRequestSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return { ...schema, $id: 'https://nself.org/schemas/tv/ingest.request.json', title: 'ingest request' };
}

/** JSON Schema of an ingest's state (`ingest:{id}`, `GET /api/v1/ingests/:id`). */
export function ingestStateJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ingestStateSchema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://nself.org/schemas/tv/ingest.state.json', title: 'ingest state' };
}
