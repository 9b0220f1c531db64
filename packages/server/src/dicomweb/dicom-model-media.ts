// Which representation of the DICOM model a search or metadata request accepts (PS3.18 §8.7.3):
// application/dicom+json (the default) or multipart/related; type="application/dicom+xml".
import { parseAccept, rangeMatches } from './accept.js';
import { HttpError } from './http-error.js';

export type DicomModelMedia = 'json' | 'xml';

export function negotiateDicomModel(acceptHeader: string | undefined): DicomModelMedia {
  for (const range of parseAccept(acceptHeader)) {
    if (range.type === 'multipart/related') {
      // A multipart/related without type means the XML model (PS3.18 §8.7.3).
      const type = (range.parameters.type ?? 'application/dicom+xml').toLowerCase();
      if (type === 'application/dicom+xml') return 'xml';
      continue;
    }
    if (rangeMatches(range, 'application/dicom+json') || rangeMatches(range, 'application/json')) return 'json';
  }
  throw HttpError.notAcceptable('this resource is available as application/dicom+json or multipart/related; type="application/dicom+xml"');
}
