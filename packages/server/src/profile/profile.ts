// A user's profile for the reading console, kept per account in the index database (migration
// 0004-user-profiles) so that it follows the user to any station and any Loire node: layout,
// hanging protocols, window/level presets, toolbar, mouse bindings, keyboard shortcuts, study-list
// columns and saved study-list filters. The document is parsed here (zod, strict: unknown keys are
// refused) with bounds on every size, so that what is stored is always what the console expects.
// The hanging-protocol shape mirrors packages/console/src/hanging-protocols.ts.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { IndexDatabase } from '../index/schema.js';

/** The format of the document; a later format is converted from this one when read. */
export const PROFILE_VERSION = 1;
/** The largest document accepted (bytes of JSON): generous for dozens of protocols and filters. */
export const MAX_PROFILE_BYTES = 64 * 1024;

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1 to 64 letters, digits, ".", "_" or "-" (not first)');
const label = z.string().trim().min(1, 'must not be empty').max(100);
/** A key as KeyboardEvent.key names it, optionally with modifiers: "1", "l", "Shift+ArrowUp", "Ctrl+s". */
const key = z.string().regex(/^((Ctrl|Alt|Shift|Meta)\+){0,3}[^\s+]{1,20}$|^((Ctrl|Alt|Shift|Meta)\+){0,3}\+$/, 'must be a key name such as "1", "l", "Shift+ArrowUp"');
/** A regular expression the console matches case-insensitively; checked here so that a bad one is refused at once. */
const pattern = z.string().min(1).max(200).refine((source) => {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}, 'is not a valid regular expression');
const codeString = z.string().regex(/^[A-Z0-9 _]{1,16}$/, 'must be a DICOM code string (capitals, digits, space, "_"; at most 16)');
const codeStrings = z.array(codeString).min(1).max(20);

/** Rows x columns, each 1 to 4: "1x1", "1x2", "2x2", "2x4". */
export const layout = z.string().regex(/^[1-4]x[1-4]$/, 'must be rows x columns, each 1 to 4, e.g. "2x2"');

const seriesMatch = z.object({
  modality: codeStrings.optional(),
  description: pattern.optional(),
  bodyPart: codeStrings.optional(),
  orientation: z.enum(['axial', 'sagittal', 'coronal']).optional(),
  viewPosition: codeStrings.optional(),
  laterality: z.enum(['L', 'R']).optional(),
}).strict();

const viewportRule = z.object({
  /** 0 the study being read, 1 its newest prior, 2 the one before… */
  prior: z.number().int().min(0).max(9).optional(),
  series: seriesMatch.optional(),
  /** Show the series of this study most like the one in viewport N (same modality, orientation). */
  like: z.number().int().min(0).max(15).optional(),
  windowPreset: id.optional(),
}).strict();

const studyMatch = z.object({
  modality: codeStrings.optional(),
  bodyPart: codeStrings.optional(),
  studyDescription: pattern.optional(),
  minPriors: z.number().int().min(0).max(9).optional(),
}).strict();

export const hangingProtocol = z.object({
  id,
  name: label,
  priority: z.number().int().min(-1000).max(1000).optional(),
  match: studyMatch,
  layout,
  viewports: z.array(viewportRule).min(1).max(16),
  windowPreset: id.optional(),
}).strict().superRefine((protocol, ctx) => {
  const [rows, columns] = protocol.layout.split('x').map(Number) as [number, number];
  if (protocol.viewports.length > rows * columns) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['viewports'], message: `has ${protocol.viewports.length} viewports, more than the ${rows * columns} cells of layout ${protocol.layout}` });
  }
  protocol.viewports.forEach((viewport, index) => {
    if (viewport.like !== undefined && viewport.like >= index) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['viewports', index, 'like'], message: 'must name an earlier viewport' });
    }
  });
});

const windowPreset = z.object({
  id,
  label,
  width: z.number().min(1).max(100_000),
  center: z.number().min(-100_000).max(100_000),
  key: key.optional(),
}).strict();

const dateField = z.string().regex(/^(\d{4}-\d{2}-\d{2})?$/, 'must be YYYY-MM-DD or empty');
const queryText = z.string().max(64);

/** The study-list query fields a saved filter keeps (the console's StudyQuery without paging). */
const savedQuery = z.object({
  patientName: queryText.optional(),
  patientId: queryText.optional(),
  accessionNumber: queryText.optional(),
  referringPhysician: queryText.optional(),
  dateFrom: dateField.optional(),
  dateTo: dateField.optional(),
  modality: z.union([codeString, z.literal('')]).optional(),
}).strict();

const savedFilter = z.object({ name: label, query: savedQuery }).strict();

const mouseButton = z.enum(['primary', 'middle', 'secondary', 'wheel', 'shift-primary', 'ctrl-primary']);

function unique<T>(items: readonly T[], of: (item: T) => string, ctx: z.RefinementCtx, what: string): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const name = of(item);
    if (seen.has(name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [index], message: `${what} "${name}" appears twice` });
    seen.add(name);
  });
}

export const profileDocument = z.object({
  version: z.literal(PROFILE_VERSION, { errorMap: () => ({ message: `must be ${PROFILE_VERSION}` }) }),
  layout: layout.optional(),
  hangingProtocols: z.array(hangingProtocol).max(50).superRefine((items, ctx) => unique(items, (p) => p.id, ctx, 'protocol id')).optional(),
  windowPresets: z.array(windowPreset).max(50).superRefine((items, ctx) => unique(items, (p) => p.id, ctx, 'preset id')).optional(),
  toolbar: z.array(id).max(50).superRefine((items, ctx) => unique(items, (t) => t, ctx, 'tool')).optional(),
  mouseBindings: z.record(mouseButton, id).optional(),
  shortcuts: z.record(id, key).refine((s) => Object.keys(s).length <= 200, 'has more than 200 shortcuts').optional(),
  studyListColumns: z.array(id).max(30).superRefine((items, ctx) => unique(items, (c) => c, ctx, 'column')).optional(),
  savedFilters: z.array(savedFilter).max(100).superRefine((items, ctx) => unique(items, (f) => f.name, ctx, 'filter name')).optional(),
}).strict();

export type ProfileDocument = z.infer<typeof profileDocument>;
export type HangingProtocolDocument = z.infer<typeof hangingProtocol>;

/** The profile of an account that has saved nothing: the console uses its own defaults for every missing field. */
export const DEFAULT_PROFILE: ProfileDocument = { version: PROFILE_VERSION };

/** A refused document: `fields` names each offending field by its path ("savedFilters.0.name"). */
export class ProfileError extends Error {
  constructor(message: string, readonly fields: string[]) {
    super(message);
  }
}

function issueText(issue: z.ZodIssue): string {
  const at = issue.path.join('.') || 'profile';
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    return issue.keys.map((k) => `${issue.path.length ? `${at}.` : ''}${k}: unknown field`).join('; ');
  }
  return `${at}: ${issue.message}`;
}

/** Parses a document from a request; throws ProfileError with every problem found. */
export function parseProfile(input: unknown): ProfileDocument {
  const parsed = profileDocument.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 20);
  const fields = issues.flatMap((i) => i.code === z.ZodIssueCode.unrecognized_keys
    ? i.keys.map((k) => [...i.path, k].join('.'))
    : [i.path.join('.') || 'profile']);
  throw new ProfileError(`the profile is not valid: ${issues.map(issueText).join('; ')}`, fields);
}

type ProfileTables = {
  account: { pk: number; username: string };
  user_profile: { account_fk: number; version: number; revision: number; document: string; updated_at: string };
};

export interface StoredProfile {
  profile: ProfileDocument;
  /** When it was last saved (ISO 8601); absent for the defaults. */
  updatedAt?: string;
  /**
   * Names this state of the profile (an HTTP entity tag, quotes included): a client sends it back
   * in If-Match so that its change does not overwrite one made meanwhile at another station.
   */
  etag: string;
}

/** The entity tag of the defaults: an account that saved nothing, or reset its profile. */
export const DEFAULTS_ETAG = '"0"';

/** The save counter and the time: a profile reset and saved again never gets back an old tag. */
function etagOf(revision: number, updatedAt: string): string {
  return `"${revision}-${Date.parse(updatedAt)}"`;
}

/** What `put` answers: the stored profile, or why nothing was stored. */
export type PutResult = StoredProfile | 'no-account' | 'changed-meanwhile';

/** Profiles in the index database, by username. */
export class ProfileStore {
  private readonly db: Kysely<ProfileTables>;

  constructor(db: Kysely<IndexDatabase>, private readonly now: () => Date = () => new Date()) {
    this.db = db.withTables<ProfileTables>() as unknown as Kysely<ProfileTables>;
  }

  private async accountPk(username: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('account').select('pk').where('username', '=', username).executeTakeFirst();
    return row?.pk;
  }

  /** The account's profile, the defaults when it saved none; undefined when there is no such account. */
  async get(username: string): Promise<StoredProfile | undefined> {
    const pk = await this.accountPk(username);
    if (pk === undefined) return undefined;
    const row = await this.db.selectFrom('user_profile').select(['document', 'revision', 'updated_at']).where('account_fk', '=', pk).executeTakeFirst();
    if (!row) return { profile: DEFAULT_PROFILE, etag: DEFAULTS_ETAG };
    // Stored documents were parsed when written; parsing again keeps a hand-edited row from reaching the console unchecked.
    return { profile: parseProfile(JSON.parse(row.document)), updatedAt: row.updated_at, etag: etagOf(row.revision, row.updated_at) };
  }

  /**
   * Replaces the account's profile. With `ifMatch` (an entity tag from `get`), only when the
   * profile is still in that state, checked and written in one statement: of two stations saving
   * from the same state, one wins and the other is told.
   */
  async put(username: string, profile: ProfileDocument, ifMatch?: string): Promise<PutResult> {
    const pk = await this.accountPk(username);
    if (pk === undefined) return 'no-account';
    const updatedAt = this.now().toISOString();
    const document = JSON.stringify(profile);
    const values = { version: profile.version, document, updated_at: updatedAt };
    let row: { revision: number; updated_at: string } | undefined;
    if (ifMatch === undefined) {
      row = await this.db.insertInto('user_profile')
        .values({ account_fk: pk, revision: 1, ...values })
        .onConflict((oc) => oc.column('account_fk').doUpdateSet((eb) => ({ ...values, revision: eb('user_profile.revision', '+', 1) })))
        .returning(['revision', 'updated_at'])
        .executeTakeFirst();
    } else if (ifMatch === DEFAULTS_ETAG) {
      row = await this.db.insertInto('user_profile')
        .values({ account_fk: pk, revision: 1, ...values })
        .onConflict((oc) => oc.column('account_fk').doNothing())
        .returning(['revision', 'updated_at'])
        .executeTakeFirst();
    } else {
      const expected = /^"(\d{1,15})-(\d{1,15})"$/.exec(ifMatch);
      if (!expected) return 'changed-meanwhile';
      const current = await this.db.selectFrom('user_profile').select(['revision', 'updated_at']).where('account_fk', '=', pk).executeTakeFirst();
      if (!current || etagOf(current.revision, current.updated_at) !== ifMatch) return 'changed-meanwhile';
      // The WHERE repeats the check: a save between the read above and this update makes it change nothing.
      row = await this.db.updateTable('user_profile')
        .set((eb) => ({ ...values, revision: eb('revision', '+', 1) }))
        .where('account_fk', '=', pk).where('revision', '=', current.revision).where('updated_at', '=', current.updated_at)
        .returning(['revision', 'updated_at'])
        .executeTakeFirst();
    }
    if (!row) return 'changed-meanwhile';
    return { profile, updatedAt: row.updated_at, etag: etagOf(Number(row.revision), row.updated_at) };
  }

  /** Forgets the account's profile (back to the defaults); true when there was one. */
  async delete(username: string): Promise<boolean> {
    const pk = await this.accountPk(username);
    if (pk === undefined) return false;
    const result = await this.db.deleteFrom('user_profile').where('account_fk', '=', pk).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
