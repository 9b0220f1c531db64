import { describe, expect, it } from 'vitest';
import { ingestVerdicts, markdownTable, neutralReason, queryVerdicts, replaceBlock } from './report.mjs';

const row = (target: string, rate: number | null, scenario = 'ingest-ct', name = '1 association') =>
  rate === null
    ? { scenario, case: name, target, status: 'not available' as const, reason: 'not built' }
    : { scenario, case: name, target, status: 'ok' as const, instancesPerSecond: rate };

describe('ingestVerdicts', () => {
  const goals = { 'ingest-ct': { orthanc: 2, storescp: 0.7 } };

  it('passes a goal met and fails a goal missed, with the measured ratio', () => {
    const verdicts = ingestVerdicts([row('storescp', 1000), row('orthanc', 200), row('loire', 650)], goals);
    expect(verdicts.map((v) => [v.goal, v.measured, v.verdict])).toEqual([
      ['Loire ≥ 2x orthanc', '3.25x', 'PASS'],
      ['Loire ≥ 70% of storescp', '0.65x', 'FAIL'],
    ]);
  });

  it('says n/a, not FAIL, when Loire or the reference was not measured', () => {
    expect(ingestVerdicts([row('storescp', 1000), row('orthanc', 200), row('loire', null)], goals).map((v) => v.verdict)).toEqual(['n/a', 'n/a']);
    expect(ingestVerdicts([row('storescp', null), row('orthanc', 200), row('loire', 500)], goals).map((v) => v.verdict)).toEqual(['PASS', 'n/a']);
  });

  it('judges each case of a scenario on its own rows', () => {
    const goalsSmall = { 'ingest-small': { orthanc: 2 } };
    const rows = [
      row('orthanc', 100, 'ingest-small', '1 association'), row('loire', 250, 'ingest-small', '1 association'),
      row('orthanc', 300, 'ingest-small', '4 associations'), row('loire', 250, 'ingest-small', '4 associations'),
    ];
    expect(ingestVerdicts(rows, goalsSmall).map((v) => [v.case, v.verdict])).toEqual([['1 association', 'PASS'], ['4 associations', 'FAIL']]);
  });
});

describe('queryVerdicts', () => {
  it('compares ingest into the full index with ingest into the empty one', () => {
    const rows = [
      { scenario: 'query-1m', case: 'empty index', target: 'loire', status: 'ok' as const, instancesPerSecond: 1000 },
      { scenario: 'query-1m', case: '1,000,000 indexed', target: 'loire', status: 'ok' as const, instancesPerSecond: 790 },
    ];
    expect(queryVerdicts(rows, 0.8)[0]).toMatchObject({ measured: '79%', verdict: 'FAIL' });
    rows[1]!.instancesPerSecond = 810;
    expect(queryVerdicts(rows, 0.8)[0]).toMatchObject({ measured: '81%', verdict: 'PASS' });
  });
});

describe('replaceBlock', () => {
  it('replaces only the named block and keeps the rest of the document', () => {
    const doc = 'intro\n<!-- bench:a:start -->\nold a\n<!-- bench:a:end -->\n<!-- bench:b:start -->\nold b\n<!-- bench:b:end -->\n';
    const updated = replaceBlock(doc, 'a', 'new a');
    expect(updated).toContain('new a');
    expect(updated).not.toContain('old a');
    expect(updated).toContain('old b');
    expect(updated.startsWith('intro\n')).toBe(true);
  });

  it('appends a block the document does not have yet', () => {
    expect(replaceBlock('# T\n', 'c', 'body')).toBe('# T\n\n<!-- bench:c:start -->\nbody\n<!-- bench:c:end -->\n');
  });
});

describe('markdownTable', () => {
  it('escapes pipes inside cells so that an error message cannot break the table', () => {
    expect(markdownTable(['a'], [['x|y']]).split('\n')[2]).toBe('| x\\|y |');
  });
});

describe('neutralReason', () => {
  it('keeps one short line without this checkout or temp directory in it', async () => {
    const { REPO_ROOT } = await import('./targets.mjs');
    const os = await import('node:os');
    const reason = neutralReason(`Cannot find module '${REPO_ROOT}/packages/server/dist/x.js'\n  in ${os.tmpdir()}/loire-bench-run-1`);
    expect(reason).toBe("Cannot find module 'packages/server/dist/x.js' in $TMPDIR/loire-bench-run-1");
    expect(neutralReason('x'.repeat(500)).length).toBe(200);
  });
});
