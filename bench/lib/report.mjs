// Turns measured rows into verdicts against the issue's goals, a console table, and the
// sections of docs/benchmarks.md (each scenario's section is replaced when it is re-run).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './targets.mjs';

/**
 * @typedef {import('../ingest.mjs').IngestRow} IngestRow
 * @typedef {import('../query.mjs').QueryRow} QueryRow
 * @typedef {{ scenario: string, case: string, goal: string, measured: string, verdict: 'PASS' | 'FAIL' | 'n/a' }} Verdict
 */

const fmt = (/** @type {number | undefined} */ n, digits = 0) =>
  n === undefined || Number.isNaN(n) ? '' : n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * Loire's rate against each other target's, per scenario and case.
 * @param {IngestRow[]} rows
 * @param {Record<string, Record<string, number>>} goals  scenario → target → minimum ratio
 * @returns {Verdict[]}
 */
export function ingestVerdicts(rows, goals) {
  /** @type {Verdict[]} */
  const verdicts = [];
  const cases = [...new Set(rows.map((r) => `${r.scenario}\u0000${r.case}`))].map((k) => k.split('\u0000'));
  for (const [scenario, name] of cases) {
    const at = (/** @type {string} */ target) => rows.find((r) => r.scenario === scenario && r.case === name && r.target === target);
    const loire = at('loire');
    for (const [versus, minimum] of Object.entries(goals[scenario] ?? {})) {
      const other = at(versus);
      const goal = `Loire ≥ ${minimum >= 1 ? `${minimum}x` : `${Math.round(minimum * 100)}% of`} ${versus}`;
      if (loire?.status !== 'ok' || other?.status !== 'ok' || !loire.instancesPerSecond || !other.instancesPerSecond) {
        const missing = loire?.status !== 'ok' ? 'loire' : versus;
        verdicts.push({ scenario, case: name, goal, measured: `${missing} not measured`, verdict: 'n/a' });
        continue;
      }
      const ratio = loire.instancesPerSecond / other.instancesPerSecond;
      verdicts.push({ scenario, case: name, goal, measured: `${ratio.toFixed(2)}x`, verdict: ratio >= minimum ? 'PASS' : 'FAIL' });
    }
  }
  return verdicts;
}

/**
 * Ingest into the full index against ingest into the empty one.
 * @param {QueryRow[]} rows
 * @param {number} minimumRatio
 * @returns {Verdict[]}
 */
export function queryVerdicts(rows, minimumRatio) {
  const loire = rows.filter((r) => r.target === 'loire');
  const empty = loire.find((r) => r.case === 'empty index');
  const full = loire.find((r) => r.case !== 'empty index');
  const name = full?.case ?? 'full index';
  const goal = `Loire ingest with the full index ≥ ${Math.round(minimumRatio * 100)}% of ingest into an empty index`;
  if (empty?.status !== 'ok' || full?.status !== 'ok' || !empty.instancesPerSecond || !full.instancesPerSecond) {
    return [{ scenario: 'query-1m', case: name, goal, measured: 'loire not measured', verdict: 'n/a' }];
  }
  const ratio = full.instancesPerSecond / empty.instancesPerSecond;
  return [{ scenario: 'query-1m', case: name, goal, measured: `${Math.round(ratio * 100)}%`, verdict: ratio >= minimumRatio ? 'PASS' : 'FAIL' }];
}

/**
 * A GitHub-flavoured markdown table.
 * @param {string[]} header
 * @param {string[][]} lines
 */
export function markdownTable(header, lines) {
  const escape = (/** @type {string} */ cell) => cell.replaceAll('|', '\\|').replaceAll('\n', ' ');
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.map(escape).join(' | ')} |`).join('\n');
}

/**
 * A plain-text table for the console.
 * @param {string[]} header
 * @param {string[][]} lines
 */
export function textTable(header, lines) {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const line = (/** @type {string[]} */ cells) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...lines.map(line)].join('\n');
}

/**
 * A reason fit for a table cell and for the repository: one line, short, with this machine's
 * checkout and temp paths replaced by neutral names.
 * @param {string} text
 */
export function neutralReason(text) {
  let out = text.replace(/\s+/g, ' ').trim();
  out = out.replaceAll(`${REPO_ROOT}${path.sep}`, '').replaceAll(REPO_ROOT, '.');
  out = out.replaceAll(os.tmpdir(), '$TMPDIR');
  return out.length > 200 ? `${out.slice(0, 197)}...` : out;
}

const statusCell = (/** @type {{ status: string, reason?: string }} */ r) =>
  (r.status === 'ok' ? 'ok' : `${r.status}: ${neutralReason(r.reason ?? '')}`);

/**
 * "ok", with how many runs the median stands for and any failed round.
 * @param {IngestRow} r
 */
function okCell(r) {
  if (r.status !== 'ok') return statusCell(r);
  const median = (r.runs ?? 1) > 1 ? `median of ${r.runs}` : '';
  const failed = r.failedRuns ? `${r.failedRuns} failed round(s): ${neutralReason(r.reason ?? '')}` : '';
  const detail = [median, failed].filter(Boolean).join('; ');
  return detail ? `ok (${detail})` : 'ok';
}

/** @param {IngestRow[]} rows */
export function ingestTable(rows) {
  return {
    header: ['Case', 'Target', 'Instances', 'Seconds', 'Instances/s', 'MB/s', 'Target CPU µs/instance', 'storescu CPU µs/instance', 'Idle', 'Status'],
    lines: rows.map((r) => [
      r.case, r.target, fmt(r.instances), fmt(r.seconds, 2), fmt(r.instancesPerSecond), fmt(r.mbPerSecond, 1),
      fmt(r.cpu?.targetMicros), fmt(r.cpu?.sendersMicros), r.cpu ? `${Math.round(r.cpu.idleShare * 100)}%` : '',
      okCell(r),
    ]),
  };
}

/** @param {QueryRow[]} rows */
export function queryTable(rows) {
  return {
    header: ['Target', 'Case', 'Indexed', 'Ingest instances/s', 'C-FIND p50 (ms)', 'C-FIND p95 (ms)', 'max (ms)', 'Queries', 'Status'],
    lines: rows.map((r) => [
      r.target, r.case, fmt(r.indexed), fmt(r.instancesPerSecond), fmt(r.p50, 1), fmt(r.p95, 1), fmt(r.max, 1), fmt(r.queries), statusCell(r),
    ]),
  };
}

/** @param {Verdict[]} verdicts */
export function verdictTable(verdicts) {
  return {
    header: ['Case', 'Goal', 'Measured', 'Verdict'],
    lines: verdicts.map((v) => [v.case, v.goal, v.measured, v.verdict]),
  };
}

/**
 * Replaces the block between `<!-- bench:KEY:start -->` and `<!-- bench:KEY:end -->`, or
 * appends it when the document does not have it yet.
 * @param {string} doc
 * @param {string} key
 * @param {string} body
 */
export function replaceBlock(doc, key, body) {
  const start = `<!-- bench:${key}:start -->`;
  const end = `<!-- bench:${key}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from >= 0 && to > from) return doc.slice(0, from) + block + doc.slice(to + end.length);
  return `${doc.trimEnd()}\n\n${block}\n`;
}

/**
 * Writes each scenario's section into the document (creating it from `skeleton` if missing).
 * @param {string} file
 * @param {string} skeleton
 * @param {Array<{ key: string, body: string }>} sections
 */
export function updateDocument(file, skeleton, sections) {
  let doc = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : skeleton;
  for (const { key, body } of sections) doc = replaceBlock(doc, key, body);
  fs.writeFileSync(file, doc.endsWith('\n') ? doc : `${doc}\n`);
}
