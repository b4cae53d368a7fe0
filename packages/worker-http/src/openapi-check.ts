// Test support (not exported): checks a real HTTP response against an OpenAPI 3.1 document the
// way a generated client would read it: the status must be documented for the route, the
// content type must be the documented one, and the body must match its schema (JSON Schema
// 2020-12, validated by Ajv).
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

type Doc = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
  components?: unknown;
};

const BASE = 'https://nself.tv/openapi.json';

/** A checker for one document: `check(method, template, response)` returns the problems found. */
export function openApiChecker(doc: Doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // The document's components, addressable as `BASE#/components/…`.
  ajv.addSchema({ $id: BASE, components: doc.components }, BASE);
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
  const validatorFor = (key: string, schema: unknown) => {
    let validate = compiled.get(key);
    if (!validate) {
      const absolute = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${BASE}#/components/`));
      validate = ajv.compile(absolute);
      compiled.set(key, validate);
    }
    return validate;
  };

  return {
    /** Paths of the document and the methods each documents. */
    routes: () => Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => [m, path])),
    async check(method: string, template: string, response: Response): Promise<string[]> {
      const route = doc.paths[template]?.[method.toLowerCase()];
      if (!route) return [`${method} ${template} is not in the document`];
      const documented = route.responses[String(response.status)];
      if (!documented) return [`${method} ${template} answered ${response.status}, which the document does not list`];
      const text = await response.text();
      // A body the document says nothing about is as undocumented as a status.
      if (!documented.content)
        return text === ''
          ? []
          : [`${method} ${template} ${response.status} has a body the document does not describe`];
      const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
      const media = documented.content[type];
      if (!media) {
        return [
          `${method} ${template} ${response.status} is ${type || 'untyped'}, the document says ${Object.keys(documented.content).join(' or ')}`,
        ];
      }
      if (type !== 'application/json') return [];
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return [`${method} ${template} ${response.status} is not JSON`];
      }
      const validate = validatorFor(`${method} ${template} ${response.status}`, media.schema);
      if (validate(body)) return [];
      return (validate.errors ?? []).map(
        (e) =>
          `${method} ${template} ${response.status}: ${e.instancePath || '(body)'} ${e.message} ${JSON.stringify(e.params)}`,
      );
    },
  };
}
