import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from './names.js';

const read = (file: string) => readFileSync(new URL(`../monitoring/${file}`, import.meta.url), 'utf8');
const known = new Set<string>(Object.values(METRIC_NAMES));
const referenced = (text: string) =>
  [...new Set(text.match(/\b(?:nself_tv|redis)_[a-z_]+\b/g) ?? [])].map((n) => n.replace(/_(bucket|sum|count)$/, ''));

describe('monitoring files', () => {
  it('the Grafana dashboard only uses metrics we expose', () => {
    const dashboard = JSON.parse(read('grafana-dashboard.json')) as { panels: { targets: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    const names = referenced(exprs);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((n) => !known.has(n))).toEqual([]);
  });

  it('the alert rules only use metrics we expose, and cover what operators need', () => {
    const rules = read('alerts.yml');
    const names = referenced(
      rules
        .split('\n')
        .filter((l) => l.trim().startsWith('expr:'))
        .join('\n'),
    );
    expect(names.filter((n) => !known.has(n))).toEqual([]);
    for (const alert of [
      'NselfTvQueueBacklogGrowing',
      'NselfTvQueueFailureRate',
      'NselfTvStalledJobs',
      'NselfTvRedisMemoryNearMax',
      'NselfTvRedisEvictionPolicy',
    ]) {
      expect(rules).toContain(`alert: ${alert}`);
    }
    for (const record of ['nself_tv:queue_parts_completed:rate10m', 'nself_tv:queue_backlog_eta_seconds']) {
      expect(rules).toContain(`record: ${record}`);
    }
  });
});
