import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  newestFirst, patientStudiesParams, updateProfile, withHangingProtocol, withoutHangingProtocol, withoutSavedFilter, withSavedFilter,
  type ConsoleProfile, type FilterFields,
} from './api';
import { chooseProtocol, type HangingProtocol } from './hanging-protocols';
import type { DicomJsonDataset } from './dicom-json';

const blank: FilterFields = { patientName: '', patientId: '', accessionNumber: '', referringPhysician: '', dateFrom: '', dateTo: '', modality: '' };

describe('saved filters in the profile', () => {
  it('keep only the fields filled in, trimmed, and replace one of the same name', () => {
    const profile: ConsoleProfile = { version: 1, layout: '2x2', savedFilters: [{ name: 'Mine', query: { modality: 'MR' } }, { name: 'Other', query: {} }] };
    const saved = withSavedFilter(profile, 'Mine', { ...blank, patientName: ' dupont ', modality: 'CT', dateFrom: '2024-01-01' });
    expect(saved.layout).toBe('2x2');
    expect(saved.savedFilters).toEqual([{ name: 'Other', query: {} }, { name: 'Mine', query: { patientName: 'dupont', modality: 'CT', dateFrom: '2024-01-01' } }]);
    expect(withoutSavedFilter(saved, 'Mine').savedFilters).toEqual([{ name: 'Other', query: {} }]);
    // The original is left as it was (the console keeps it until the server answers).
    expect(profile.savedFilters).toHaveLength(2);
  });
});

describe('the user\'s own hanging protocols', () => {
  it('are saved by id, replace an older one of the same id, and then win over the defaults', () => {
    const mine: HangingProtocol = { id: 'ct-3', name: 'CT three planes', match: { modality: ['CT'] }, layout: '1x3', viewports: [{}, {}, {}] };
    const ct = { uid: '1', date: '20240101', series: [{ uid: 's', modality: 'CT' }] };
    let profile: ConsoleProfile = { version: 1 };
    expect(chooseProtocol(ct, [], profile.hangingProtocols).id).toBe('default-ct');
    profile = withHangingProtocol(profile, mine);
    profile = withHangingProtocol(profile, { ...mine, name: 'CT, three planes' });
    expect(profile.hangingProtocols).toEqual([{ ...mine, name: 'CT, three planes' }]);
    expect(chooseProtocol(ct, [], profile.hangingProtocols).id).toBe('ct-3');
    expect(withoutHangingProtocol(profile, 'ct-3').hangingProtocols).toEqual([]);
  });
});

describe('the patient history', () => {
  it('asks QIDO-RS for the patient\'s studies by Patient ID', () => {
    const params = patientStudiesParams('12^34');
    expect(params.get('PatientID')).toBe('12^34');
    expect(params.getAll('includefield')).toContain('00081030');
  });

  it('orders studies newest first by date and time, undated last', () => {
    const study = (uid: string, date?: string, time?: string): DicomJsonDataset => ({
      '0020000D': { vr: 'UI', Value: [uid] },
      ...(date ? { '00080020': { vr: 'DA', Value: [date] } } : {}),
      ...(time ? { '00080030': { vr: 'TM', Value: [time] } } : {}),
    });
    const ordered = newestFirst([study('a', '20200101', '0900'), study('none'), study('b', '20230505'), study('c', '20200101', '173000')]);
    expect(ordered.map((d) => d['0020000D']!.Value![0])).toEqual(['b', 'c', 'a', 'none']);
  });
});

describe('saving a change to the profile', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('starts again from the other station\'s version when the server says it changed meanwhile (412)', async () => {
    // A tiny stand-in for /api/profile with entity tags; another station saves once, right after our first read.
    let stored: ConsoleProfile = { version: 1, savedFilters: [{ name: 'Old', query: {} }] };
    let revision = 1;
    let reads = 0;
    const puts: (string | null)[] = [];
    vi.stubGlobal('fetch', async (_url: string, init?: RequestInit) => {
      if (!init?.method) {
        reads += 1;
        const answer = new Response(JSON.stringify(stored), { headers: { ETag: `"${revision}"` } });
        if (reads === 1) {
          stored = withSavedFilter(stored, 'From the other station', { ...blank, modality: 'MR' });
          revision += 1;
        }
        return answer;
      }
      const ifMatch = new Headers(init.headers).get('If-Match');
      puts.push(ifMatch);
      if (ifMatch !== `"${revision}"`) return new Response(JSON.stringify({ message: 'changed elsewhere' }), { status: 412 });
      stored = JSON.parse(init.body as string) as ConsoleProfile;
      revision += 1;
      return new Response(JSON.stringify(stored));
    });
    const saved = await updateProfile((p) => withSavedFilter(p, 'Mine', { ...blank, modality: 'CT' }));
    expect(puts).toEqual(['"1"', '"2"']);
    expect(saved.savedFilters?.map((f) => f.name)).toEqual(['Old', 'From the other station', 'Mine']);
    expect(stored.savedFilters?.map((f) => f.name)).toEqual(['Old', 'From the other station', 'Mine']);
  });
});
