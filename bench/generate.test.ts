import { describe, expect, it } from 'vitest';
import { LAYOUTS, catalogOf, ctInstance, noisePixels, placeOf, relativePathOf, uidFor } from './generate.mjs';

describe('uidFor', () => {
  it('gives stable, distinct, valid UIDs under the 2.25 root', () => {
    const a = uidFor('CT/instance/1');
    expect(uidFor('CT/instance/1')).toBe(a);
    expect(uidFor('CT/instance/2')).not.toBe(a);
    expect(a).toMatch(/^2\.25\.(0|[1-9][0-9]*)$/);
    expect(a.length).toBeLessThanOrEqual(64);
  });
});

describe('noisePixels', () => {
  it('is deterministic per seed, differs between seeds, and stays within 12 bits', () => {
    const a = new Uint16Array(noisePixels(4096, 7).buffer);
    expect(new Uint16Array(noisePixels(4096, 7).buffer)).toEqual(a);
    expect(new Uint16Array(noisePixels(4096, 8).buffer)).not.toEqual(a);
    expect(Math.max(...a)).toBeLessThan(4096);
    // Noise, not a constant or a ramp: many distinct values.
    expect(new Set(a).size).toBeGreaterThan(2000);
  });
});

describe('layout', () => {
  it('places instances in series, studies and patients as the layout says', () => {
    const ct = LAYOUTS.ct;
    expect(placeOf(ct, 0)).toMatchObject({ series: 0, study: 0, patient: 0, instanceInSeries: 0 });
    expect(placeOf(ct, ct.perSeries)).toMatchObject({ series: 1, study: 0, seriesInStudy: 1 });
    expect(placeOf(ct, ct.perSeries * ct.seriesPerStudy * ct.studiesPerPatient)).toMatchObject({ patient: 1 });
  });

  it('lists in its catalog every study and patient that the instances reference', () => {
    const count = 10_000;
    const catalog = catalogOf('small', count);
    const studyUids = new Set<string>();
    const patientIds = new Set<string>();
    for (let i = 0; i < count; i += 37) {
      const tags = new Map(ctInstance(LAYOUTS.small, i).elements.map(([tag, , value]) => [tag, value]));
      studyUids.add(tags.get(0x0020000d) as string);
      patientIds.add(tags.get(0x00100020) as string);
    }
    const catalogStudies = new Set(catalog.studies.map((s) => s.studyUid));
    for (const uid of studyUids) expect(catalogStudies.has(uid)).toBe(true);
    expect(catalog.studies).toHaveLength(count / (LAYOUTS.small.perSeries * LAYOUTS.small.seriesPerStudy));
    const catalogPatients = new Set(catalog.patients.map((p) => p.patientId));
    for (const id of patientIds) expect(catalogPatients.has(id)).toBe(true);
  });

  it('splits the small set into contiguous shards that never cut a study', () => {
    const count = 10_000;
    const shardOf = (i: number) => relativePathOf('small', i, count).split('/')[0];
    const perStudy = LAYOUTS.small.perSeries * LAYOUTS.small.seriesPerStudy;
    for (let study = 0; study < count / perStudy; study++) {
      expect(shardOf(study * perStudy)).toBe(shardOf(study * perStudy + perStudy - 1));
    }
    expect(new Set(Array.from({ length: count }, (_, i) => shardOf(i))).size).toBe(LAYOUTS.small.shards);
  });
});

describe('tiny small sets', () => {
  it('still make one shard per association when there are fewer studies than shards', () => {
    const shards = new Set(Array.from({ length: 40 }, (_, i) => relativePathOf('small', i, 40).split('/')[0]));
    expect(shards.size).toBe(LAYOUTS.small.shards);
  });
});
