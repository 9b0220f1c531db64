// Key images and measurements saved back into the study as DICOM, through the same ingest as
// every other object (stored byte-exact, indexed, audited), and read back from the index.
//
// A document is never changed once written: saving measurements writes a new report holding
// the full current set, naming the previous one in its Predecessor Documents Sequence, in the
// series Loire keeps for its reports in that study. The newest report is the current one.
import { ExplicitVRLittleEndian, fromDicomJson, IMPLEMENTATION_VERSION_NAME, newUid, writePart10, type DicomJson } from '@loire/dicom';
import type { Archive } from '../archive.js';
import type { IngestResult } from '../ingest/ingest.js';
import { documentHeader, evidence } from './document.js';
import {
  isKeyObjectSelection, KEY_OBJECT_SELECTION, keyObjectContent, readKeyObjectSelection,
  type KeyImagesInput, type StoredKeyImages,
} from './key-objects.js';
import {
  COMPREHENSIVE_3D_SR, COMPREHENSIVE_SR, hasValueType, imagesOf, isMeasurementReport, measurementGroupOf, measurementReportContent, readMeasurementReport, trackingUidOfGroup, withObserver,
  type KeptMeasurement, type MeasurementInput, type StoredMeasurement,
} from './measurement-report.js';
import { referencedSop, stringOf, type ImageReference } from './sr-content.js';

/** A request the study's content cannot satisfy (unknown study, image of another study): HTTP 4xx. */
export class ReportInputError extends Error {
  override readonly name = 'ReportInputError';
  constructor(readonly status: 400 | 404, message: string) {
    super(message);
  }
}

export interface Author {
  username: string;
  displayName: string;
}

export interface DocumentInfo {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  author: string;
  /** ISO 8601 from the document's Content Date and Time (local time, as DICOM gives it). */
  contentDateTime: string;
}

export interface MeasurementsOfStudy {
  /** The newest report: its measurements are the study's current ones. */
  current?: DocumentInfo & { measurements: StoredMeasurement[] };
  /** Every measurement report of the study, newest first. */
  reports: DocumentInfo[];
}

export interface KeyImagesOfStudy {
  documents: (DocumentInfo & StoredKeyImages)[];
}

const SERIES_DESCRIPTIONS = { SR: 'Measurements (Loire)', KO: 'Key images (Loire)' } as const;
const OBSERVER_NAME = '0040A123';

interface StudyDocument {
  seriesInstanceUid: string;
  sopInstanceUid: string;
  json: DicomJson;
}

export class ReportService {
  constructor(private readonly archive: Archive) {}

  async measurements(studyInstanceUid: string): Promise<MeasurementsOfStudy> {
    const reports = (await this.documents(studyInstanceUid)).filter((d) => isMeasurementReport(d.json));
    const infos = reports.map((d) => ({ ...info(d, authorOf(d.json)), document: d })).sort(newestFirst);
    const newest = infos[0];
    return {
      ...(newest ? { current: { ...strip(newest), measurements: readMeasurementReport(newest.document.json) } } : {}),
      reports: infos.map(strip),
    };
  }

  async keyImages(studyInstanceUid: string): Promise<KeyImagesOfStudy> {
    const documents = (await this.documents(studyInstanceUid)).filter((d) => isKeyObjectSelection(d.json));
    return {
      documents: documents.map((d) => ({ ...info(d, authorOf(d.json)), ...readKeyObjectSelection(d.json) })).sort(newestFirst),
    };
  }

  /**
   * Writes the study's measurements as a new TID 1500 report; resolves once stored and indexed. The
   * report holds the `keep` groups of earlier reports first, copied as written, then `measurements`:
   * a client that keeps what it did not change loses nothing it cannot draw or rewrite.
   */
  async saveMeasurements(studyInstanceUid: string, measurements: readonly MeasurementInput[], author: Author, keep: readonly KeptMeasurement[] = []): Promise<IngestResult> {
    const documents = await this.documents(studyInstanceUid);
    const resolved = await this.resolveImages(studyInstanceUid, documents, measurements.map((m) => m.image));
    const withClasses = measurements.map((m, i) => ({ ...m, image: resolved[i]! }));
    const kept = this.keptGroups(studyInstanceUid, documents, keep, measurements, author);
    // The evidence names the images of the kept groups too, those of this study (a group may point elsewhere).
    const bySop = new Map(documents.map((d) => [d.sopInstanceUid, d]));
    const keptImages = kept.flatMap(imagesOf).flatMap((image) => {
      const found = bySop.get(image.sopInstanceUid);
      return found ? [{ ...image, seriesInstanceUid: found.seriesInstanceUid }] : [];
    });
    const previous = documents.filter((d) => isMeasurementReport(d.json) && stringOf(d.json, '00080070') === 'Loire')
      .map((d) => ({ ...info(d, ''), document: d })).sort(newestFirst)[0];
    // A kept group with 3D coordinates (SCOORD3D) needs the 3D class: Comprehensive SR has no such item.
    const sopClassUid = kept.some((g) => hasValueType(g, 'SCOORD3D')) ? COMPREHENSIVE_3D_SR : COMPREHENSIVE_SR;
    const json: DicomJson = {
      ...this.header(documents, [...keptImages, ...resolved], 'SR', sopClassUid, author),
      '0040A491': { vr: 'CS', Value: ['PARTIAL'] }, // CompletionFlag: more measurements may follow
      '0040A493': { vr: 'CS', Value: ['UNVERIFIED'] }, // VerificationFlag
      '0040A372': { vr: 'SQ', Value: [] }, // PerformedProcedureCodeSequence (type 2)
      ...(previous ? { '0040A360': evidenceOf(studyInstanceUid, previous.document, sopClassUid) } : {}), // PredecessorDocumentsSequence
      ...measurementReportContent(withClasses, author.displayName || author.username, kept),
    };
    return this.store(json, author);
  }

  /** The Measurement Groups `keep` names, each under its own observer; 400 for one that is not there or a tracking UID given twice. */
  private keptGroups(studyInstanceUid: string, documents: StudyDocument[], keep: readonly KeptMeasurement[], measurements: readonly MeasurementInput[], author: Author) {
    const seen = new Set(measurements.map((m) => m.trackingUid));
    const saver = author.displayName || author.username;
    return keep.map(({ report, group }) => {
      const document = documents.find((d) => d.sopInstanceUid === report && isMeasurementReport(d.json));
      if (!document) throw new ReportInputError(400, `keep: ${report} is not a measurement report of study ${studyInstanceUid}`);
      const found = measurementGroupOf(document.json, group);
      if (!found) throw new ReportInputError(400, `keep: report ${report} has no measurement group ${group}`);
      const trackingUid = trackingUidOfGroup(found);
      if (trackingUid) {
        if (seen.has(trackingUid)) throw new ReportInputError(400, `keep: the measurement ${trackingUid} is given twice`);
        seen.add(trackingUid);
      }
      const observer = authorOf(document.json);
      return withObserver(found, observer === saver ? '' : observer);
    });
  }

  /** Writes a Key Object Selection of the given images; resolves once stored and indexed. */
  async saveKeyImages(studyInstanceUid: string, input: KeyImagesInput, author: Author): Promise<IngestResult> {
    const documents = await this.documents(studyInstanceUid);
    const images = await this.resolveImages(studyInstanceUid, documents, input.images);
    const json: DicomJson = {
      ...this.header(documents, images, 'KO', KEY_OBJECT_SELECTION, author),
      ...keyObjectContent(input.title, input.description, images, author.displayName || author.username),
    };
    return this.store(json, author);
  }

  private header(documents: StudyDocument[], images: (ImageReference & { seriesInstanceUid: string })[], modality: 'SR' | 'KO', sopClassUid: string, author: Author): DicomJson {
    const studyInstanceUid = stringOf(documents[0]!.json, '0020000D')!;
    // Loire's own series for this kind of document in the study, or a new one after the others.
    const own = documents.filter((d) => stringOf(d.json, '00080060') === modality && stringOf(d.json, '00080070') === 'Loire'
      && stringOf(d.json, '0008103E') === SERIES_DESCRIPTIONS[modality]);
    const seriesInstanceUid = own[0]?.seriesInstanceUid ?? newUid();
    const seriesNumber = own[0] ? Number(stringOf(own[0].json, '00200011')) || 1 : Math.max(0, ...documents.map((d) => Number(stringOf(d.json, '00200011')) || 0)) + 1;
    const instanceNumber = Math.max(0, ...own.map((d) => Number(stringOf(d.json, '00200013')) || 0)) + 1;
    return {
      ...documentHeader({
        sopClassUid, sopInstanceUid: newUid(), modality, seriesInstanceUid, seriesNumber, seriesDescription: SERIES_DESCRIPTIONS[modality],
        instanceNumber, studyInstance: documents[0]!.json, created: new Date(), softwareVersion: IMPLEMENTATION_VERSION_NAME,
      }),
      '0040A375': evidence(studyInstanceUid, images), // CurrentRequestedProcedureEvidenceSequence
    };
  }

  private async store(json: DicomJson, author: Author): Promise<IngestResult> {
    const bytes = writePart10(fromDicomJson(json), { transferSyntaxUid: ExplicitVRLittleEndian });
    const incoming = await this.archive.ingest.beginPart10({ door: 'stow', from: author.username });
    try {
      const wait = incoming.write(bytes);
      if (wait) await wait;
    } catch (error) {
      await incoming.abort(error as Error);
      throw error;
    }
    return incoming.end();
  }

  /** The study's instances with their attributes; 404 when the study is unknown. */
  private async documents(studyInstanceUid: string): Promise<StudyDocument[]> {
    const docs = await this.archive.index.metadataDocuments({ studyInstanceUid });
    if (docs.length === 0) throw new ReportInputError(404, `study ${studyInstanceUid} is not in this archive`);
    return docs.map((d) => ({ seriesInstanceUid: d.seriesInstanceUid, sopInstanceUid: d.sopInstanceUid, json: JSON.parse(d.json) as DicomJson }));
  }

  /** Each referenced image's SOP class and series, checking that it belongs to the study. */
  private async resolveImages(studyInstanceUid: string, documents: StudyDocument[], images: readonly { sopInstanceUid: string; frame?: number | undefined }[]) {
    const bySop = new Map(documents.map((d) => [d.sopInstanceUid, d]));
    return images.map((image) => {
      const found = bySop.get(image.sopInstanceUid);
      if (!found) throw new ReportInputError(400, `image ${image.sopInstanceUid} is not part of study ${studyInstanceUid}`);
      const frames = Number(stringOf(found.json, '00280008')) || 1;
      if (image.frame !== undefined && image.frame > frames) throw new ReportInputError(400, `image ${image.sopInstanceUid} has ${frames} frame(s), not ${image.frame}`);
      return {
        sopClassUid: stringOf(found.json, '00080016')!, sopInstanceUid: image.sopInstanceUid, seriesInstanceUid: found.seriesInstanceUid,
        // Frame numbers only for multi-frame images (PS3.3 C.17.3.2.1: single-frame references name none).
        ...(image.frame !== undefined && frames > 1 ? { frame: image.frame } : {}),
      };
    });
  }
}

function info(d: StudyDocument, author: string): DocumentInfo {
  const date = stringOf(d.json, '00080023') ?? '';
  const time = (stringOf(d.json, '00080033') ?? '').padEnd(6, '0');
  const iso = /^\d{8}$/.test(date) ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4, 6)}${time.length > 7 ? time.slice(6, 10) : ''}` : '';
  return { sopInstanceUid: d.sopInstanceUid, seriesInstanceUid: d.seriesInstanceUid, author, contentDateTime: iso };
}

function newestFirst(a: { contentDateTime: string; document?: StudyDocument }, b: { contentDateTime: string; document?: StudyDocument }): number {
  if (a.contentDateTime !== b.contentDateTime) return a.contentDateTime < b.contentDateTime ? 1 : -1;
  const number = (x: { document?: StudyDocument }) => Number(stringOf(x.document?.json, '00200013')) || 0;
  return number(b) - number(a);
}

function strip<T extends { document?: StudyDocument }>(x: T): Omit<T, 'document'> {
  const { document: _document, ...rest } = x;
  return rest;
}

/** The person observer named in the document's observer context (TID 1002). */
function authorOf(json: DicomJson): string {
  for (const item of (json['0040A730']?.Value ?? []) as DicomJson[]) {
    const name = stringOf(item, OBSERVER_NAME);
    if (name) return name;
  }
  return '';
}

/** A Hierarchical SOP Instance Reference to one document (for the Predecessor Documents Sequence). */
function evidenceOf(studyInstanceUid: string, document: StudyDocument, sopClassUid: string) {
  return {
    vr: 'SQ',
    Value: [{
      '0020000D': { vr: 'UI', Value: [studyInstanceUid] },
      '00081115': { vr: 'SQ', Value: [{
        '0020000E': { vr: 'UI', Value: [document.seriesInstanceUid] },
        '00081199': { vr: 'SQ', Value: [referencedSop({ sopClassUid: stringOf(document.json, '00080016') ?? sopClassUid, sopInstanceUid: document.sopInstanceUid })] },
      }] },
    }],
  };
}
