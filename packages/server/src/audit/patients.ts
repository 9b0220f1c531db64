// Which patient a study belongs to, so that every record about a study names its patient (the
// auditor searches by patient). A small cache keeps image requests from querying per frame.
import type { ArchiveIndex, DicomJson } from '../index/index.js';
import type { AuditPatient } from './event.js';

const CACHE_SIZE = 2000;

export class StudyPatients {
  private readonly cache = new Map<string, AuditPatient | null>();

  constructor(private readonly index: ArchiveIndex) {}

  async of(studyInstanceUid: string): Promise<AuditPatient | undefined> {
    const cached = this.cache.get(studyInstanceUid);
    if (cached !== undefined) {
      // Refresh its place: the Map's order is the eviction order.
      this.cache.delete(studyInstanceUid);
      this.cache.set(studyInstanceUid, cached);
      return cached ?? undefined;
    }
    let patient: AuditPatient | null = null;
    try {
      const [study] = await this.index.findAll({
        level: 'STUDY',
        identifier: { '0020000D': { vr: 'UI', Value: [studyInstanceUid] }, '00100020': { vr: 'LO' }, '00100010': { vr: 'PN' } },
        options: { limit: 1 },
      });
      patient = study ? patientOf(study) ?? null : null;
    } catch {
      return undefined; // a record without its patient beats no record
    }
    // Unknown studies are not cached: the study may arrive (C-STORE) a moment later.
    if (patient) {
      this.cache.set(studyInstanceUid, patient);
      if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    }
    return patient ?? undefined;
  }

  /** Forget a study (deleted, or its patient changed). */
  forget(studyInstanceUid: string): void {
    this.cache.delete(studyInstanceUid);
  }
}

export function patientOf(json: DicomJson): AuditPatient | undefined {
  const id = json['00100020']?.Value?.[0];
  if (typeof id !== 'string' || id === '') return undefined;
  const name = json['00100010']?.Value?.[0];
  const alphabetic = typeof name === 'object' && name !== null && 'Alphabetic' in name ? (name as { Alphabetic?: string }).Alphabetic : undefined;
  return { id, ...(alphabetic ? { name: alphabetic } : {}) };
}
