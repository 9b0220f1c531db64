// Hanging protocols as data: which layout a study opens in and which series goes to which
// viewport, chosen by rules on the study (modality, body part, description, priors available) and
// on each series (modality, description, orientation, view position and laterality, which study).
// The defaults below cover CT, MR, CR/DX, MG (4-up, with priors when there are some), US, and a
// current-versus-prior comparison; a user's own protocols (kept in the server profile, same shape,
// validated by the server's profile/profile.ts) are tried before them. Everything here is pure:
// the viewer gives the studies it has, and gets back a layout and an assignment.

/** What one series must be to fill a viewport; every field given must hold. */
export interface SeriesMatch {
  /** Any of these modalities (0008,0060). */
  modality?: string[];
  /** Series Description (0008,103E), a regular expression matched case-insensitively. */
  description?: string;
  /** Body Part Examined (0018,0015), any of these. */
  bodyPart?: string[];
  /** The plane of the series' images, from Image Orientation (Patient) (0020,0037). */
  orientation?: Orientation;
  /** View Position (0018,5101), any of these: "CC", "MLO", "PA", "AP", "LATERAL"… */
  viewPosition?: string[];
  /** Image Laterality (0020,0062), or Laterality (0020,0060) of the series. */
  laterality?: 'L' | 'R';
}

export interface ViewportRule {
  /** Which study: 0 (the default) the one being read, 1 its newest prior, 2 the one before… */
  prior?: number;
  series?: SeriesMatch;
  /** The series of this viewport's study most like the one shown in viewport N (same modality, then orientation, then description). */
  like?: number;
  /** A window/level preset id to start with in this viewport (presets.ts or the user's own). */
  windowPreset?: string;
}

/** What a study must be for the protocol to apply; every field given must hold. */
export interface StudyMatch {
  /** Any of the study's modalities is one of these. */
  modality?: string[];
  /** Any of the study's series has one of these Body Part Examined values. */
  bodyPart?: string[];
  /** Study Description (0008,1030), a regular expression matched case-insensitively. */
  studyDescription?: string;
  /** At least this many comparable priors: earlier studies of the patient sharing a modality with it. */
  minPriors?: number;
}

export interface HangingProtocol {
  /** Letters, digits, ".", "_", "-". */
  id: string;
  name: string;
  /** Among matching protocols of the same origin (the user's, then the defaults), the highest wins; 0 when absent. */
  priority?: number;
  match: StudyMatch;
  /** Rows x columns, each 1 to 4: "1x1", "2x2", "2x4". */
  layout: string;
  /** One rule per cell, row by row; cells past the last rule stay empty. */
  viewports: ViewportRule[];
  /** The window/level preset every viewport starts with, unless its rule names another. */
  windowPreset?: string;
}

export type Orientation = 'axial' | 'sagittal' | 'coronal';

/**
 * A series as the protocol sees it (from QIDO-RS and the first instance's metadata). When one
 * series holds several views (a mammography series with RCC, LCC, RMLO and LMLO images), give one
 * entry per image, with the image's own View Position and Image Laterality, and `uid` naming it.
 */
export interface SeriesInfo {
  uid: string;
  modality: string;
  description?: string;
  bodyPart?: string;
  /** Image Orientation (Patient), six direction cosines, when the series has it. */
  orientation?: number[];
  viewPosition?: string;
  laterality?: string;
  seriesNumber?: number;
}

export interface StudyInfo {
  uid: string;
  /** Study Date and Time as DICOM DA and TM (YYYYMMDD, HHMMSS); used to order priors. */
  date: string;
  time?: string;
  description?: string;
  series: SeriesInfo[];
}

/** One viewport of the result: the study and series shown there, or none when nothing fits. */
export interface ViewportAssignment {
  studyUid?: string;
  seriesUid?: string;
  windowPreset?: string;
}

export interface HangingResult {
  protocol: HangingProtocol;
  rows: number;
  columns: number;
  /** Row by row; as many as the protocol has viewport rules. */
  viewports: ViewportAssignment[];
  /** The priors considered, newest first (prior N is priors[N - 1]). */
  priors: StudyInfo[];
}

const CC_VIEWS = ['CC', 'XCCL', 'XCCM'];
const MLO_VIEWS = ['MLO', 'ML', 'LM'];

export const DEFAULT_HANGING_PROTOCOLS: readonly HangingProtocol[] = [
  {
    id: 'default-mg-priors', name: 'Mammography 4-up with priors', priority: 20,
    match: { modality: ['MG'], minPriors: 1 },
    layout: '2x4',
    viewports: [
      { series: { viewPosition: CC_VIEWS, laterality: 'R' } }, { series: { viewPosition: CC_VIEWS, laterality: 'L' } },
      { prior: 1, series: { viewPosition: CC_VIEWS, laterality: 'R' } }, { prior: 1, series: { viewPosition: CC_VIEWS, laterality: 'L' } },
      { series: { viewPosition: MLO_VIEWS, laterality: 'R' } }, { series: { viewPosition: MLO_VIEWS, laterality: 'L' } },
      { prior: 1, series: { viewPosition: MLO_VIEWS, laterality: 'R' } }, { prior: 1, series: { viewPosition: MLO_VIEWS, laterality: 'L' } },
    ],
  },
  {
    id: 'default-mg', name: 'Mammography 4-up', priority: 10,
    match: { modality: ['MG'] },
    layout: '2x2',
    viewports: [
      { series: { viewPosition: CC_VIEWS, laterality: 'R' } }, { series: { viewPosition: CC_VIEWS, laterality: 'L' } },
      { series: { viewPosition: MLO_VIEWS, laterality: 'R' } }, { series: { viewPosition: MLO_VIEWS, laterality: 'L' } },
    ],
  },
  {
    id: 'default-ct', name: 'CT', priority: 10,
    match: { modality: ['CT'] },
    layout: '1x2',
    viewports: [{ series: { modality: ['CT'], orientation: 'axial' } }, { series: { modality: ['CT'] } }],
  },
  {
    id: 'default-mr', name: 'MR', priority: 10,
    match: { modality: ['MR'] },
    layout: '2x2',
    viewports: [
      { series: { modality: ['MR'], description: 't1' } }, { series: { modality: ['MR'], description: 't2' } },
      { series: { modality: ['MR'], description: 'flair|stir|dwi|diff' } }, { series: { modality: ['MR'] } },
    ],
  },
  {
    id: 'default-cr-dx', name: 'Radiography', priority: 10,
    match: { modality: ['CR', 'DX'] },
    layout: '1x2',
    viewports: [{ series: { viewPosition: ['PA', 'AP'] } }, { series: { viewPosition: ['LATERAL', 'LL', 'RL', 'LLD', 'RLD'] } }],
  },
  {
    id: 'default-us', name: 'Ultrasound', priority: 10,
    match: { modality: ['US'] },
    layout: '2x2',
    viewports: [{ series: { modality: ['US'] } }, { series: { modality: ['US'] } }, { series: { modality: ['US'] } }, { series: { modality: ['US'] } }],
  },
  {
    // Follow-up reading: today's main series beside the same kind of series of the newest prior.
    // Above the single-modality protocols (except mammography, whose own layout shows priors).
    id: 'default-compare', name: 'Current and prior', priority: 15,
    match: { modality: ['CT', 'MR', 'CR', 'DX', 'PT', 'NM'], minPriors: 1 },
    layout: '1x2',
    viewports: [{ series: {} }, { prior: 1, like: 0 }],
  },
  {
    id: 'default', name: 'One viewport', priority: -1000,
    match: {},
    layout: '1x1',
    viewports: [{ series: {} }],
  },
];

/** The plane of an image from its row and column direction cosines: the axis its normal is closest to. */
export function orientationOf(cosines: readonly number[] | undefined): Orientation | undefined {
  if (!cosines || cosines.length !== 6 || cosines.some((v) => !Number.isFinite(v))) return undefined;
  const [rx, ry, rz, cx, cy, cz] = cosines as [number, number, number, number, number, number];
  const normal = [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx].map(Math.abs) as [number, number, number];
  const largest = Math.max(...normal);
  if (largest === 0) return undefined;
  if (largest === normal[2]) return 'axial';
  return largest === normal[0] ? 'sagittal' : 'coronal';
}

function regex(source: string | undefined): RegExp | undefined {
  if (!source) return undefined;
  try {
    return new RegExp(source, 'i');
  } catch {
    // A broken pattern in an old profile matches nothing rather than breaking the viewer.
    return /(?!)/;
  }
}

function upperIn(value: string | undefined, list: readonly string[] | undefined): boolean {
  if (!list) return true;
  return value !== undefined && list.some((v) => v.toUpperCase() === value.trim().toUpperCase());
}

export function seriesMatches(series: SeriesInfo, match: SeriesMatch | undefined): boolean {
  if (!match) return true;
  if (!upperIn(series.modality, match.modality)) return false;
  if (!upperIn(series.bodyPart, match.bodyPart)) return false;
  if (!upperIn(series.viewPosition, match.viewPosition)) return false;
  if (match.laterality && series.laterality?.trim().toUpperCase() !== match.laterality) return false;
  if (match.orientation && orientationOf(series.orientation) !== match.orientation) return false;
  const description = regex(match.description);
  return !description || description.test(series.description ?? '');
}

function modalitiesOf(study: StudyInfo): Set<string> {
  return new Set(study.series.map((s) => s.modality.trim().toUpperCase()));
}

function when(study: StudyInfo): string {
  return `${study.date.padEnd(8, '0')}${(study.time ?? '').padEnd(6, '0')}`;
}

/** The patient's studies before `current` that share a modality with it, newest first. */
export function comparablePriors(current: StudyInfo, others: readonly StudyInfo[]): StudyInfo[] {
  const modalities = modalitiesOf(current);
  return others
    .filter((s) => s.uid !== current.uid && when(s) < when(current) && [...modalitiesOf(s)].some((m) => modalities.has(m)))
    .sort((a, b) => when(b).localeCompare(when(a)));
}

export function studyMatches(study: StudyInfo, priors: readonly StudyInfo[], match: StudyMatch): boolean {
  const modalities = modalitiesOf(study);
  if (match.modality && !match.modality.some((m) => modalities.has(m.toUpperCase()))) return false;
  if (match.bodyPart && !study.series.some((s) => upperIn(s.bodyPart, match.bodyPart))) return false;
  const description = regex(match.studyDescription);
  if (description && !description.test(study.description ?? '')) return false;
  return priors.length >= (match.minPriors ?? 0);
}

/**
 * The protocol for a study: the user's own protocols first, then the defaults; within each, the
 * matching one of highest priority (the first listed at equal priority).
 */
export function chooseProtocol(
  current: StudyInfo, others: readonly StudyInfo[], userProtocols: readonly HangingProtocol[] = [],
  defaults: readonly HangingProtocol[] = DEFAULT_HANGING_PROTOCOLS,
): HangingProtocol {
  const priors = comparablePriors(current, others);
  for (const candidates of [userProtocols, defaults]) {
    let best: HangingProtocol | undefined;
    for (const protocol of candidates) {
      if (!studyMatches(current, priors, protocol.match)) continue;
      if (!best || (protocol.priority ?? 0) > (best.priority ?? 0)) best = protocol;
    }
    if (best) return best;
  }
  // Only when the defaults were replaced by a set without a catch-all.
  return DEFAULT_HANGING_PROTOCOLS[DEFAULT_HANGING_PROTOCOLS.length - 1]!;
}

function bySeriesNumber(a: SeriesInfo, b: SeriesInfo): number {
  return (a.seriesNumber ?? Number.MAX_SAFE_INTEGER) - (b.seriesNumber ?? Number.MAX_SAFE_INTEGER);
}

/** How much `candidate` resembles `model`: modality first, then plane, then description. */
function likeness(model: SeriesInfo, candidate: SeriesInfo): number {
  if (candidate.modality.toUpperCase() !== model.modality.toUpperCase()) return -1;
  let score = 0;
  const plane = orientationOf(model.orientation);
  if (plane && orientationOf(candidate.orientation) === plane) score += 2;
  if (model.description && candidate.description?.trim().toUpperCase() === model.description.trim().toUpperCase()) score += 1;
  return score;
}

/**
 * Fills the protocol's viewports: each rule takes the first series (by Series Number) of its study
 * that matches and is not shown yet; a rule that nothing fits leaves its viewport empty.
 */
export function assignViewports(protocol: HangingProtocol, current: StudyInfo, priors: readonly StudyInfo[]): ViewportAssignment[] {
  const used = new Set<string>();
  const assigned: { study?: StudyInfo; series?: SeriesInfo }[] = [];
  const result: ViewportAssignment[] = [];
  for (const rule of protocol.viewports) {
    const windowPreset = rule.windowPreset ?? protocol.windowPreset;
    const study = (rule.prior ?? 0) === 0 ? current : priors[rule.prior! - 1];
    let chosen: SeriesInfo | undefined;
    if (study) {
      const free = [...study.series].sort(bySeriesNumber).filter((s) => !used.has(`${study.uid}/${s.uid}`) && seriesMatches(s, rule.series));
      const model = rule.like === undefined ? undefined : assigned[rule.like]?.series;
      if (rule.like !== undefined) {
        let bestScore = -1;
        for (const s of model ? free : []) {
          const score = likeness(model!, s);
          if (score > bestScore) [chosen, bestScore] = [s, score];
        }
      } else {
        chosen = free[0];
      }
    }
    if (study && chosen) used.add(`${study.uid}/${chosen.uid}`);
    assigned.push({ ...(study ? { study } : {}), ...(chosen ? { series: chosen } : {}) });
    result.push({
      ...(study && chosen ? { studyUid: study.uid, seriesUid: chosen.uid } : {}),
      ...(windowPreset ? { windowPreset } : {}),
    });
  }
  return result;
}

/** Chooses the protocol for `current` among the patient's `others` studies and hangs its series. */
export function hangStudy(
  current: StudyInfo, others: readonly StudyInfo[], userProtocols: readonly HangingProtocol[] = [],
): HangingResult {
  const protocol = chooseProtocol(current, others, userProtocols);
  const priors = comparablePriors(current, others);
  const [rows, columns] = protocol.layout.split('x').map(Number) as [number, number];
  return { protocol, rows, columns, viewports: assignViewports(protocol, current, priors), priors };
}
