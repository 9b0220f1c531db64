// The header every document Loire writes into a study carries (PS3.3 A.35): the Patient and
// General Study modules copied from an instance of that study, a series of its own, the
// equipment (Loire), dates, and the evidence (Hierarchical SOP Instance Reference, C.17.2.1) of
// what its content references.
import type { DicomJson, DicomJsonAttribute } from '@loire/dicom';
import { referencedSop, type ImageReference } from './sr-content.js';

/** Patient (C.7.1.1) and General Study (C.7.2.1) attributes copied from the study's instances. */
const COPIED_FROM_STUDY = [
  '00100010', // PatientName
  '00100020', // PatientID
  '00100021', // IssuerOfPatientID
  '00100030', // PatientBirthDate
  '00100040', // PatientSex
  '0020000D', // StudyInstanceUID
  '00080020', // StudyDate
  '00080030', // StudyTime
  '00080090', // ReferringPhysicianName
  '00200010', // StudyID
  '00080050', // AccessionNumber
  '00081030', // StudyDescription
] as const;

/** Type 2 attributes of the copied modules: present, empty when the study has no value. */
const TYPE_2 = new Set(['00100010', '00100020', '00100030', '00100040', '00080020', '00080030', '00080090', '00200010', '00080050']);

export interface DocumentHeader {
  sopClassUid: string;
  sopInstanceUid: string;
  modality: 'SR' | 'KO';
  seriesInstanceUid: string;
  seriesNumber: number;
  seriesDescription: string;
  instanceNumber: number;
  /** Attributes of any instance of the study: the Patient and Study modules are copied from it. */
  studyInstance: DicomJson;
  created: Date;
  softwareVersion: string;
}

/** DICOM DA and TM of a moment, in the server's local time (DICOM dates and times are local). */
export function dicomDateTime(date: Date): { date: string; time: string } {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return {
    date: `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}`,
    time: `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`,
  };
}

const one = (vr: string, value: string | number): DicomJsonAttribute => ({ vr, Value: [value] });

export function documentHeader(header: DocumentHeader): DicomJson {
  const { date, time } = dicomDateTime(header.created);
  const json: DicomJson = {
    '00080016': one('UI', header.sopClassUid),
    '00080018': one('UI', header.sopInstanceUid),
    '00080012': one('DA', date), // InstanceCreationDate
    '00080013': one('TM', time), // InstanceCreationTime
    '00080060': one('CS', header.modality),
    '0020000E': one('UI', header.seriesInstanceUid),
    '00200011': one('IS', header.seriesNumber),
    '0008103E': one('LO', header.seriesDescription),
    '00081111': { vr: 'SQ', Value: [] }, // ReferencedPerformedProcedureStepSequence (type 2)
    '00080070': one('LO', 'Loire'), // Manufacturer
    '00181020': one('LO', header.softwareVersion), // SoftwareVersions
    '00200013': one('IS', header.instanceNumber),
    '00080023': one('DA', date), // ContentDate
    '00080033': one('TM', time), // ContentTime
  };
  for (const tag of COPIED_FROM_STUDY) {
    const attribute = header.studyInstance[tag];
    if (attribute?.Value && attribute.Value.length > 0) json[tag] = { vr: attribute.vr, Value: attribute.Value };
    else if (TYPE_2.has(tag)) json[tag] = { vr: attribute?.vr ?? vrOfCopied(tag) };
  }
  return json;
}

function vrOfCopied(tag: string): string {
  return ({ '00100010': 'PN', '00080090': 'PN', '00100030': 'DA', '00080020': 'DA', '00080030': 'TM', '00100040': 'CS', '00200010': 'SH', '00080050': 'SH' } as Record<string, string>)[tag] ?? 'LO';
}

/** Current Requested Procedure Evidence Sequence (C.17.2.1): the referenced instances by study and series. */
export function evidence(studyInstanceUid: string, images: readonly (ImageReference & { seriesInstanceUid: string })[]): DicomJsonAttribute {
  const bySeries = new Map<string, Map<string, ImageReference>>();
  for (const image of images) {
    let series = bySeries.get(image.seriesInstanceUid);
    if (!series) bySeries.set(image.seriesInstanceUid, series = new Map());
    // One entry per instance: the frames are named where the content references them.
    series.set(image.sopInstanceUid, { sopClassUid: image.sopClassUid, sopInstanceUid: image.sopInstanceUid });
  }
  return {
    vr: 'SQ',
    Value: [{
      '0020000D': one('UI', studyInstanceUid),
      '00081115': { // ReferencedSeriesSequence
        vr: 'SQ',
        Value: [...bySeries].map(([seriesUid, instances]) => ({
          '0020000E': one('UI', seriesUid),
          '00081199': { vr: 'SQ', Value: [...instances.values()].map(referencedSop) },
        })),
      },
    }],
  };
}
