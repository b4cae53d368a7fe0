// The layering rules of the workspace, checked by `pnpm test:layers` (scripts/layers.mjs) in CI.
// Paths are the resolved files: a workspace package imported by name resolves to its `dist`.
const TESTS = '(\\.test\\.ts|/test-helpers\\.ts|/test-[a-z-]+\\.ts)$';

/** The libraries every app stands on; none of them may reach the HTTP shell. */
const FOUNDATION = '^packages/(redis-keys|cache|sessions|storage|media-tools|queues|metrics)/src/';
/** The HTTP shell: Fastify, the HTTP half of service, the worker apps' runner. */
const HTTP_SHELL =
  '^(node_modules/.*/fastify/|packages/service/(src/(http|probes|run-service|errors)\\.ts|dist/index\\.)|packages/worker-http/)';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycles anywhere: a cycle is two rooms that are really one, or a seam in the wrong place.',
      from: { pathNot: TESTS },
      to: { circular: true },
    },
    {
      name: 'runner-knows-no-pipeline',
      severity: 'error',
      comment:
        'The job runner offers hooks; the ingest is one observer an app plugs in. The runner imports nothing of the ingest.',
      from: { path: '^packages/queues/src/runner/', pathNot: TESTS },
      to: { path: '^packages/queues/src/ingest/' },
    },
    {
      name: 'foundation-not-http-shell',
      severity: 'error',
      comment: 'The foundation libraries never import the HTTP shell (Fastify, service’s HTTP half, worker-http).',
      from: { path: FOUNDATION, pathNot: TESTS },
      to: { path: HTTP_SHELL },
    },
    {
      name: 'processors-not-runner-package',
      severity: 'error',
      comment:
        'A processor does its media job; the app’s main composes it into the worker app (worker-http). Only main.ts and index.ts import the runner package.',
      from: {
        path: '^apps/(video-processor|thumbnail-generator)/src/',
        pathNot: ['/(main|index)\\.ts$', TESTS],
      },
      to: { path: '^packages/worker-http/' },
    },
    {
      name: 'packages-not-apps',
      severity: 'error',
      comment: 'A package never imports an app.',
      from: { path: '^packages/' },
      to: { path: '^apps/' },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules', '/dist/'] },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'default'],
      extensions: ['.ts', '.js', '.mjs'],
    },
  },
};
