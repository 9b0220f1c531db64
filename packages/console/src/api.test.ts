import { describe, expect, it } from 'vitest';
import { studySearchParams, type StudyQuery } from './api';

const none: StudyQuery = { patientName: '', patientId: '', accessionNumber: '', referringPhysician: '', dateFrom: '', dateTo: '', modality: '', limit: 25, offset: 0 };

describe('the study list query (QIDO-RS, PS3.18 10.6.1.2)', () => {
  it('matches a name by its beginning, accent- and case-insensitively', () => {
    const params = studySearchParams({ ...none, patientName: ' Déb ' });
    expect(params.get('PatientName')).toBe('Déb*');
    expect(params.get('fuzzymatching')).toBe('true');
  });

  it('matches the referring physician the same way', () => {
    const params = studySearchParams({ ...none, referringPhysician: 'müller' });
    expect(params.get('ReferringPhysicianName')).toBe('müller*');
    expect(params.get('fuzzymatching')).toBe('true');
  });

  it('keeps the wildcards the user typed', () => {
    expect(studySearchParams({ ...none, patientName: 'd?pont' }).get('PatientName')).toBe('d?pont');
  });

  it('sends no name and no fuzzy matching when the name is empty', () => {
    const params = studySearchParams(none);
    expect(params.has('PatientName')).toBe(false);
    expect(params.has('fuzzymatching')).toBe(false);
  });

  it('turns the date inputs into a DA range, open on either side', () => {
    expect(studySearchParams({ ...none, dateFrom: '2015-02-01', dateTo: '2015-02-28' }).get('StudyDate')).toBe('20150201-20150228');
    expect(studySearchParams({ ...none, dateFrom: '2015-02-01' }).get('StudyDate')).toBe('20150201-');
    expect(studySearchParams({ ...none, dateTo: '2015-02-28' }).get('StudyDate')).toBe('-20150228');
    expect(studySearchParams({ ...none, dateFrom: '2015-02-06', dateTo: '2015-02-06' }).get('StudyDate')).toBe('20150206');
    expect(studySearchParams(none).has('StudyDate')).toBe(false);
  });

  it('asks one more than a page, from the offset, with the other filters', () => {
    const params = studySearchParams({ ...none, patientId: 'P1', accessionNumber: 'A7', modality: 'CT', limit: 25, offset: 50 });
    expect(params.get('limit')).toBe('26');
    expect(params.get('offset')).toBe('50');
    expect(params.get('PatientID')).toBe('P1');
    expect(params.get('AccessionNumber')).toBe('A7');
    expect(params.get('ModalitiesInStudy')).toBe('CT');
    expect(params.getAll('includefield')).toEqual(['00080090', '00081030', '00201206', '00201208']);
  });
});
