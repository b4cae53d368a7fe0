/** An object key under an output prefix (`''`, `hls/m1` and `hls/m1/` all work). */
export const keyUnder = (prefix: string, rel: string): string =>
  `${prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`}${rel}`;
