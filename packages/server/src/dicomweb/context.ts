// What every DICOMweb handler works with: the archive's domain services and the URLs it hands out.
import type { FastifyRequest } from 'fastify';
import type { Archive } from '../archive.js';
import { OpenedInstances } from '../retrieve/stored-instance.js';
import { HttpError } from './http-error.js';

export const DICOMWEB_PREFIX = '/dicom-web';

export interface DicomwebContext {
  archive: Archive;
  /** Recently opened stored instances, shared by frames, bulk data, rendered images and WADO-URI. */
  opened: OpenedInstances;
}

export function createDicomwebContext(archive: Archive): DicomwebContext {
  return { archive, opened: new OpenedInstances(archive.storage) };
}

/**
 * The absolute DICOMweb base URL as the client reached it (PS3.18 requires absolute
 * Retrieve URLs and BulkDataURIs). Honours X-Forwarded-Proto/Host behind a reverse proxy
 * only when Fastify's trustProxy is set.
 */
export function baseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}${DICOMWEB_PREFIX}`;
}

export interface InstanceIds {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

export function studyUrl(base: string, studyInstanceUid: string): string {
  return `${base}/studies/${studyInstanceUid}`;
}

export function seriesUrl(base: string, ids: Omit<InstanceIds, 'sopInstanceUid'>): string {
  return `${studyUrl(base, ids.studyInstanceUid)}/series/${ids.seriesInstanceUid}`;
}

export function instanceUrl(base: string, ids: InstanceIds): string {
  return `${seriesUrl(base, ids)}/instances/${ids.sopInstanceUid}`;
}

/**
 * BulkDataURI of an element: `…/instances/{uid}/bulkdata/{path}` where path is the element's
 * tag, preceded for nested elements by each enclosing sequence's tag and 0-based item index,
 * e.g. `7FE00010` or `00540016/0/00181071`. The bulkdata route resolves the same path.
 */
export function bulkDataUri(base: string, ids: InstanceIds, tagPath: readonly (string | number)[]): string {
  return `${instanceUrl(base, ids)}/bulkdata/${tagPath.map((part) => (typeof part === 'number' ? String(part) : part.toUpperCase())).join('/')}`;
}

// PS3.5 forbids leading zeros in a component, but real archives hold objects whose UIDs have them
// (e.g. "999.999.01.23"); such objects are stored, so they must be retrievable too.
const UID = /^[0-9]+(\.[0-9]+)*$/;

/**
 * A UID from a path or query parameter (digits and dots, at most 64 characters, PS3.5 9.1).
 * Anything else is a 400, so that no caller ever passes path fragments or SQL on.
 */
export function parseUid(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw HttpError.badRequest(`${name} is missing`);
  if (value.length > 64 || !UID.test(value)) {
    throw HttpError.badRequest(`${name} "${value.length > 80 ? `${value.slice(0, 80)}…` : value}" is not a DICOM UID (digits and dots, at most 64 characters)`);
  }
  return value;
}
