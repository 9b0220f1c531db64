#!/usr/bin/env node
// Writes the benchmark data sets: N CT images of 512x512x16 bits and N small 64x64 images,
// explicit VR little endian Part 10 files with a realistic CT header, spread over several
// patients, studies and series. Output is deterministic, so each set is written once into its
// own directory of the cache (named by set, count and format version) and reused by later runs;
// a set is written aside and renamed into place, so that concurrent runs never see half a set.
//
//   node bench/generate.mjs [--out DIR] [--ct 2000] [--small 10000] [--check]

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { encodeDataset, encodePart10 } from './lib/dicom-writer.mjs';

/** Bump when the bytes written change, so that stale caches are rebuilt. */
const FORMAT_VERSION = 5;
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
/** The small set is split in this many directories, one per association of the parallel run. */
export const SMALL_SHARDS = 4;
export const DEFAULT_CACHE_DIR = path.join(os.tmpdir(), 'loire-bench-cache');

/**
 * The shape of each set: how instances group into series, studies and patients.
 * @typedef {{ name: string, rows: number, columns: number, perSeries: number, seriesPerStudy: number,
 *   studiesPerPatient: number, shards: number, sliceThickness: number }} SetLayout
 */

/** @type {Record<'ct' | 'small', SetLayout>} */
export const LAYOUTS = {
  ct: { name: 'CT', rows: 512, columns: 512, perSeries: 200, seriesPerStudy: 2, studiesPerPatient: 2, shards: 1, sliceThickness: 1.25 },
  small: { name: 'SM', rows: 64, columns: 64, perSeries: 100, seriesPerStudy: 2, studiesPerPatient: 2, shards: SMALL_SHARDS, sliceThickness: 5 },
};

/**
 * A UID under the 2.25 root (PS3.5 B.2): the decimal form of 128 bits taken from a hash of
 * a stable label, so the same run of the generator always yields the same UIDs.
 * @param {string} label
 */
export function uidFor(label) {
  const digest = createHash('sha256').update(`loire-bench/${label}`).digest();
  return `2.25.${BigInt(`0x${digest.subarray(0, 16).toString('hex')}`).toString()}`;
}

/**
 * Fills 12-bit pseudo-random noise (xorshift32): incompressible enough that no target gains
 * from a compressing file system or transfer, yet the same bytes on every run.
 * @param {number} pixels
 * @param {number} seed
 */
export function noisePixels(pixels, seed) {
  const out = new Uint16Array(pixels);
  let x = (seed * 2654435761) >>> 0 || 0x9e3779b9;
  for (let i = 0; i < pixels; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0x0fff;
  }
  return new Uint8Array(out.buffer);
}

/**
 * Where instance `index` of a set sits in the patient/study/series hierarchy.
 * @param {SetLayout} layout
 * @param {number} index
 */
export function placeOf(layout, index) {
  const series = Math.floor(index / layout.perSeries);
  const study = Math.floor(series / layout.seriesPerStudy);
  const patient = Math.floor(study / layout.studiesPerPatient);
  return { series, study, patient, instanceInSeries: index % layout.perSeries, seriesInStudy: series % layout.seriesPerStudy };
}

/** @param {number} n @param {number} width */
const pad = (n, width) => String(n).padStart(width, '0');

/**
 * The identifying attributes of a patient and study of a set, also used to build queries.
 * @param {SetLayout} layout
 * @param {number} patient
 * @param {number} study
 */
export function identityOf(layout, patient, study) {
  const day = new Date(Date.UTC(2024, 0, 1 + study * 3));
  return {
    patientId: `BENCH-${layout.name}-${pad(patient, 5)}`,
    patientName: `BENCH^${layout.name}${pad(patient, 5)}`,
    studyUid: uidFor(`${layout.name}/study/${study}`),
    studyDate: day.toISOString().slice(0, 10).replaceAll('-', ''),
    accession: `A${layout.name}${pad(study, 7)}`,
  };
}

/**
 * The full data set of one CT instance, as [tag, VR, value] triples.
 * @param {SetLayout} layout
 * @param {number} index
 */
export function ctInstance(layout, index) {
  const place = placeOf(layout, index);
  const who = identityOf(layout, place.patient, place.study);
  const seriesUid = uidFor(`${layout.name}/series/${place.series}`);
  const sopInstanceUid = uidFor(`${layout.name}/instance/${index}`);
  const frameOfReferenceUid = uidFor(`${layout.name}/for/${place.study}`);
  const z = -place.instanceInSeries * layout.sliceThickness;
  const spacing = 350 / layout.columns;
  const time = `${pad(8 + (place.study % 10), 2)}${pad(place.seriesInStudy * 7, 2)}${pad(place.instanceInSeries % 60, 2)}.${pad(index % 1000000, 6)}`;
  const sex = place.patient % 2 === 0 ? 'F' : 'M';
  const age = 20 + (place.patient % 70);
  const birthYear = 2024 - age;
  /** @type {Array<[number, string, any]>} */
  const elements = [
    [0x00080005, 'CS', 'ISO_IR 100'],
    [0x00080008, 'CS', ['ORIGINAL', 'PRIMARY', 'AXIAL']],
    [0x00080012, 'DA', who.studyDate],
    [0x00080013, 'TM', time],
    [0x00080016, 'UI', CT_IMAGE_STORAGE],
    [0x00080018, 'UI', sopInstanceUid],
    [0x00080020, 'DA', who.studyDate],
    [0x00080021, 'DA', who.studyDate],
    [0x00080022, 'DA', who.studyDate],
    [0x00080023, 'DA', who.studyDate],
    [0x00080030, 'TM', time.slice(0, 6)],
    [0x00080031, 'TM', time.slice(0, 6)],
    [0x00080032, 'TM', time],
    [0x00080033, 'TM', time],
    [0x00080050, 'SH', who.accession],
    [0x00080060, 'CS', 'CT'],
    [0x00080070, 'LO', 'LOIRE BENCH SCANNERS'],
    [0x00080080, 'LO', 'REGIONAL HOSPITAL'],
    [0x00080090, 'PN', 'REFERRER^ANNE'],
    [0x00081010, 'SH', 'CT01'],
    [0x00081030, 'LO', 'CT THORAX ABDOMEN PELVIS WITH CONTRAST'],
    [0x0008103e, 'LO', place.seriesInStudy === 0 ? 'AXIAL 1.25 SOFT TISSUE' : 'AXIAL 1.25 LUNG'],
    [0x00081090, 'LO', 'BENCH CT 64'],
    [0x00100010, 'PN', who.patientName],
    [0x00100020, 'LO', who.patientId],
    [0x00100030, 'DA', `${birthYear}0615`],
    [0x00100040, 'CS', sex],
    [0x00101010, 'AS', `${pad(age, 3)}Y`],
    [0x00180015, 'CS', 'CHEST'],
    [0x00180050, 'DS', layout.sliceThickness],
    [0x00180060, 'DS', 120],
    [0x00180090, 'DS', 500],
    [0x00181020, 'LO', 'BENCH 1.0'],
    [0x00181100, 'DS', 350],
    [0x00181110, 'DS', 949],
    [0x00181111, 'DS', 541],
    [0x00181120, 'DS', 0],
    [0x00181130, 'DS', 160],
    [0x00181140, 'CS', 'CW'],
    [0x00181150, 'IS', 500],
    [0x00181151, 'IS', 250 + (index % 100)],
    [0x00181152, 'IS', 125],
    [0x00181160, 'SH', 'BODY FILTER'],
    [0x00181210, 'SH', place.seriesInStudy === 0 ? 'B30f' : 'B70f'],
    [0x00185100, 'CS', 'FFS'],
    [0x0020000d, 'UI', who.studyUid],
    [0x0020000e, 'UI', seriesUid],
    [0x00200010, 'SH', pad(place.study, 6)],
    [0x00200011, 'IS', place.seriesInStudy + 1],
    [0x00200012, 'IS', 1],
    [0x00200013, 'IS', place.instanceInSeries + 1],
    [0x00200032, 'DS', [-175, -175, z]],
    [0x00200037, 'DS', [1, 0, 0, 0, 1, 0]],
    [0x00200052, 'UI', frameOfReferenceUid],
    [0x00201040, 'LO', ''],
    [0x00201041, 'DS', z],
    [0x00280002, 'US', 1],
    [0x00280004, 'CS', 'MONOCHROME2'],
    [0x00280010, 'US', layout.rows],
    [0x00280011, 'US', layout.columns],
    [0x00280030, 'DS', [spacing.toFixed(6), spacing.toFixed(6)]],
    [0x00280100, 'US', 16],
    [0x00280101, 'US', 12],
    [0x00280102, 'US', 11],
    [0x00280103, 'US', 0],
    [0x00281050, 'DS', [40, -600]],
    [0x00281051, 'DS', [400, 1500]],
    [0x00281052, 'DS', -1024],
    [0x00281053, 'DS', 1],
    [0x00281054, 'LO', 'HU'],
    [0x7fe00010, 'OW', noisePixels(layout.rows * layout.columns, index + 1 + layout.rows * 100003)],
  ];
  return { sopInstanceUid, elements };
}

/**
 * Path of instance `index` relative to its set's directory: small sets are split into contiguous shards of
 * whole studies (like one modality per association), as even as the study count allows.
 * @returns {string}
 * @param {'ct' | 'small'} set
 * @param {number} index
 * @param {number} count
 */
export function relativePathOf(set, index, count) {
  const layout = LAYOUTS[set];
  if (layout.shards === 1) return `${pad(index, 6)}.dcm`;
  const studies = placeOf(layout, count - 1).study + 1;
  // Too few studies for whole-study shards (tiny test sets): split by instance instead.
  const shard = studies >= layout.shards
    ? Math.floor((placeOf(layout, index).study * layout.shards) / studies)
    : Math.floor((index * layout.shards) / count);
  return path.join(`shard-${shard}`, `${pad(index, 6)}.dcm`);
}

/**
 * The query keys of the patients and studies of a set (what C-FIND benchmarks ask for).
 * @param {'ct' | 'small'} set
 * @param {number} count
 */
export function catalogOf(set, count) {
  const layout = LAYOUTS[set];
  if (count === 0) return { patients: [], studies: [] };
  const last = placeOf(layout, count - 1);
  const studies = [];
  for (let study = 0; study <= last.study; study++) {
    const patient = Math.floor(study / layout.studiesPerPatient);
    studies.push({ patient, ...identityOf(layout, patient, study) });
  }
  const patients = [...new Map(studies.map((s) => [s.patientId, { patientId: s.patientId, patientName: s.patientName }])).values()];
  return { patients, studies };
}

/** The cache directory of a set of `count` instances, relative to the cache root. @param {'ct' | 'small'} set @param {number} count */
export const setDirName = (set, count) => `${set}-${count}-v${FORMAT_VERSION}`;

/**
 * Writes one set into `dir`, returning its description (paths relative to the cache root).
 * @param {string} out  cache root
 * @param {string} dir  where to write
 * @param {'ct' | 'small'} set
 * @param {number} count
 */
function writeSet(out, dir, set, count) {
  const layout = LAYOUTS[set];
  let bytes = 0;
  const dirs = new Set();
  for (let index = 0; index < count; index++) {
    const { sopInstanceUid, elements } = ctInstance(layout, index);
    const relative = relativePathOf(set, index, count);
    const file = path.join(dir, relative);
    const parent = path.dirname(file);
    if (!dirs.has(parent)) {
      fs.mkdirSync(parent, { recursive: true });
      dirs.add(parent);
    }
    const part10 = encodePart10({ sopClassUid: CT_IMAGE_STORAGE, sopInstanceUid, dataset: encodeDataset(elements) });
    fs.writeFileSync(file, part10);
    bytes += part10.length;
  }
  const name = setDirName(set, count);
  const shards = [...new Set([...dirs].map((d) => path.join(name, path.relative(dir, d))))].sort();
  return { count, bytes, rows: layout.rows, columns: layout.columns, dir: name, shards, ...catalogOf(set, count) };
}

/**
 * Makes sure the cache `out` holds a set of `ct` CT and one of `small` small instances, writing
 * those it does not have yet.
 * @param {{ out?: string, ct?: number, small?: number, log?: (line: string) => void }} options  a count
 *   left undefined skips that set
 * @returns {Promise<{ out: string, ct: ReturnType<typeof writeSet>, small: ReturnType<typeof writeSet> }>}
 */
export async function ensureDatasets({ out = DEFAULT_CACHE_DIR, ct, small, log = () => {} }) {
  fs.mkdirSync(out, { recursive: true });
  /** @type {Record<string, any>} */
  const sets = { out };
  for (const [set, count] of /** @type {const} */ ([['ct', ct], ['small', small]])) {
    if (count === undefined) continue;
    const dir = path.join(out, setDirName(set, count));
    const description = path.join(dir, 'set.json');
    if (!fs.existsSync(description)) {
      const aside = `${dir}.writing-${process.pid}-${Date.now()}`;
      const started = performance.now();
      log(`generating ${count} ${set} instances in ${dir} ...`);
      const written = writeSet(out, aside, set, count);
      fs.writeFileSync(path.join(aside, 'set.json'), JSON.stringify(written, null, 1));
      try {
        fs.renameSync(aside, dir);
        log(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s (${(written.bytes / 2 ** 20).toFixed(0)} MiB)`);
      } catch {
        // Another run wrote the same set meanwhile: theirs is identical, keep it.
        fs.rmSync(aside, { recursive: true, force: true });
      }
    }
    sets[set] = JSON.parse(fs.readFileSync(description, 'utf8'));
  }
  return /** @type {any} */ (sets);
}

/**
 * Checks the first file of each set with dicom3tools' dciodvfy (IOD conformance) and dcmtk's
 * dcmdump (parses to the end); returns the problems found.
 * @param {string} out
 */
export function checkDatasets(out) {
  const problems = [];
  for (const set of /** @type {const} */ (['ct', 'small'])) {
    const written = fs.readdirSync(out).filter((d) => d.startsWith(`${set}-`) && fs.existsSync(path.join(out, d, 'set.json')));
    for (const dir of written) {
      const { count } = JSON.parse(fs.readFileSync(path.join(out, dir, 'set.json'), 'utf8'));
      const file = path.join(out, dir, relativePathOf(set, 0, count));
      const dump = spawnSync('dcmdump', ['-q', file], { encoding: 'utf8' });
      if (dump.status !== 0) problems.push(`${file}: dcmdump failed: ${dump.stderr.trim()}`);
      const verify = spawnSync('dciodvfy', ['-new', file], { encoding: 'utf8' });
      if (verify.error) problems.push(`dciodvfy not runnable: ${verify.error.message}`);
      const errors = `${verify.stdout}${verify.stderr}`.split('\n').filter((l) => l.startsWith('Error'));
      for (const e of errors) problems.push(`${file}: ${e}`);
    }
  }
  return problems;
}

async function cli() {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: DEFAULT_CACHE_DIR },
      ct: { type: 'string', default: '2000' },
      small: { type: 'string', default: '10000' },
      check: { type: 'boolean', default: false },
    },
  });
  const sets = await ensureDatasets({ out: values.out, ct: Number(values.ct), small: Number(values.small), log: console.log });
  console.log(`data sets in ${sets.out}: ${sets.ct.count} CT, ${sets.small.count} small`);
  if (values.check) {
    const problems = checkDatasets(sets.out);
    for (const p of problems) console.log(p);
    console.log(problems.length === 0 ? 'dcmdump and dciodvfy found no error' : `${problems.length} problem(s)`);
    process.exitCode = problems.length === 0 ? 0 : 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli();
