import { z } from 'zod';

/** The environment as the process has it (a plain object in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

/** One variable that cannot be used, and why. */
export interface SettingProblem {
  readonly variable: string;
  readonly message: string;
}

/**
 * Settings an app cannot start with: `problems` names every bad variable,
 * and so does the message (`NAME: reason; NAME: reason`).
 */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  readonly problems: readonly SettingProblem[];

  constructor(problems: readonly SettingProblem[], options?: { cause?: unknown }) {
    super(problems.map((p) => (p.variable ? `${p.variable}: ${p.message}` : p.message)).join('; '), options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** One row of a settings table: what the README shows. */
export interface VariableDoc {
  readonly name: string;
  /** As written in the table: a value in backticks, `unset`, `required`, or words. */
  readonly default: string;
  readonly meaning: string;
}

/**
 * The variables one package or app reads: their documentation and the one
 * function that reads them. Each package exports its own; an app composes
 * them with {@link parseSettings}.
 */
export interface Settings<T> {
  /** Heading of its table in the README. */
  readonly title: string;
  readonly variables: readonly VariableDoc[];
  /**
   * Reads the variables from `env` (empty values count as unset). Opens nothing: what it returns
   * is values (a store or a connection is made from them afterwards).
   * @throws ConfigError naming each bad variable
   */
  read(env: Env): T;
}

/** Metadata a variable's schema carries for the README (`.meta({ description, shown })`). */
interface VariableMeta {
  description?: string;
  /** The default as the table shows it, when it is not the schema's own (`5005 / 5006`, `one is required`). */
  shown?: string;
}

const shownDefault = (schema: z.ZodType): string => {
  const meta = (schema.meta() ?? {}) as VariableMeta;
  if (meta.shown !== undefined) return meta.shown;
  const value = defaultOf(schema);
  return value === undefined ? 'unset' : `\`${String(value)}\``;
};

/** The value a schema takes when the variable is unset: its `.default()`, looked for through pipes. */
function defaultOf(schema: z.ZodType): unknown {
  const def = schema._zod.def as { type: string; defaultValue?: unknown; in?: z.ZodType };
  if (def.type === 'default') return def.defaultValue;
  return def.type === 'pipe' && def.in ? defaultOf(def.in) : undefined;
}

/** Without the empty values, which count as unset. */
export const setOnly = (env: Env): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));

/** The problems of a failed parse, one per variable. */
function problemsOf(error: z.ZodError): SettingProblem[] {
  const seen = new Map<string, string>();
  for (const issue of error.issues) {
    const variable = String(issue.path[0] ?? '');
    if (!seen.has(variable)) seen.set(variable, issue.message);
  }
  return [...seen].map(([variable, message]) => ({ variable, message }));
}

/** Options of {@link defineSettings}. */
export interface DefineSettingsOptions {
  /**
   * The README rows, for a family of variables a row each would drown (`QUEUE_<QUEUE>_*`).
   * @default one row per field, from its `.meta()`
   */
  rows?: readonly VariableDoc[];
}

/**
 * Settings from a zod shape, one field per variable, each with
 * `.meta({ description })` last in its chain (the README's meaning). `derive`
 * turns the parsed values into what the app uses and may check variables
 * together (throw a {@link ConfigError}).
 */
export function defineSettings<S extends z.ZodRawShape, T = z.output<z.ZodObject<S>>>(
  title: string,
  shape: S,
  derive?: (values: z.output<z.ZodObject<S>>, env: Env) => T,
  options: DefineSettingsOptions = {},
): Settings<T> {
  const schema = z.object(shape);
  return {
    title,
    variables:
      options.rows ??
      Object.entries(shape).map(([name, field]) => ({
        name,
        default: shownDefault(field as z.ZodType),
        meaning: ((field as z.ZodType).meta() as VariableMeta | undefined)?.description ?? '',
      })),
    read(env) {
      const parsed = schema.safeParse(setOnly(env));
      if (!parsed.success) throw new ConfigError(problemsOf(parsed.error));
      return derive ? derive(parsed.data, env) : (parsed.data as T);
    },
  };
}

/** The values of a composition of settings. */
export type SettingsValues<G extends Record<string, Settings<unknown>>> = {
  readonly [K in keyof G]: G[K] extends Settings<infer T> ? T : never;
};

/**
 * Reads every group from `env` once and returns their values, frozen. Every
 * group is read even after one fails, so the one {@link ConfigError} it
 * throws names every bad variable.
 */
export function parseSettings<G extends Record<string, Settings<unknown>>>(groups: G, env: Env): SettingsValues<G> {
  const values: Record<string, unknown> = {};
  const problems: SettingProblem[] = [];
  for (const [key, group] of Object.entries(groups)) {
    try {
      values[key] = group.read(env);
    } catch (error) {
      // A reader that throws anything but a ConfigError is a bug, not a bad variable.
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze(values) as SettingsValues<G>;
}

/** The README table of `groups`' variables, in their order. */
export function settingsTable(groups: readonly Settings<unknown>[]): string {
  const rows = groups.flatMap((g) => g.variables).map((v) => `| \`${v.name}\` | ${v.default} | ${v.meaning} |`);
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** The one grammar of an on/off variable: `on`/`off`, `true`/`false`, `1`/`0`, `yes`/`no`. */
export const onOff = z
  .enum(['on', 'off', 'true', 'false', '1', '0', 'yes', 'no'], { error: 'expected on or off (true or false)' })
  .transform((v) => v === 'on' || v === 'true' || v === '1' || v === 'yes');

/** An on/off variable ({@link onOff}) that is `fallback` when unset. */
export const flag = (fallback: boolean) =>
  z
    .enum(['on', 'off', 'true', 'false', '1', '0', 'yes', 'no'], { error: 'expected on or off (true or false)' })
    .default(fallback ? 'on' : 'off')
    .pipe(onOff);

/** A whole number from `min` to `max`. */
export const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `expected at least ${min}`).max(max, `expected at most ${max}`));

/** `PORT`, `HOST` and `LOG_LEVEL`, as every app reads them. */
export const serviceSettings = (defaultPort: number, shownPort = `\`${defaultPort}\``) =>
  defineSettings('HTTP service', {
    PORT: wholeNumber(0, 65535)
      .default(defaultPort)
      .meta({ description: 'HTTP port (0 picks a free one).', shown: shownPort }),
    HOST: z.string().min(1).default('0.0.0.0').meta({ description: 'HTTP bind address.' }),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .meta({ description: 'pino level; JSON lines with the request or job id, tokens never logged.' }),
  });
