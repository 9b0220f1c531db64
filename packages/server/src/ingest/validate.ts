// The minimum an object needs to be archived: the four identifying UIDs, well-formed.
import { transferSyntax, type Dataset } from '@loire/dicom';
import { DicomStatus, IngestError } from './errors.js';

export interface InstanceIdentity {
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  transferSyntaxUid: string;
}

/** Lenient UID check for received data: some modalities emit leading zeros in components. */
function isAcceptableUid(value: string): boolean {
  return value.length > 0 && value.length <= 64 && /^\d+(\.\d+)*$/.test(value);
}

const REQUIRED = [
  [0x00080016, 'SOPClassUID'],
  [0x00080018, 'SOPInstanceUID'],
  [0x0020000d, 'StudyInstanceUID'],
  [0x0020000e, 'SeriesInstanceUID'],
] as const;

export function validateInstanceIdentity(
  dataset: Dataset,
  transferSyntaxUid: string,
  announced?: { sopClassUid: string; sopInstanceUid: string },
  required?: { studyInstanceUid?: string | undefined },
): InstanceIdentity {
  if (!transferSyntax(transferSyntaxUid)) {
    throw IngestError.cannotUnderstand(`unknown transfer syntax ${transferSyntaxUid}`);
  }
  const values: string[] = [];
  for (const [tag, keyword] of REQUIRED) {
    const value = dataset.string(tag);
    if (value === undefined || value === '') throw IngestError.doesNotMatch(`${keyword} is missing`);
    if (!isAcceptableUid(value)) throw IngestError.doesNotMatch(`${keyword} "${value.slice(0, 80)}" is not a valid UID`);
    values.push(value);
  }
  const [sopClassUid, sopInstanceUid, studyInstanceUid, seriesInstanceUid] = values as [string, string, string, string];
  if (announced && announced.sopInstanceUid !== sopInstanceUid) {
    throw IngestError.doesNotMatch(`SOPInstanceUID ${sopInstanceUid} in the dataset differs from ${announced.sopInstanceUid} in the C-STORE request`);
  }
  if (announced && announced.sopClassUid !== sopClassUid) {
    throw IngestError.doesNotMatch(`SOPClassUID ${sopClassUid} in the dataset differs from ${announced.sopClassUid} in the C-STORE request`);
  }
  if (required?.studyInstanceUid !== undefined && required.studyInstanceUid !== studyInstanceUid) {
    // PS3.18 §10.5.1: an instance stored into a study resource must belong to that study;
    // Table 10.5.3-1 counts the mismatch among the conflicts (409), I.2.2 among the A9xx reasons.
    throw new IngestError(`StudyInstanceUID ${studyInstanceUid} of the instance differs from the study ${required.studyInstanceUid} it was sent to`,
      DicomStatus.DataSetDoesNotMatchSopClass, 409);
  }
  return { sopClassUid, sopInstanceUid, studyInstanceUid, seriesInstanceUid, transferSyntaxUid };
}
