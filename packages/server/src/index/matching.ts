// PS3.4 C.2.2.2 attribute matching, translated to SQL predicates. Every value reaches the
// database as a bound parameter; column names come only from the fixed attribute table.
import { sql, type RawBuilder } from 'kysely';
import type { IndexedAttribute } from './attributes.js';
import { stringValues, type DicomJsonElement } from './dicom-json.js';
import { personNameSearchForm } from './person-name-search.js';
import type { IndexDialect } from './sql-dialect.js';

export interface MatchContext {
  readonly dialect: IndexDialect;
  readonly fuzzyPersonNames: boolean;
}

type Predicate = RawBuilder<unknown>;

const NEVER: Predicate = sql`1 = 0`;

/** The values of a query key; a backslash inside a string also separates values (C.2.2.2.2). */
export function queryValues(element: DicomJsonElement): string[] {
  return stringValues({ k: element }, 'k').flatMap((v) => v.split('\\')).map((v) => v.trim()).filter((v) => v !== '');
}

/** The predicate for one key, or undefined for universal matching (empty value or lone "*"). */
export function matchPredicate(attribute: IndexedAttribute, element: DicomJsonElement, context: MatchContext): Predicate | undefined {
  const values = queryValues(element);
  if (values.length === 0 || values.includes('*')) return undefined;
  const column = sql.ref(`${attribute.table}.${attribute.column}`);
  switch (attribute.kind) {
    case 'uid':
      return values.length === 1 ? sql`${column} = ${values[0]}` : sql`${column} in (${sql.join(values)})`;
    case 'string':
      return anyOf(values.map((v) => stringPredicate(column, v, context.dialect)));
    case 'pn':
      return anyOf(values.map((v) => personNamePredicate(attribute, v, context)));
    case 'date':
    case 'time':
    case 'datetime':
      return anyOf(values.map((v) => rangePredicate(column, v)));
    case 'integer':
      return anyOf(values.map((v) => (/^[+-]?\d+$/.test(v) ? sql`${column} = ${Number(v)}` : NEVER)));
    case 'modalities':
      // Studies having a series of one of these modalities: served by series(modality, study_fk).
      return sql`study.pk in (select mis.study_fk from series mis where mis.modality in (${sql.join(values)}))`;
    case 'sop-classes':
      return sql`study.pk in (select sis.study_fk from instance sic join series sis on sis.pk = sic.series_fk
        where sic.sop_class_uid in (${sql.join(values)}))`;
    case 'count':
      return undefined;
  }
}

function anyOf(predicates: Predicate[]): Predicate | undefined {
  if (predicates.length === 0) return undefined;
  if (predicates.length === 1) return predicates[0];
  return sql`(${sql.join(predicates, sql` or `)})`;
}

function hasWildcard(value: string): boolean {
  return value.includes('*') || value.includes('?');
}

function stringPredicate(column: Predicate, value: string, dialect: IndexDialect): Predicate {
  return hasWildcard(value) ? wildcardPredicate(column, value, dialect) : sql`${column} = ${value}`;
}

function personNamePredicate(attribute: IndexedAttribute, value: string, context: MatchContext): Predicate {
  const fuzzy = context.fuzzyPersonNames && attribute.searchColumn !== undefined;
  const column = sql.ref(`${attribute.table}.${fuzzy ? attribute.searchColumn : attribute.column}`);
  const pattern = fuzzy ? personNameSearchForm(value) : value;
  const whole = stringPredicate(column, pattern, context.dialect);
  if (pattern.includes('=')) return whole;
  // A query on the alphabetic group alone also matches names stored with ideographic or
  // phonetic groups ("Yamada^Tarou" matches "Yamada^Tarou=山田^太郎=やまだ^たろう").
  return sql`(${whole} or ${wildcardPredicate(column, `${pattern}=*`, context.dialect)})`;
}

/**
 * "*" and "?" as LIKE (PostgreSQL, "C" collation) or GLOB (SQLite, case-sensitive), with the
 * other pattern characters escaped, plus a range on the literal prefix so that a b-tree index
 * serves the common "DOE*" query on both databases.
 */
export function wildcardPredicate(column: Predicate, pattern: string, dialect: IndexDialect): Predicate {
  const firstWildcard = pattern.search(/[*?]/);
  const prefix = firstWildcard < 0 ? pattern : pattern.slice(0, firstWildcard);
  const parts: Predicate[] = [];
  if (prefix) parts.push(sql`${column} >= ${prefix} and ${column} < ${successor(prefix)}`);
  const prefixAlone = /^\*+$/.test(pattern.slice(prefix.length));
  if (!prefixAlone) {
    parts.push(dialect === 'sqlite'
      ? sql`${column} glob ${toGlob(pattern)}`
      : sql`${column} like ${toLike(pattern)} escape '\\'`);
  }
  if (parts.length === 0) return sql`${column} is not null`;
  return sql`(${sql.join(parts, sql` and `)})`;
}

/** DICOM wildcard → SQL LIKE with "\" as escape: literal "%", "_" and "\" are escaped. */
export function toLike(pattern: string): string {
  return pattern.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%').replace(/\?/g, '_');
}

/** DICOM wildcard → SQLite GLOB: "*" and "?" are the same; a literal "[" is written "[[]". */
export function toGlob(pattern: string): string {
  return pattern.replace(/\[/g, '[[]');
}

/** The smallest string greater than every string starting with `prefix` (code point order). */
export function successor(prefix: string): string {
  const chars = Array.from(prefix);
  const last = chars.pop()!.codePointAt(0)!;
  return chars.join('') + String.fromCodePoint(Math.min(last + 1, 0x10ffff));
}

/**
 * Single value or range "a-b", "a-", "-b" (C.2.2.2.5). The upper bound includes every value
 * it prefixes, so "-1300" includes 13:00:59 and "-20201231" the whole day.
 */
function rangePredicate(column: Predicate, value: string): Predicate {
  const dash = value.indexOf('-');
  if (dash < 0) return sql`${column} = ${value}`;
  const lower = value.slice(0, dash).trim();
  const upper = value.slice(dash + 1).trim();
  const parts: Predicate[] = [];
  if (lower) parts.push(sql`${column} >= ${lower}`);
  if (upper) parts.push(sql`${column} < ${successor(upper)}`);
  if (parts.length === 0) return sql`${column} is not null`;
  return sql`(${sql.join(parts, sql` and `)})`;
}
