// Synthetic archive content for scale tests and benchmarks: a deterministic hospital-like mix
// of patients, studies, series and instances, inserted through the real batch ingest path.
import type { DicomJson } from './dicom-json.js';
import type { BatchIndexResult, IndexRequest } from './store.js';

/** Anything that indexes batches, e.g. an ArchiveIndex. */
export interface BatchIndexer {
  indexInstances(requests: readonly IndexRequest[]): Promise<BatchIndexResult[]>;
}

export interface SyntheticOptions {
  instances: number;
  /** Instances per transaction (default 1000). */
  batchSize?: number;
  instancesPerSeries?: number;
  seriesPerStudy?: number;
  studiesPerPatient?: number;
  /** Makes the UIDs distinct between fills of the same database. */
  seed?: number;
}

const FAMILY_NAMES = ['Martin', 'Bernard', 'Müller', 'Dubois', 'Thomas', 'Robert', 'Pétain', 'Richard', 'Durand', 'Leroy',
  'Moreau', 'Simon', 'Laurent', 'Lefèbvre', 'Michel', 'García', 'David', 'Bertrand', 'Roux', 'Vincent'];
const GIVEN_NAMES = ['Jean', 'Marie', 'Zoë', 'Luc', 'Anaïs', 'Hélène', 'Paul', 'Noël', 'Léa', 'Hugo'];
const MODALITIES = ['CT', 'MR', 'CR', 'DX', 'US', 'PT', 'NM', 'MG', 'XA', 'SR'];
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

function str(vr: string, value: string | number): { vr: string; Value: unknown[] } {
  return { vr, Value: [value] };
}

/** The DICOM JSON of synthetic instance number `n` (0-based). */
export function syntheticInstance(n: number, options: Omit<SyntheticOptions, 'instances'> = {}): DicomJson {
  const perSeries = options.instancesPerSeries ?? 100;
  const seriesPerStudy = options.seriesPerStudy ?? 3;
  const studiesPerPatient = options.studiesPerPatient ?? 2;
  const seed = options.seed ?? 1;
  const series = Math.floor(n / perSeries);
  const study = Math.floor(series / seriesPerStudy);
  const patient = Math.floor(study / studiesPerPatient);
  const root = `2.25.${seed}`;
  const day = new Date(Date.UTC(2000, 0, 1) + (study * 7919 % 9000) * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  const family = FAMILY_NAMES[patient % FAMILY_NAMES.length]!;
  const given = GIVEN_NAMES[Math.floor(patient / FAMILY_NAMES.length) % GIVEN_NAMES.length]!;
  return {
    '00080016': str('UI', CT_IMAGE_STORAGE),
    '00080018': str('UI', `${root}.3.${n}`),
    '00080020': str('DA', day),
    '00080030': str('TM', `${String(8 + (study % 10)).padStart(2, '0')}${String(study % 60).padStart(2, '0')}00`),
    '00080050': str('SH', `ACC${seed}${String(study).padStart(8, '0')}`),
    '00080060': str('CS', MODALITIES[(study + series) % MODALITIES.length]!),
    '00080080': str('LO', 'Centre Hospitalier Régional'),
    '00080090': { vr: 'PN', Value: [{ Alphabetic: 'Référent^Docteur' }] },
    '00081030': str('LO', `Study ${study}`),
    '0008103E': str('LO', `Series ${series}`),
    '00100010': { vr: 'PN', Value: [{ Alphabetic: `${family}${patient}^${given}` }] },
    '00100020': str('LO', `PID${seed}-${patient}`),
    '00100030': str('DA', `19${String(30 + (patient % 70)).padStart(2, '0')}0101`),
    '00100040': str('CS', patient % 2 === 0 ? 'F' : 'M'),
    '0020000D': str('UI', `${root}.1.${study}`),
    '0020000E': str('UI', `${root}.2.${series}`),
    '00200010': str('SH', String(study)),
    '00200011': str('IS', series % seriesPerStudy + 1),
    '00200013': str('IS', n % perSeries + 1),
    '00280010': str('US', 512),
    '00280011': str('US', 512),
  };
}

export function syntheticRequest(n: number, options: Omit<SyntheticOptions, 'instances'> = {}): IndexRequest {
  return {
    json: syntheticInstance(n, options),
    storage: {
      key: `synthetic/${options.seed ?? 1}/${n}.dcm`,
      size: 526_000,
      sha256: n.toString(16).padStart(64, '0'),
      transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN,
    },
    receivedFrom: 'SYNTHETIC',
    duplicatePolicy: 'keep-first',
  };
}

/** Inserts `instances` synthetic instances in batched transactions; returns how many were stored. */
export async function fillSynthetic(indexer: BatchIndexer, options: SyntheticOptions): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  let stored = 0;
  for (let start = 0; start < options.instances; start += batchSize) {
    const end = Math.min(options.instances, start + batchSize);
    const batch: IndexRequest[] = [];
    for (let n = start; n < end; n++) batch.push(syntheticRequest(n, options));
    const results = await indexer.indexInstances(batch);
    stored += results.filter((r) => r.outcome === 'stored').length;
  }
  return stored;
}
