// Reading DICOM JSON (PS3.18 F.2): values by tag, person names in their alphabetic form.

export type DicomJsonAttribute = { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string };
export type DicomJsonDataset = Record<string, DicomJsonAttribute>;

/** First value of an attribute as text ('' when absent); PN gives its alphabetic group, "^" shown as ", " / " ". */
export function text(dataset: DicomJsonDataset, tag: string): string {
  const value = dataset[tag]?.Value?.[0];
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') {
    const alphabetic = (value as { Alphabetic?: string }).Alphabetic ?? '';
    const [family = '', given = '', middle = ''] = alphabetic.split('^');
    return [family, [given, middle].filter(Boolean).join(' ')].filter(Boolean).join(', ');
  }
  return String(value);
}

/** Every value of an attribute as text. */
export function texts(dataset: DicomJsonDataset, tag: string): string[] {
  return (dataset[tag]?.Value ?? []).map((v) => String(v));
}

export function numbers(dataset: DicomJsonDataset, tag: string): number[] {
  return (dataset[tag]?.Value ?? []).map((v) => Number(v)).filter((v) => Number.isFinite(v));
}

/** DA (YYYYMMDD) shown as YYYY-MM-DD. */
export function formatDate(value: string): string {
  return /^\d{8}$/.test(value) ? `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}` : value;
}

/** TM (HHMMSS.frac) shown as HH:MM. */
export function formatTime(value: string): string {
  return /^\d{4}/.test(value) ? `${value.slice(0, 2)}:${value.slice(2, 4)}` : value;
}

export const Tag = {
  StudyDate: '00080020',
  StudyTime: '00080030',
  AccessionNumber: '00080050',
  ModalitiesInStudy: '00080061',
  Modality: '00080060',
  ReferringPhysicianName: '00080090',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  PatientName: '00100010',
  PatientID: '00100020',
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  ImagePositionPatient: '00200032',
  ImageOrientationPatient: '00200037',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
  NumberOfFrames: '00280008',
  SliceThickness: '00180050',
} as const;
