// The console's calls to Loire: the account API (/api) and DICOMweb (/dicom-web), same origin,
// authenticated by the session cookie that POST /api/login sets.
import type { DicomJsonDataset } from './dicom-json';

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
