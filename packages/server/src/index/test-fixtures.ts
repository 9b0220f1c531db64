// Instances for index tests: the DICOM JSON a modality would send, reduced to what matters.
import type { DicomJson } from './dicom-json.js';
import type { IndexRequest } from './store.js';

export const CT = '1.2.840.10008.5.1.4.1.1.2';
export const SR = '1.2.840.10008.5.1.4.1.1.88.11';

export interface Spec {
  patientId?: string;
  patientName?: string;
  study: string;
  series: string;
  sop: string;
  modality?: string;
  sopClass?: string;
  studyDate?: string;
  studyTime?: string;
  accession?: string;
  description?: string;
  instanceNumber?: number;
}

export function instance(s: Spec): DicomJson {
  const json: DicomJson = {
    '00080016': { vr: 'UI', Value: [s.sopClass ?? CT] },
    '00080018': { vr: 'UI', Value: [s.sop] },
    '00080060': { vr: 'CS', Value: [s.modality ?? 'CT'] },
    '0020000D': { vr: 'UI', Value: [s.study] },
    '0020000E': { vr: 'UI', Value: [s.series] },
    '00200013': { vr: 'IS', Value: [s.instanceNumber ?? 1] },
    '00081030': { vr: 'LO', Value: [s.description ?? 'Thorax'] },
    '00181030': { vr: 'LO', Value: ['Protocol ' + s.series] },
    '7FE00010': { vr: 'OW', InlineBinary: 'AAAA'.repeat(1000) },
  };
  if (s.patientId !== undefined) json['00100020'] = { vr: 'LO', Value: [s.patientId] };
  if (s.patientName !== undefined) json['00100010'] = { vr: 'PN', Value: [{ Alphabetic: s.patientName }] };
  if (s.studyDate !== undefined) json['00080020'] = { vr: 'DA', Value: [s.studyDate] };
  if (s.studyTime !== undefined) json['00080030'] = { vr: 'TM', Value: [s.studyTime] };
  if (s.accession !== undefined) json['00080050'] = { vr: 'SH', Value: [s.accession] };
  return json;
}

export function request(s: Spec, duplicatePolicy: IndexRequest['duplicatePolicy'] = 'reject', key = `k/${s.sop}`): IndexRequest {
  return {
    json: instance(s),
    storage: { key, size: 1234, sha256: 'ab'.repeat(32), transferSyntaxUid: '1.2.840.10008.1.2.1' },
    receivedFrom: 'MODALITY1',
    duplicatePolicy,
  };
}

export const empty = (vr: string) => ({ vr });
export const value = (vr: string, ...values: unknown[]) => ({ vr, Value: values });

