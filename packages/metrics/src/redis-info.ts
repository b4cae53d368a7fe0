/** Parses `INFO` output into a flat map of field → value. */
export function parseInfo(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const at = line.indexOf(':');
    if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

/** A numeric INFO field, or 0. */
export const infoNumber = (fields: Map<string, string>, name: string): number => Number(fields.get(name) ?? 0) || 0;
