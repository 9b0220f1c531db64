import { describe, expect, it } from 'vitest';
import { parseIndexUrl } from './database.js';
import { successor, toGlob, toLike } from './matching.js';
import { personNameSearchForm } from './person-name-search.js';

describe('wildcard translation', () => {
  it('escapes LIKE metacharacters and maps * and ?', () => {
    expect(toLike('A_1%*')).toBe('A\\_1\\%%');
    expect(toLike('a\\b?')).toBe('a\\\\b_');
  });
  it('escapes [ for GLOB', () => {
    expect(toGlob('A[1]*?')).toBe('A[[]1]*?');
  });
  it('computes the prefix upper bound by code point', () => {
    expect(successor('DOE')).toBe('DOF');
    expect(successor('Mü')).toBe('Mý');
    expect(successor('😀')).toBe('😁');
  });
});

describe('person name search form', () => {
  it('removes case and Latin accents', () => {
    expect(personNameSearchForm('Müller^Zoë')).toBe('MULLER^ZOE');
    expect(personNameSearchForm('Strauß')).toBe('STRAUSS');
  });
  it('keeps Japanese voicing marks', () => {
    expect(personNameSearchForm('ガ')).toBe('ガ');
  });
});

describe('index URL', () => {
  it('chooses the database from the URL', () => {
    expect(parseIndexUrl('postgres://u@h/db')).toEqual({ dialect: 'postgres', connectionString: 'postgres://u@h/db' });
    expect(parseIndexUrl('sqlite:///var/lib/loire/index.db')).toEqual({ dialect: 'sqlite', path: '/var/lib/loire/index.db' });
    expect(parseIndexUrl('data/index.db')).toEqual({ dialect: 'sqlite', path: 'data/index.db' });
    expect(() => parseIndexUrl('mysql://h/db')).toThrow(/unsupported scheme/);
  });
});
