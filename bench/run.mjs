#!/usr/bin/env node
// The benchmark entry point: generates (or reuses) the data sets, runs the chosen scenarios
// against storescp, Orthanc and Loire in one run, prints the figures and writes each
// scenario's section of docs/benchmarks.md.
//
//   node bench/run.mjs [--scenario ingest-ct,ingest-small,ingest-documents,index-commit,query-1m,security-overhead,dicomweb,wado-series,wado-frames]
//                      [--ct 2000] [--small 10000] [--commits 20000] [--instances 1000000] [--queries 200] [--repeat 1] [--series 200] [--rounds 5]
//                      [--postgres postgres://postgres@127.0.0.1:5432/postgres]
//                      [--targets storescp,orthanc,loire]
//                      [--data DIR] [--doc docs/benchmarks.md | --no-doc] [--same-priority]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CACHE_DIR, ensureDatasets } from './generate.mjs';
import { INGEST_GOALS, priorityNote, runIngestScenarios, targetNiceness } from './ingest.mjs';
import { describeMachine, diskWriteBandwidth, loireRevision, peerVersions } from './lib/machine.mjs';
import {
  ingestTable, ingestVerdicts, markdownTable, queryTable, queryVerdicts, textTable, updateDocument, verdictTable,
} from './lib/report.mjs';
import { REPO_ROOT } from './lib/targets.mjs';
import { FULL_INDEX_INGEST_MIN_RATIO, runQueryScenario } from './query.mjs';
import { dicomwebTable, dicomwebVerdicts, runDicomwebScenario } from './dicomweb.mjs';
import { runSecurityScenario, securityTable, securityVerdicts } from './security.mjs';
import { consoleTable, consoleVerdicts, runConsoleScenario } from './console.mjs';
import { DEFAULT_POSTGRES_URL, indexCommitTable, runIndexCommitScenario } from './index-commit.mjs';
import { documentsTable, runDocumentsScenario } from './documents.mjs';
import { FRAME_CONCURRENCY, HEAD_CT_DIR, runFramesScenario, runSeriesScenario, wadoTable, wadoVerdicts } from './wado.mjs';

const SCENARIOS = ['ingest-ct', 'ingest-small', 'ingest-documents', 'index-commit', 'query-1m', 'security-overhead', 'dicomweb', 'wado-series', 'wado-frames', 'console'];
/** Series metadata requests timed per target in the dicomweb scenario. */
const METADATA_REQUESTS = 30;
const TARGET_NAMES = ['storescp', 'orthanc', 'loire'];

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: SCENARIOS.join(',') },
    targets: { type: 'string', default: TARGET_NAMES.join(',') },
    ct: { type: 'string', default: '2000' },
    small: { type: 'string', default: '10000' },
    commits: { type: 'string', default: '20000' },
    postgres: { type: 'string', default: DEFAULT_POSTGRES_URL },
    instances: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '200' },
    repeat: { type: 'string', default: '1' },
    series: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '5' },
    data: { type: 'string', default: DEFAULT_CACHE_DIR },
    doc: { type: 'string', default: path.join(REPO_ROOT, 'docs/benchmarks.md') },
    'no-doc': { type: 'boolean', default: false },
    'same-priority': { type: 'boolean', default: false },
  },
});

const scenarios = values.scenario.split(',').map((s) => s.trim()).filter(Boolean);
const targets = values.targets.split(',').map((s) => s.trim()).filter(Boolean);
for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario "${s}"; known: ${SCENARIOS.join(', ')}`);
for (const t of targets) if (!TARGET_NAMES.includes(t)) throw new Error(`unknown target "${t}"; known: ${TARGET_NAMES.join(', ')}`);
const counts = {
  ct: Number(values.ct), small: Number(values.small), commits: Number(values.commits), instances: Number(values.instances), queries: Number(values.queries), repeat: Number(values.repeat),
  series: Number(values.series), rounds: Number(values.rounds),
};
for (const [name, n] of Object.entries(counts)) if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not "${values[name]}"`);

const log = (/** @type {string} */ line) => console.log(line);
const sets = await ensureDatasets({
  out: values.data,
  ct: scenarios.includes('ingest-ct') ? counts.ct : undefined,
  small: scenarios.some((s) => ['ingest-small', 'ingest-documents', 'query-1m', 'security-overhead', 'dicomweb'].includes(s)) ? counts.small : undefined,
  log,
});

const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-bench-run-'));
const machine = describeMachine();
const versions = await peerVersions();
const revision = await loireRevision(REPO_ROOT);
log('measuring raw disk write bandwidth (1 GiB + fsync) ...');
const disk = diskWriteBandwidth(workRoot);
log(`  ${disk.mbPerSecond.toFixed(0)} MB/s`);

/** Loire (or another target) found unable to start is skipped by later scenarios. */
const unavailable = new Map();
/** @type {Array<{ key: string, body: string }>} */
const sections = [];
const measuredOn = [
  `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine.cores} cores (${machine.cpuModel}),`,
  `${machine.memoryGiB} GiB RAM, ${machine.kernel}, Node.js ${machine.node}, load average ${machine.loadAverage.toFixed(1)} at start;`,
  `Loire ${revision}, Orthanc ${versions.orthanc}, dcmtk storescu ${versions.dcmtkStorescu} / storescp ${versions.dcmtkStorescp};`,
  `raw disk write ${disk.mbPerSecond.toFixed(0)} MB/s (1 GiB in 1 MiB writes + fsync).`,
].join('\n');

/**
 * The command that re-runs one scenario with this run's sizes.
 * @param {string} scenario
 */
function rerunCommand(scenario) {
  const sizes = {
    'ingest-ct': `--ct ${counts.ct}${counts.repeat > 1 ? ` --repeat ${counts.repeat}` : ''}`,
    'ingest-small': `--small ${counts.small}${counts.repeat > 1 ? ` --repeat ${counts.repeat}` : ''}`,
    'ingest-documents': `--small ${counts.small}${counts.repeat > 1 ? ` --repeat ${counts.repeat}` : ''}`,
    'index-commit': `--commits ${counts.commits}`,
    'query-1m': `--small ${counts.small} --instances ${counts.instances} --queries ${counts.queries}`,
    'security-overhead': `--small ${counts.small} --queries ${counts.queries}${counts.repeat > 1 ? ` --repeat ${counts.repeat}` : ''}`,
    dicomweb: `--small ${counts.small} --instances ${counts.instances} --queries ${counts.queries}`,
    'wado-series': `--series ${counts.series} --rounds ${counts.rounds}`,
    'wado-frames': `--rounds ${counts.rounds}`,
    console: `--rounds ${counts.rounds}`,
  }[scenario];
  const priority = values['same-priority'] && scenario in INGEST_GOALS ? ' --same-priority' : '';
  return `npm run build && node bench/run.mjs --scenario ${scenario} ${sizes}${priority}`;
}

const titles = {
  'ingest-ct': `${counts.ct.toLocaleString('en')} CT instances (512x512, 16-bit, explicit VR LE) on one association`,
  'ingest-small': `${counts.small.toLocaleString('en')} small instances (64x64) on 1 and on ${sets.small?.shards.length ?? 4} associations`,
  'ingest-documents': `${counts.small.toLocaleString('en')} small instances on ${sets.small?.shards.length ?? 4} associations, then the metadata documents Loire makes after ingest`,
  'index-commit': `the index's group commit alone: ${counts.commits.toLocaleString('en')} prepared instances committed one at a time and in batches, on SQLite and PostgreSQL`,
  'query-1m': `study-level C-FIND and ingest with ${counts.instances.toLocaleString('en')} instances indexed`,
  'security-overhead': `ingest of ${counts.small.toLocaleString('en')} small instances, C-FIND and QIDO-RS, with audit and authentication off and on`,
  dicomweb: `WADO-RS metadata of a 500-instance series, QIDO-RS study search with ${counts.instances.toLocaleString('en')} instances indexed`,
  'wado-series': `WADO-RS retrieve of a ${counts.series}-instance CT series against the disk's read bandwidth`,
  console: 'the reading console in headless Chromium: the 70-slice head CT opened, loaded and scrolled; the 170-slice MR in MPR',
  'wado-frames': `WADO-RS frames of the 70-slice head CT (${HEAD_CT_DIR}), ${FRAME_CONCURRENCY} requests in flight, against Orthanc + DICOMweb`,
};

/**
 * @param {string} scenario
 * @param {{ header: string[], lines: string[][] }} figures
 * @param {import('./lib/report.mjs').Verdict[]} verdicts
 * @param {string} [note]
 */
function report(scenario, figures, verdicts, note = '') {
  // A scenario without goals (index-commit) shows its figures alone.
  const v = verdicts.length > 0 ? verdictTable(verdicts) : undefined;
  console.log(`\n== ${scenario}: ${titles[scenario]}\n${textTable(figures.header, figures.lines)}\n${v ? `\n${textTable(v.header, v.lines)}\n` : ''}`);
  sections.push({
    key: scenario,
    body: [
      `### ${scenario}: ${titles[scenario]}`,
      measuredOn,
      `Re-run: \`${rerunCommand(scenario)}\``,
      markdownTable(figures.header, figures.lines),
      v ? markdownTable(v.header, v.lines) : '',
      note,
    ].filter(Boolean).join('\n\n'),
  });
}

try {
  for (const scenario of scenarios) {
    if (scenario === 'security-overhead') {
      if (!targets.includes('loire') || unavailable.has('loire')) continue;
      const rows = await runSecurityScenario({ sets, workRoot, queries: counts.queries, repeat: counts.repeat, log });
      report(scenario, securityTable(rows), securityVerdicts(rows),
        'Each round starts a fresh Loire per variant. The variants take turns: the same files are sent by storescu one ' +
        'slice (a few hundred files, one association) at a time to each variant in rotating order, then each query of the ' +
        'mix goes to each variant in rotating order over C-FIND (one association per variant) and QIDO-RS (one keep-alive ' +
        `HTTP client per variant). Each figure is the median of ${counts.repeat} round${counts.repeat > 1 ? 's' : ''}; the first variant is the baseline.`);
    } else if (scenario === 'ingest-documents') {
      if (!targets.includes('loire') || unavailable.has('loire')) continue;
      const row = await runDocumentsScenario({ sets, workRoot, repeat: counts.repeat, withStorescp: targets.includes('storescp'), log });
      report(scenario, documentsTable(row), [],
        'Loire indexes a C-STORE with the attributes its columns need and makes the instance\'s whole metadata document (DICOM JSON ' +
        'without bulk data, compressed) afterwards, from the stored object: once ingest pauses for 200 ms, at the latest 30 s after an ' +
        'instance was left waiting, and before any read that needs it. The ingest scenarios\' rates leave that work out; here the ' +
        'harness watches Loire\'s index (read-only) until every instance has its document. "Ingest and documents" counts from the first ' +
        'association to the last document; CPU is Loire\'s whole process while the documents are made. storescp receives the same set ' +
        `right after, as the reference. No goal. ${counts.repeat > 1 ? 'The round with the median time to complete is shown.' : ''}`);
    } else if (scenario === 'index-commit') {
      const rows = await runIndexCommitScenario({ workRoot, instances: counts.commits, postgresUrl: values.postgres, log });
      report(scenario, indexCommitTable(rows), [],
        'In one process, without network or storage: instances made into columns beforehand (as the write queue has them ' +
        'when their batch commits), 50 per series, with random UIDs, committed into a fresh index on the benchmark\'s disk. ' +
        'A batch of 120 is what the write queue gathers in its 50 ms at 2,400 instances/s. The first fifth is not timed. ' +
        'No goal: this shows what the receiving thread pays per instance for the index.');
    } else if (scenario === 'query-1m') {
      const rows = await runQueryScenario({
        sets, workRoot, instances: counts.instances, queries: counts.queries, targets, unavailable, log,
      });
      const filled = rows.find((r) => r.target === 'loire' && r.status === 'ok' && r.case !== 'empty index');
      const fillNote = !filled ? '' : filled.fillSeconds === undefined
        ? ' Loire\'s synthetic index was reused from the data set cache.'
        : ` Filling Loire's index with the synthetic loader took ${filled.fillSeconds.toFixed(0)} s.`;
      report(scenario, queryTable(rows), queryVerdicts(rows, FULL_INDEX_INGEST_MIN_RATIO),
        'The C-FIND figures come from the same persistent-association client for every target; ' +
        `Orthanc is queried at the size it was filled to over DICOM, as a reference.${fillNote}`);
    } else if (scenario === 'dicomweb') {
      const rows = await runDicomwebScenario({
        out: sets.out, small: sets.small, workRoot, instances: counts.instances, queries: counts.queries, repeat: METADATA_REQUESTS, targets, log,
      });
      report(scenario, dicomwebTable(rows), dicomwebVerdicts(rows),
        `Sequential requests on one connection, uncompressed, timed to the last byte; ${METADATA_REQUESTS} metadata requests per target after 3 ` +
        'unmeasured ones. Orthanc runs its DICOMweb plugin with the Debian defaults (full metadata read from the stored files) at the size ' +
        'it was filled to over DICOM, as a reference.');
    } else if (scenario === 'wado-series') {
      const series = await ensureDatasets({ out: values.data, ct: counts.series, log });
      const rows = await runSeriesScenario({ sets: series, workRoot, rounds: counts.rounds, log });
      report(scenario, wadoTable(rows), wadoVerdicts(rows),
        'The series is retrieved as stored (transfer-syntax=*) by curl, alternately with a read of the same stored files by dd ' +
        'with O_DIRECT (the disk itself) and by plain reads that the page cache may serve; the best round of each is shown. ' +
        'The goal is judged against the O_DIRECT figure; Loire reads through the page cache, like any server.');
    } else if (scenario === 'console') {
      if (!targets.includes('loire') || unavailable.has('loire')) continue;
      const rows = await runConsoleScenario({ workRoot, rounds: counts.rounds, log });
      report(scenario, consoleTable(rows), consoleVerdicts(rows),
        'Chromium renders WebGL in software here (SwiftShader: no GPU on the benchmark machine). Each round logs in ' +
        'in a fresh browser context and opens the study by clicking its row in the study list; times are the page\'s ' +
        'own clock from the click. Scrolling steps one slice per key press and waits for each slice\'s picture. ' +
        'The memory is the resident size of the renderer and GPU processes once the MPR volume is loaded.');
    } else if (scenario === 'wado-frames') {
      const { rows, accept } = await runFramesScenario({ workRoot, rounds: counts.rounds, targets, log });
      report(scenario, wadoTable(rows), wadoVerdicts(rows),
        `Each pass fetches frame 1 of every instance with Accept: ${accept ?? '(none answered)'}. The first pass follows ` +
        'ingest on a freshly started server (what a viewer opening the study costs); later passes show the servers\' caches (median).');
    } else {
      const niceness = targetNiceness({ samePriority: values['same-priority'] });
      const rows = await runIngestScenarios({ scenarios: [scenario], targets, sets, workRoot, repeat: counts.repeat, niceness, unavailable, log });
      report(scenario, ingestTable(rows), ingestVerdicts(rows, INGEST_GOALS), priorityNote(niceness));
    }
  }
} finally {
  fs.rmSync(workRoot, { recursive: true, force: true });
}

if (!values['no-doc']) {
  updateDocument(values.doc, '# Benchmarks\n', sections);
  log(`wrote ${path.relative(process.cwd(), values.doc)}`);
}
