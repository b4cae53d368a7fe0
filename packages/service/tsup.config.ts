import { buildConfig } from '../../tsup.shared.js';

// `settings` is its own entry: the foundation libraries read their variables through it without Fastify.
export default buildConfig({ entry: ['src/index.ts', 'src/settings.ts'] });
