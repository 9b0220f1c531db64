// C-FIND / QIDO-RS matching over the Query/Retrieve information model (PS3.4 C.6): levels
// PATIENT, STUDY, SERIES, IMAGE, Patient Root or Study Root, hierarchical or relational.
import { CompiledQuery, sql, type Kysely, type RawBuilder } from 'kysely';
import {
  ATTRIBUTE_BY_TAG,
  levelRank,
  LEVELS,
  TABLE_OF_LEVEL,
  TAGS,
  UNIQUE_KEY_OF_LEVEL,
  type IndexedAttribute,
  type QueryLevel,
} from './attributes.js';
import { hasNonAscii, personNameFromString, type DicomJson, type DicomJsonElement } from './dicom-json.js';
import { matchPredicate, queryValues } from './matching.js';
import { decodeMetadata } from './metadata-codec.js';
import type { IndexDatabase } from './schema.js';
import type { IndexDialect } from './sql-dialect.js';

export type InformationModel = 'PATIENT_ROOT' | 'STUDY_ROOT';

export interface FindOptions {
  /** Case- and accent-insensitive PN matching ("Müller" finds "MULLER"). */
  fuzzyPersonNames?: boolean;
  limit?: number;
  offset?: number;
  /** Default STUDY_ROOT. */
  model?: InformationModel;
  /** Relational queries (PS3.4 C.4.1.2.2, and DICOMweb) skip the hierarchical unique key checks. Default false. */
  relational?: boolean;
}

export interface FindQuery {
  level: QueryLevel;
  identifier: DicomJson;
  options?: FindOptions;
}

/** A query the index cannot answer; `dicomStatus` is the C-FIND failure status to send. */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(message: string, readonly dicomStatus: number = 0xa900) {
    super(message);
  }
}

export interface QueryContext {
  readonly db: Kysely<IndexDatabase>;
  readonly dialect: IndexDialect;
  /**
   * Called before instance metadata documents are read: makes those of the instances the read
   * covers that are still to make (see metadata-filler.ts). `scope` is a condition on instance
   * `i`, its series `se` and its study `st`.
   */
  readonly beforeMetadataRead?: (scope: RawBuilder<unknown>) => Promise<void>;
}

type Row = Record<string, unknown>;

const PAGE_SIZE = 500;

const PATIENT_COUNT_EXPRESSIONS: Record<string, RawBuilder<unknown>> = {
  number_of_patient_related_studies: sql`(select count(*) from study nps where nps.patient_fk = patient.pk)`,
  number_of_patient_related_series: sql`(select coalesce(sum(npr.number_of_study_related_series), 0)
    from study npr where npr.patient_fk = patient.pk)`,
  number_of_patient_related_instances: sql`(select coalesce(sum(npi.number_of_study_related_instances), 0)
    from study npi where npi.patient_fk = patient.pk)`,
};

/** FROM clause of a level: the level's table joined to its ancestors (each join is many-to-one). */
function fromClause(level: QueryLevel): RawBuilder<unknown> {
  switch (level) {
    case 'PATIENT': return sql`patient`;
    case 'STUDY': return sql`study join patient on patient.pk = study.patient_fk`;
    case 'SERIES': return sql`series join study on study.pk = series.study_fk join patient on patient.pk = study.patient_fk`;
    case 'IMAGE': return sql`instance join series on series.pk = instance.series_fk
      join study on study.pk = series.study_fk join patient on patient.pk = study.patient_fk`;
  }
}

interface Plan {
  readonly level: QueryLevel;
  readonly identifier: DicomJson;
  /** Identifier keys answered from a column at this level. */
  readonly columnKeys: IndexedAttribute[];
  /** Identifier keys answered from the representative instance's metadata. */
  readonly metadataKeys: string[];
  readonly where: RawBuilder<unknown>[];
}

function plan(query: FindQuery, dialect: IndexDialect): Plan {
  const { level, identifier } = query;
  if (!LEVELS.includes(level)) throw new QueryError(`Unknown query/retrieve level "${String(level)}"`);
  const options = query.options ?? {};
  if (!options.relational) checkHierarchicalKeys(level, identifier, options.model ?? 'STUDY_ROOT');
  const context = { dialect, fuzzyPersonNames: options.fuzzyPersonNames ?? false };
  const columnKeys: IndexedAttribute[] = [];
  const metadataKeys: string[] = [];
  const where: RawBuilder<unknown>[] = [];
  for (const [tag, element] of Object.entries(identifier)) {
    if (tag === TAGS.QueryRetrieveLevel || tag === TAGS.SpecificCharacterSet) continue;
    const attribute = ATTRIBUTE_BY_TAG.get(tag);
    if (attribute && levelRank(attribute.level) <= levelRank(level)) {
      columnKeys.push(attribute);
      const predicate = matchPredicate(attribute, element, context);
      if (predicate) where.push(predicate);
    } else {
      // Not indexed at this level: returned from metadata, matching not supported (C.2.2.1.2
      // allows an SCP to treat unsupported optional keys as return keys).
      metadataKeys.push(tag);
    }
  }
  // The unique keys of the level and above are always returned.
  for (const upper of LEVELS.slice(0, levelRank(level) + 1)) {
    const attribute = ATTRIBUTE_BY_TAG.get(UNIQUE_KEY_OF_LEVEL[upper])!;
    if (!columnKeys.includes(attribute)) columnKeys.push(attribute);
  }
  return { level, identifier, columnKeys, metadataKeys, where };
}

/** Hierarchical queries (C.4.1.2.1): every level above the queried one is pinned by a single unique key. */
function checkHierarchicalKeys(level: QueryLevel, identifier: DicomJson, model: InformationModel): void {
  const top: QueryLevel = model === 'PATIENT_ROOT' ? 'PATIENT' : 'STUDY';
  if (levelRank(level) < levelRank(top)) {
    throw new QueryError(`Level ${level} does not exist in the ${model === 'PATIENT_ROOT' ? 'Patient' : 'Study'} Root model`);
  }
  for (const upper of LEVELS.slice(levelRank(top), levelRank(level))) {
    const tag = UNIQUE_KEY_OF_LEVEL[upper];
    const element = identifier[tag];
    const values = element ? queryValues(element) : [];
    if (values.length !== 1 || /[*?]/.test(values[0]!)) {
      const keyword = ATTRIBUTE_BY_TAG.get(tag)!.keyword;
      throw new QueryError(`A hierarchical ${level}-level query needs one ${keyword} (${tag.slice(0, 4)},${tag.slice(4)}) `
        + `value without wildcards for the ${upper} level`);
    }
  }
}

function selectList(p: Plan): RawBuilder<unknown> {
  const table = TABLE_OF_LEVEL[p.level];
  const columns: RawBuilder<unknown>[] = [sql`${sql.ref(`${table}.pk`)} as level_pk`];
  for (const attribute of p.columnKeys) {
    const expression = PATIENT_COUNT_EXPRESSIONS[attribute.column] ?? sql.ref(`${attribute.table}.${attribute.column}`);
    columns.push(sql`${expression} as ${sql.ref(`k_${attribute.column}`)}`);
  }
  return sql.join(columns);
}

function whereClause(p: Plan, extra: RawBuilder<unknown>[] = []): RawBuilder<unknown> {
  const all = [...p.where, ...extra];
  return all.length === 0 ? sql`` : sql`where ${sql.join(all, sql` and `)}`;
}

/** Matches, in index order, as DICOM JSON responses; pages through the database lazily. */
export async function* find(context: QueryContext, query: FindQuery): AsyncGenerator<DicomJson> {
  const p = plan(query, context.dialect);
  const pkRef = sql.ref(`${TABLE_OF_LEVEL[p.level]}.pk`);
  let remaining = query.options?.limit ?? Number.POSITIVE_INFINITY;
  let offset = query.options?.offset ?? 0;
  let after: number | undefined;
  while (remaining > 0) {
    const pageSize = Math.min(PAGE_SIZE, remaining);
    const keyset = after === undefined ? [] : [sql`${pkRef} > ${after}`];
    const rows = (await pageQuery(p, keyset, pageSize, offset).execute(context.db)).rows;
    offset = 0;
    if (rows.length === 0) return;
    const metadata = p.metadataKeys.length > 0 ? await representativeMetadata(context, p.level, rows) : undefined;
    for (const row of rows) yield toResponse(p, row, metadata?.get(Number(row.level_pk)));
    remaining -= rows.length;
    after = Number(rows[rows.length - 1]!.level_pk);
    if (rows.length < pageSize) return;
  }
}

function pageQuery(p: Plan, extra: RawBuilder<unknown>[], pageSize: number, offset: number): RawBuilder<Row> {
  const pkRef = sql.ref(`${TABLE_OF_LEVEL[p.level]}.pk`);
  return sql<Row>`select ${selectList(p)} from ${fromClause(p.level)} ${whereClause(p, extra)}
    order by ${pkRef} limit ${pageSize} offset ${offset}`;
}

/**
 * The database's plan for the first page of a query (SQLite EXPLAIN QUERY PLAN, PostgreSQL
 * EXPLAIN), one line per plan node: for benchmarks and for checking that indexes are used.
 */
export async function explainFind(context: QueryContext, query: FindQuery, db: Kysely<IndexDatabase> = context.db): Promise<string[]> {
  const p = plan(query, context.dialect);
  const compiled = pageQuery(p, [], PAGE_SIZE, 0).compile(db);
  const explain = context.dialect === 'sqlite' ? 'explain query plan ' : 'explain ';
  const result = await db.executeQuery<Record<string, unknown>>(
    CompiledQuery.raw(explain + compiled.sql, [...compiled.parameters]),
  );
  return result.rows.map((r) => String(context.dialect === 'sqlite' ? r.detail : r['QUERY PLAN']));
}

export async function findAll(context: QueryContext, query: FindQuery): Promise<DicomJson[]> {
  const out: DicomJson[] = [];
  for await (const response of find(context, query)) out.push(response);
  return out;
}

export async function count(context: QueryContext, query: FindQuery): Promise<number> {
  const p = plan(query, context.dialect);
  const result = await sql<{ n: number }>`select count(*) as n from ${fromClause(p.level)} ${whereClause(p)}`
    .execute(context.db);
  return Number(result.rows[0]?.n ?? 0);
}

/**
 * Metadata of the first-received instance under each row (the instance itself at IMAGE level),
 * keyed by the row's pk: one query per page, not per row.
 */
async function representativeMetadata(context: QueryContext, level: QueryLevel, rows: Row[]): Promise<Map<number, DicomJson>> {
  const pks = rows.map((r) => Number(r.level_pk));
  const owner = {
    PATIENT: sql`st.patient_fk`,
    STUDY: sql`se.study_fk`,
    SERIES: sql`i.series_fk`,
    IMAGE: sql`i.pk`,
  }[level];
  const representatives = sql`select min(i.pk) from instance i join series se on se.pk = i.series_fk join study st on st.pk = se.study_fk
    where ${owner} in (${sql.join(pks)}) group by ${owner}`;
  // Only the representatives' documents need to be made, not those of every instance under the rows.
  await context.beforeMetadataRead?.(sql`i.pk in (${representatives})`);
  const result = await sql<{ owner: number; metadata: Uint8Array }>`
    select ${owner} as owner, i.metadata from instance i
      join series se on se.pk = i.series_fk join study st on st.pk = se.study_fk
    where i.pk in (${representatives})`.execute(context.db);
  return new Map(result.rows.map((r) => [Number(r.owner), decodeMetadata(r.metadata)]));
}

function toResponse(p: Plan, row: Row, metadata: DicomJson | undefined): DicomJson {
  const out: DicomJson = {};
  let nonAscii = false;
  for (const attribute of p.columnKeys) {
    const element = columnElement(attribute, row[`k_${attribute.column}`]);
    out[attribute.tag] = element;
    nonAscii ||= containsNonAscii(element);
  }
  for (const tag of p.metadataKeys) {
    const element = metadata?.[tag] ?? { vr: p.identifier[tag]?.vr ?? 'UN' };
    out[tag] = element;
    nonAscii ||= containsNonAscii(element);
  }
  out[TAGS.QueryRetrieveLevel] = { vr: 'CS', Value: [p.level] };
  if (nonAscii) out[TAGS.SpecificCharacterSet] = { vr: 'CS', Value: ['ISO_IR 192'] };
  return sortByTag(out);
}

function columnElement(attribute: IndexedAttribute, value: unknown): DicomJsonElement {
  if (value === null || value === undefined || value === '') return { vr: attribute.vr };
  switch (attribute.kind) {
    case 'pn':
      return { vr: 'PN', Value: [personNameFromString(String(value))] };
    case 'integer':
    case 'count':
      return { vr: attribute.vr, Value: [Number(value)] };
    case 'modalities':
    case 'sop-classes':
      return { vr: attribute.vr, Value: String(value).split('\\') };
    default:
      return { vr: attribute.vr, Value: [String(value)] };
  }
}

function containsNonAscii(element: DicomJsonElement): boolean {
  return element.vr !== 'SQ' && element.Value !== undefined && hasNonAscii(JSON.stringify(element.Value));
}

function sortByTag(json: DicomJson): DicomJson {
  const out: DicomJson = {};
  for (const tag of Object.keys(json).sort()) out[tag] = json[tag]!;
  return out;
}
