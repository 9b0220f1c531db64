// The console's calls to Loire: the account API (/api) and DICOMweb (/dicom-web), same origin,
// authenticated by the session cookie that POST /api/login sets.
import type { DicomJsonDataset } from './dicom-json';
import type { HangingProtocol } from './hanging-protocols';
import type { WindowPreset } from './presets';

export const DICOMWEB = '/dicom-web';

export interface Account { username: string; roles: string[] }

/** A failed request, with the server's own message when it sent one. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function failure(response: Response, what: string): Promise<ApiError> {
  let detail = '';
  try {
    const body = (await response.json()) as { message?: string; error?: string };
    detail = body.message ?? body.error ?? '';
  } catch {
    // Not JSON: the status says enough.
  }
  return new ApiError(response.status, `${what} failed (HTTP ${response.status}${detail ? `: ${detail}` : ''})`);
}

export async function login(username: string, password: string): Promise<Account> {
  const response = await fetch('/api/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, credentials: 'same-origin',
    body: JSON.stringify({ username, password }),
  });
  if (response.status === 401) throw new ApiError(401, 'Invalid username or password. After repeated failures an account is locked for a while.');
  if (response.status === 429) throw new ApiError(429, 'Too many failed logins from this computer; wait a few minutes and try again.');
  if (!response.ok) throw await failure(response, 'Login');
  return (await response.json()) as Account;
}

export async function logout(): Promise<void> {
  await fetch('/api/logout', { method: 'POST', credentials: 'same-origin' });
}

/** The logged-in account, or undefined when there is no valid session. */
export async function me(): Promise<Account | undefined> {
  const response = await fetch('/api/me', { credentials: 'same-origin' });
  if (response.status === 401) return undefined;
  if (!response.ok) throw await failure(response, 'Checking the session');
  return (await response.json()) as Account;
}

async function dicomJson(url: string, what: string): Promise<DicomJsonDataset[]> {
  const response = await fetch(url, { headers: { Accept: 'application/dicom+json' }, credentials: 'same-origin' });
  if (response.status === 204) return [];
  if (!response.ok) throw await failure(response, what);
  const text = await response.text();
  return text === '' ? [] : (JSON.parse(text) as DicomJsonDataset[]);
}

export interface StudyQuery {
  patientName: string;
  patientId: string;
  accessionNumber: string;
  referringPhysician: string;
  /** YYYY-MM-DD from the date inputs; either may be empty. */
  dateFrom: string;
  dateTo: string;
  modality: string;
  limit: number;
  offset: number;
}

/** QIDO-RS query string for a study search (PS3.18 10.6.1.2; fuzzymatching makes names accent- and case-insensitive). */
export function studySearchParams(query: StudyQuery): URLSearchParams {
  const params = new URLSearchParams();
  const name = query.patientName.trim();
  if (name) params.set('PatientName', /[*?]/.test(name) ? name : `${name}*`);
  const referring = query.referringPhysician.trim();
  if (referring) params.set('ReferringPhysicianName', /[*?]/.test(referring) ? referring : `${referring}*`);
  if (name || referring) params.set('fuzzymatching', 'true');
  if (query.patientId.trim()) params.set('PatientID', query.patientId.trim());
  if (query.accessionNumber.trim()) params.set('AccessionNumber', query.accessionNumber.trim());
  const from = query.dateFrom.replaceAll('-', '');
  const to = query.dateTo.replaceAll('-', '');
  if (from || to) params.set('StudyDate', from === to ? from : `${from}-${to}`);
  if (query.modality) params.set('ModalitiesInStudy', query.modality);
  params.append('includefield', '00080090'); // ReferringPhysicianName
  params.append('includefield', '00081030'); // StudyDescription
  params.append('includefield', '00201206'); // NumberOfStudyRelatedSeries
  params.append('includefield', '00201208'); // NumberOfStudyRelatedInstances
  // One more than a page: tells whether a next page exists without counting.
  params.set('limit', String(query.limit + 1));
  params.set('offset', String(query.offset));
  return params;
}

export function searchStudies(query: StudyQuery): Promise<DicomJsonDataset[]> {
  return dicomJson(`${DICOMWEB}/studies?${studySearchParams(query)}`, 'Searching studies');
}

export function searchSeries(studyUid: string): Promise<DicomJsonDataset[]> {
  const params = new URLSearchParams({ includefield: '0008103E' });
  params.append('includefield', '00201209');
  return dicomJson(`${DICOMWEB}/studies/${encodeURIComponent(studyUid)}/series?${params}`, 'Listing the series');
}

export function studyHeader(studyUid: string): Promise<DicomJsonDataset[]> {
  const params = new URLSearchParams({ StudyInstanceUID: studyUid, includefield: '00081030' }); // StudyDescription
  return dicomJson(`${DICOMWEB}/studies?${params}`, 'Reading the study');
}

export function seriesMetadata(studyUid: string, seriesUid: string): Promise<DicomJsonDataset[]> {
  return dicomJson(`${DICOMWEB}/studies/${encodeURIComponent(studyUid)}/series/${encodeURIComponent(seriesUid)}/metadata`, 'Reading the series metadata');
}

export function seriesThumbnailUrl(studyUid: string, seriesUid: string): string {
  return `${DICOMWEB}/studies/${encodeURIComponent(studyUid)}/series/${encodeURIComponent(seriesUid)}/thumbnail?viewport=96,96`;
}

// --- the user's console profile (GET/PUT/DELETE /api/profile), kept on the server per account ---

/** The study-list fields a saved filter keeps (a StudyQuery without paging). */
export type FilterFields = Omit<StudyQuery, 'limit' | 'offset'>;

export interface SavedFilter { name: string; query: Partial<FilterFields> }

export type MouseButton = 'primary' | 'middle' | 'secondary' | 'wheel' | 'shift-primary' | 'ctrl-primary';

/**
 * The profile document (version 1). Every field but `version` is optional: the console uses its
 * own default for a field the user never set. The server refuses unknown fields and oversized
 * documents (400 naming the field, 413), see the server's profile/profile.ts.
 */
export interface ConsoleProfile {
  version: 1;
  /** Rows x columns, e.g. "2x2". */
  layout?: string;
  hangingProtocols?: HangingProtocol[];
  windowPresets?: WindowPreset[];
  /** Tool ids in toolbar order. */
  toolbar?: string[];
  mouseBindings?: Partial<Record<MouseButton, string>>;
  /** Action id → key, e.g. { nextSeries: 'ArrowRight' }. */
  shortcuts?: Record<string, string>;
  /** Study-list column ids in display order. */
  studyListColumns?: string[];
  savedFilters?: SavedFilter[];
  /** Set by the server: when the profile was last saved. */
  updatedAt?: string;
}

export const EMPTY_PROFILE: ConsoleProfile = { version: 1 };

/** The profile and its entity tag (for If-Match when saving a change to it). */
async function readProfile(): Promise<{ profile: ConsoleProfile; etag: string | undefined }> {
  const response = await fetch('/api/profile', { credentials: 'same-origin', cache: 'no-store' });
  if (!response.ok) throw await failure(response, 'Reading your profile');
  return { profile: (await response.json()) as ConsoleProfile, etag: response.headers.get('ETag') ?? undefined };
}

export async function getProfile(): Promise<ConsoleProfile> {
  return (await readProfile()).profile;
}

/** Replaces the whole profile (only if it is still in state `ifMatch`, when given); answers what the server kept. */
export async function saveProfile(profile: ConsoleProfile, ifMatch?: string): Promise<ConsoleProfile> {
  const { updatedAt: _serverOwned, ...document } = profile;
  const response = await fetch('/api/profile', {
    method: 'PUT', credentials: 'same-origin', body: JSON.stringify(document),
    headers: { 'Content-Type': 'application/json', ...(ifMatch ? { 'If-Match': ifMatch } : {}) },
  });
  if (!response.ok) throw await failure(response, 'Saving your profile');
  return (await response.json()) as ConsoleProfile;
}

/** Back to the defaults. */
export async function resetProfile(): Promise<void> {
  const response = await fetch('/api/profile', { method: 'DELETE', credentials: 'same-origin' });
  if (!response.ok) throw await failure(response, 'Resetting your profile');
}

/**
 * Reads the profile as the server has it now, applies `change` and saves the result only if nobody
 * saved in between (If-Match); if somebody did (another station of the same user), starts again
 * from their version, so that neither change is lost.
 */
export async function updateProfile(change: (profile: ConsoleProfile) => ConsoleProfile): Promise<ConsoleProfile> {
  for (let attempt = 1; ; attempt++) {
    const { profile, etag } = await readProfile();
    try {
      return await saveProfile(change(profile), etag);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 412) || attempt >= 3) throw error;
    }
  }
}

/** Adds a saved filter, replacing one of the same name; only the non-empty fields are kept. */
export function withSavedFilter(profile: ConsoleProfile, name: string, fields: FilterFields): ConsoleProfile {
  const query: Partial<FilterFields> = {};
  for (const [key, value] of Object.entries(fields) as [keyof FilterFields, string][]) if (value.trim() !== '') query[key] = value.trim();
  const others = (profile.savedFilters ?? []).filter((f) => f.name !== name);
  return { ...profile, savedFilters: [...others, { name, query }] };
}

export function withoutSavedFilter(profile: ConsoleProfile, name: string): ConsoleProfile {
  return { ...profile, savedFilters: (profile.savedFilters ?? []).filter((f) => f.name !== name) };
}

/** Adds one of the user's own hanging protocols, replacing one with the same id (a protocol saved again). */
export function withHangingProtocol(profile: ConsoleProfile, protocol: HangingProtocol): ConsoleProfile {
  const others = (profile.hangingProtocols ?? []).filter((p) => p.id !== protocol.id);
  return { ...profile, hangingProtocols: [...others, protocol] };
}

export function withoutHangingProtocol(profile: ConsoleProfile, id: string): ConsoleProfile {
  return { ...profile, hangingProtocols: (profile.hangingProtocols ?? []).filter((p) => p.id !== id) };
}

// --- patient history ---

/** QIDO-RS query for every study of one patient (PS3.18 10.6.1.2), with what the history shows. */
export function patientStudiesParams(patientId: string): URLSearchParams {
  const params = new URLSearchParams({ PatientID: patientId });
  params.append('includefield', '00081030'); // StudyDescription
  params.append('includefield', '00201206'); // NumberOfStudyRelatedSeries
  params.append('includefield', '00201208'); // NumberOfStudyRelatedInstances
  params.set('limit', '200');
  return params;
}

function studyMoment(d: DicomJsonDataset): string {
  const value = (tag: string) => String((d[tag]?.Value?.[0] as string | undefined) ?? '');
  return `${value('00080020').padEnd(8, '0')}${value('00080030').padEnd(6, '0')}`;
}

/**
 * Every study of the patient, newest first (by Study Date and Time; undated last). A Patient ID
 * holding "*" or "?" would be a wildcard in QIDO: the answer is kept to exact matches.
 */
export async function patientStudies(patientId: string): Promise<DicomJsonDataset[]> {
  const found = await dicomJson(`${DICOMWEB}/studies?${patientStudiesParams(patientId)}`, 'Listing the patient\'s studies');
  return newestFirst(found.filter((d) => String(d['00100020']?.Value?.[0] ?? '') === patientId));
}

export function newestFirst(studies: readonly DicomJsonDataset[]): DicomJsonDataset[] {
  return [...studies].sort((a, b) => studyMoment(b).localeCompare(studyMoment(a)));
}

// --- what the hanging protocols look at, per instance ---

/**
 * The instances of a study with the attributes hanging protocols and viewport synchronisation look
 * at (QIDO-RS, instance level): orientation, frame of reference, view position, laterality, body
 * part, and the SOP class (which tells image series from documents).
 */
export function studyInstancesForHanging(studyUid: string): Promise<DicomJsonDataset[]> {
  const params = new URLSearchParams();
  // Series Instance UID and Number, Modality, Series Description, Body Part Examined, View Position,
  // Image Orientation (Patient), Frame of Reference UID, Laterality, Image Laterality, SOP Class UID.
  for (const tag of ['0020000E', '00200011', '00080060', '0008103E', '00180015', '00185101', '00200037', '00200052', '00200060', '00200062', '00080016']) params.append('includefield', tag);
  return dicomJson(`${DICOMWEB}/studies/${encodeURIComponent(studyUid)}/instances?${params}`, 'Reading the study\'s instances');
}

// --- key images and measurements saved into the study as DICOM (/api/studies/{study}/...) ---

/** An image (and frame, for a multi-frame image) of the study. */
export interface ImageRef { sopInstanceUid: string; frame?: number }

export type SrMeasurementKind = 'length' | 'angle' | 'ellipse' | 'rectangle';

/**
 * One measurement as the server takes it (a TID 1501 group of the study's TID 1500 report).
 * Points are DICOM image coordinates (column, row), (0,0) the top left corner of the top left
 * pixel (PS3.3 C.18.6.1.1): length 2, angle 3 (vertex in the middle), rectangle 5 (closed),
 * ellipse 4 (major axis end points, then minor axis end points).
 */
export interface MeasurementInput {
  trackingUid: string;
  label: string;
  kind: SrMeasurementKind;
  image: ImageRef;
  points: [number, number][];
  values: Partial<Record<'length' | 'angle' | 'area' | 'mean' | 'stdDev' | 'min' | 'max', number>>;
  pixelUnit: 'HU' | 'none';
}

/** A measurement read back from a report; kinds the server does not know come back as 'other'. */
export interface StoredMeasurement extends Omit<MeasurementInput, 'kind' | 'image' | 'points'> {
  /** 1-based position of its group in the report: with the report's UID, what a save keeps it by. */
  group: number;
  /** Who measured it, when its group names its own observer (kept from another reader's report). */
  author?: string;
  kind: SrMeasurementKind | 'other';
  image?: ImageRef & { sopClassUid?: string };
  points?: [number, number][];
  quantities: { name: string; value: number; unit: string }[];
}

export interface ReportDocument { sopInstanceUid: string; seriesInstanceUid: string; author: string; contentDateTime: string }

export interface StudyMeasurements {
  current?: ReportDocument & { measurements: StoredMeasurement[] };
  reports: ReportDocument[];
}

export type KeyImageTitle = 'of-interest' | 'for-teaching' | 'for-conference' | 'for-referring-provider' | 'for-surgery' | 'quality-issue';

export interface StudyKeyImages {
  /** Newest first. */
  documents: (ReportDocument & { title: { value: string; scheme: string; meaning: string }; description: string; images: ImageRef[] })[];
}

const studyApi = (studyUid: string, what: string) => `/api/studies/${encodeURIComponent(studyUid)}/${what}`;

async function getJson<T>(url: string, what: string): Promise<T> {
  const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
  if (!response.ok) throw await failure(response, what);
  return (await response.json()) as T;
}

async function postJson<T>(url: string, body: unknown, what: string): Promise<T> {
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response, what);
  return (await response.json()) as T;
}

export function getMeasurements(studyUid: string): Promise<StudyMeasurements> {
  return getJson(studyApi(studyUid, 'measurements'), 'Reading the saved measurements');
}

/** A saved measurement a new report keeps as written: its report and its group's position there. */
export interface KeptMeasurement { report: string; group: number }

/**
 * Saves the study's whole current set of measurements as a new report: the `keep` groups of earlier
 * reports first, copied as written, then `measurements`.
 */
export function saveMeasurements(studyUid: string, measurements: readonly MeasurementInput[], keep: readonly KeptMeasurement[] = []): Promise<{ sopInstanceUid: string }> {
  return postJson(studyApi(studyUid, 'measurements'), { measurements, keep }, 'Saving the measurements');
}

export function getKeyImages(studyUid: string): Promise<StudyKeyImages> {
  return getJson(studyApi(studyUid, 'key-images'), 'Reading the key images');
}

/** Saves a new Key Object Selection of `images`. */
export function saveKeyImages(studyUid: string, images: readonly ImageRef[], title: KeyImageTitle = 'of-interest'): Promise<{ sopInstanceUid: string }> {
  return postJson(studyApi(studyUid, 'key-images'), { title, images }, 'Saving the key images');
}

/** Roles that may store objects (key images, measurements) into a study; the server decides, this only explains. */
export const STORING_ROLES: readonly string[] = ['administrator', 'radiologist', 'technologist'];
