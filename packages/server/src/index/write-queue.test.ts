import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openIndexDatabase, type IndexConnection } from './database.js';
import { withoutBulkData } from './dicom-json.js';
import { decodeMetadata } from './metadata-codec.js';
import type { DicomJson } from './dicom-json.js';
import { indexPrepared, type IndexRequest, type IndexResult, type PreparedRequest } from './store.js';
import { request, type Spec } from './test-fixtures.js';
import { IndexClosedError, IndexWriteQueue, type IndexWriteQueueOptions, type StoredMetadataReader, type StoredObjectHasher } from './write-queue.js';

let dir: string;
let journalDir: string;
let connection: IndexConnection;
const queues: IndexWriteQueue[] = [];

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'loire-write-queue-'));
  journalDir = path.join(dir, 'journal');
  connection = await openIndexDatabase(path.join(dir, 'index.sqlite'));
});

afterEach(async () => {
  for (const queue of queues.splice(0)) await queue.close();
  await connection.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A queue over the real SQLite index; `commits` counts its transactions. */
function queueOver(options: Partial<IndexWriteQueueOptions> = {}) {
  const stats = { commits: 0, sizes: [] as number[] };
  const queue = new IndexWriteQueue({
    commit: async (prepared: readonly PreparedRequest[]) => {
      stats.commits++;
      stats.sizes.push(prepared.length);
      return indexPrepared(connection.runner, prepared);
    },
    probe: async () => { await connection.db.selectFrom('study').select('pk').limit(1).execute(); },
    journalDir,
    ...options,
  });
  queues.push(queue);
  return { queue, stats };
}

async function instanceCount(): Promise<number> {
  const row = await connection.db.selectFrom('instance').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

const spec = (i: number): Spec => ({ patientId: 'P', study: '1.2', series: '1.2.3', sop: `1.2.3.${i}` });

/** The objects "in storage" by key, as the journal's replay reads them back. */
let objects: Map<string, DicomJson>;
const readStored: StoredMetadataReader = async ({ key }) => objects.get(key);
/** The SHA-256 the replay computes for an object journalled unhashed; `hashed` lists the keys it read. */
const digestOfKey = (key: string) => Buffer.from(key).toString('hex').padEnd(64, '0').slice(0, 64);
let hashed: string[];
const hashStored: StoredObjectHasher = async ({ key }) => {
  hashed.push(key);
  return objects.has(key) ? digestOfKey(key) : undefined;
};
beforeEach(() => { hashed = []; });
beforeEach(() => { objects = new Map(); });

/** A request whose object is in storage. */
function stored(s: Spec, key?: string) {
  const made = request(s, 'keep-first', key);
  objects.set(made.storage.key, made.json);
  return made;
}

/** A commit whose first call waits until release(): lines can arrive while a batch commits. */
function firstCommitHeld() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  let calls = 0;
  const commit = async (prepared: readonly PreparedRequest[]) => {
    if (calls++ === 0) await gate;
    return indexPrepared(connection.runner, prepared);
  };
  return { commit, release };
}

function journalLines(): string[] {
  return readdirSync(journalDir).flatMap((name) => readFileSync(path.join(journalDir, name), 'utf8').split('\n').filter(Boolean));
}

describe('IndexWriteQueue', () => {
  it('commits instances that arrive together in one transaction (group commit)', async () => {
    const { queue, stats } = queueOver();
    await queue.replayJournal(readStored, hashStored);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => queue.enqueue(request(spec(i), 'keep-first')).indexed));
    expect(results.every((r) => r.outcome === 'stored')).toBe(true);
    expect(stats.commits).toBe(1);
    expect(await instanceCount()).toBe(40);
  });

  it('journals before answering, and empties the journal once committed', async () => {
    const { queue } = queueOver({ batchDelayMs: 60_000, journaledDelayMs: 60_000 });
    await queue.replayJournal(readStored, hashStored);
    queue.enqueue(request(spec(1), 'keep-first'), { journal: true });
    queue.enqueue(request(spec(2), 'keep-first'), { journal: true });
    expect(journalLines()).toHaveLength(2);
    expect(await instanceCount()).toBe(0);
    await queue.settled();
    expect(await instanceCount()).toBe(2);
    expect(journalLines()).toHaveLength(0);
  });

  it('indexes at the next start what a killed process had journalled but not committed, reading each object back', async () => {
    const crashed = queueOver({ batchDelayMs: 60_000, journaledDelayMs: 60_000 }).queue;
    await crashed.replayJournal(readStored, hashStored);
    for (let i = 0; i < 5; i++) crashed.enqueue(stored(spec(i)), { journal: true });
    // A line names the object; its metadata is read back from storage.
    expect(journalLines().map((l) => Object.keys(JSON.parse(l) as object))).toEqual(Array(5).fill(['storage', 'receivedFrom', 'duplicatePolicy']));
    // The process dies here: nothing committed, the journal holds the five (and a torn sixth line).
    appendFileSync(readdirSync(journalDir).map((n) => path.join(journalDir, n))[0]!, '{"storage":{"key":"k/1.2');
    queues.splice(0);

    const { queue } = queueOver();
    const replayed = await queue.replayJournal(readStored, hashStored);
    expect(replayed.map((r) => r.result.outcome)).toEqual(['stored', 'stored', 'stored', 'stored', 'stored']);
    expect(replayed.map((r) => r.request.storage.key)).toEqual(['k/1.2.3.0', 'k/1.2.3.1', 'k/1.2.3.2', 'k/1.2.3.3', 'k/1.2.3.4']);
    expect(await instanceCount()).toBe(5);
    const row = await connection.db.selectFrom('instance').select('metadata').where('sop_instance_uid', '=', '1.2.3.3').executeTakeFirstOrThrow();
    expect(decodeMetadata(row.metadata as Uint8Array)).toEqual(withoutBulkData(objects.get('k/1.2.3.3')!));
    expect(journalLines()).toHaveLength(0);
  });

  it('skips at replay a line whose object is gone or that names none, and still takes the lines of earlier versions that held the metadata', async () => {
    const line = ({ json: _json, ...rest }: IndexRequest) => rest;
    const gone = request(spec(1), 'keep-first'); // never in storage
    const earlier = request(spec(3), 'keep-first'); // metadata in its line, object not read
    const present = stored(spec(2));
    mkdirSync(journalDir, { recursive: true });
    writeFileSync(path.join(journalDir, '0000000001.ndjson'), [line(gone), earlier, { storage: {} }, line(present)].map((l) => JSON.stringify(l)).join('\n') + '\n');

    const { queue } = queueOver();
    const replayed = await queue.replayJournal(readStored, hashStored);
    expect(replayed.map((r) => [r.sopInstanceUid, r.result.outcome])).toEqual([['1.2.3.3', 'stored'], ['1.2.3.2', 'stored']]);
    expect(await instanceCount()).toBe(2);
    expect(journalLines()).toHaveLength(0);
  });

  it('hashes an object when its entry is prepared, and at the replay where its line has no SHA-256', async () => {
    const storedSha = async (sop: string) => (await connection.db.selectFrom('instance').select('sha256').where('sop_instance_uid', '=', sop).executeTakeFirstOrThrow()).sha256;
    const crashed = queueOver({ batchDelayMs: 60_000, journaledDelayMs: 60_000 }).queue;
    await crashed.replayJournal(readStored, hashStored);
    const unhashed = stored(spec(1));
    crashed.enqueue({ ...unhashed, storage: { ...unhashed.storage, sha256: () => 'cd'.repeat(32) } }, { journal: true });
    // The line is written before the hash exists: it names the object without one.
    expect(JSON.parse(journalLines()[0]!).storage).toEqual({ key: 'k/1.2.3.1', size: 1234, transferSyntaxUid: '1.2.840.10008.1.2.1' });
    queues.splice(0); // killed before the commit

    const { queue } = queueOver();
    expect((await queue.replayJournal(readStored, hashStored)).map((r) => r.result.outcome)).toEqual(['stored']);
    expect(hashed).toEqual(['k/1.2.3.1']);
    expect(await storedSha('1.2.3.1')).toBe(digestOfKey('k/1.2.3.1'));

    // Without a crash, the function is called once, when the entry is prepared.
    const next = stored(spec(2));
    let calls = 0;
    await queue.enqueue({ ...next, storage: { ...next.storage, sha256: () => { calls++; return 'ef'.repeat(32); } } }, { journal: true }).indexed;
    expect(calls).toBe(1);
    expect(await storedSha('1.2.3.2')).toBe('ef'.repeat(32));
    // A line with its SHA-256 is not hashed again.
    expect(hashed).toEqual(['k/1.2.3.1']);
  });

  it('keeps the journal and stops when storage cannot be read at replay', async () => {
    const crashed = queueOver({ journaledDelayMs: 60_000 }).queue;
    await crashed.replayJournal(readStored, hashStored);
    crashed.enqueue(stored(spec(1)), { journal: true });
    queues.splice(0);

    const { queue } = queueOver();
    await expect(queue.replayJournal(async () => { throw new Error('EIO: storage unreachable'); }, hashStored)).rejects.toThrow(/storage unreachable/);
    expect(journalLines()).toHaveLength(1);
    queues.splice(0);
    expect((await queueOver().queue.replayJournal(readStored, hashStored)).map((r) => r.result.outcome)).toEqual(['stored']);
  });

  it('replays a line already committed as a no-op, so that the copy in storage is never taken for a duplicate', async () => {
    const { queue: first } = queueOver();
    await first.replayJournal(readStored, hashStored);
    const committed = request(spec(7), 'keep-first');
    await first.enqueue(committed).indexed;
    await first.close();
    queues.splice(0);
    // A crash after the commit and before the journal was emptied leaves the line behind.
    writeFileSync(path.join(journalDir, '0000000009.ndjson'), `${JSON.stringify(committed)}\n`);

    const { queue } = queueOver();
    const [replayed] = await queue.replayJournal(readStored, hashStored);
    expect(replayed?.result).toEqual<IndexResult>({ outcome: 'stored', warnings: [] });
    expect(await instanceCount()).toBe(1);
    // A new object with the same SOP Instance UID is still a duplicate.
    expect((await queue.enqueue(request(spec(7), 'keep-first', 'k/other')).indexed).outcome).toBe('duplicate-ignored');
  });

  it('keeps the lines that arrive during a commit until a later commit covers them', async () => {
    const { commit, release } = firstCommitHeld();
    const { queue } = queueOver({ batchDelayMs: 0, journaledDelayMs: 0, commit });
    await queue.replayJournal(readStored, hashStored);
    const first = queue.enqueue(request(spec(1), 'keep-first'), { journal: true }).indexed;
    await sleep(20); // the first batch is now waiting inside its commit
    queue.enqueue(request(spec(2), 'keep-first'), { journal: true });
    release();
    await first;
    // The segment holds both lines, and the second is not committed yet: it is kept.
    expect(journalLines().map((l) => (JSON.parse(l) as { storage: { key: string } }).storage.key)).toContain('k/1.2.3.2');
    await queue.settled();
    expect(journalLines()).toHaveLength(0);
    expect(readdirSync(journalDir)).toHaveLength(1);
    expect(await instanceCount()).toBe(2);
  });

  it('lets journalled instances gather until a caller waits for a commit or the batch is full', async () => {
    const { queue, stats } = queueOver({ batchDelayMs: 0, journaledDelayMs: 60_000, batchSize: 6 });
    await queue.replayJournal(readStored, hashStored);
    for (let i = 0; i < 3; i++) queue.enqueue(request(spec(i), 'keep-first'), { journal: true });
    await sleep(20);
    expect(stats.commits).toBe(0);
    // An instance whose caller waits for its commit brings the transaction forward, for all of them.
    await queue.enqueue(request(spec(3), 'keep-first')).indexed;
    expect(stats.sizes).toEqual([4]);
    // A full batch does not wait either.
    const full = Array.from({ length: 6 }, (_, i) => queue.enqueue(request(spec(10 + i), 'keep-first'), { journal: true }).indexed);
    await Promise.all(full);
    expect(stats.sizes).toEqual([4, 6]);
    expect(await instanceCount()).toBe(10);
  });

  it('closes full journal segments and deletes each once its last line is committed', async () => {
    const { commit, release } = firstCommitHeld();
    const { queue } = queueOver({ journaledDelayMs: 60_000, segmentLines: 2, commit });
    await queue.replayJournal(readStored, hashStored);
    for (let i = 1; i <= 3; i++) queue.enqueue(request(spec(i), 'keep-first'), { journal: true });
    const firstCommit = queue.settled();
    await sleep(20); // the batch of 1-3 is waiting inside its commit
    for (let i = 4; i <= 5; i++) queue.enqueue(request(spec(i), 'keep-first'), { journal: true });
    expect(readdirSync(journalDir)).toHaveLength(3); // [1, 2] [3, 4] [5]
    release();
    await firstCommit;
    // [1, 2] is all committed and gone; [3, 4] and [5] hold lines not committed yet.
    expect(readdirSync(journalDir)).toHaveLength(2);
    expect(journalLines().map((l) => (JSON.parse(l) as { storage: { key: string } }).storage.key))
      .toEqual(['k/1.2.3.3', 'k/1.2.3.4', 'k/1.2.3.5']);
    await queue.settled();
    expect(readdirSync(journalDir)).toHaveLength(1);
    expect(journalLines()).toHaveLength(0);
    expect(await instanceCount()).toBe(5);
  });

  it('keeps instances queued while the database is down, and commits them once it answers', async () => {
    let down = true;
    const { queue } = queueOver({
      batchDelayMs: 0,
      commit: async (prepared) => {
        if (down) throw new Error('connection refused');
        return indexPrepared(connection.runner, prepared);
      },
      probe: async () => { if (down) throw new Error('connection refused'); },
    });
    await queue.replayJournal(readStored, hashStored);
    const indexed = queue.enqueue(request(spec(1), 'keep-first'), { journal: true }).indexed;
    await sleep(150);
    expect(queue.pending).toBe(1);
    expect(journalLines()).toHaveLength(1);
    down = false;
    expect((await indexed).outcome).toBe('stored');
    expect(journalLines()).toHaveLength(0);
  });

  it('keeps instances queued while the database is full, though it still answers queries, and commits them once there is room', async () => {
    const { queue } = queueOver({ batchDelayMs: 0 });
    await queue.replayJournal(readStored, hashStored);
    await Promise.all(Array.from({ length: 20 }, (_, i) => queue.enqueue(request(spec(i), 'keep-first')).indexed));
    // The database file may not grow past its size now: SQLite fails writes with SQLITE_FULL,
    // as on a full disk, while reads (and the queue's probe) still work.
    const { rows } = await sql<{ page_count: number }>`PRAGMA page_count`.execute(connection.db);
    await sql.raw(`PRAGMA max_page_count = ${rows[0]!.page_count}`).execute(connection.db);
    const acknowledged = Array.from({ length: 200 }, (_, i) => queue.enqueue(stored(spec(100 + i)), { journal: true }).indexed);
    await sleep(400);
    expect(queue.pending).toBeGreaterThan(0);
    expect(journalLines().length).toBeGreaterThan(0);
    expect(await instanceCount()).toBeLessThan(220);
    await sql.raw('PRAGMA max_page_count = 1073741823').execute(connection.db);
    const outcomes = await Promise.allSettled(acknowledged);
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(await instanceCount()).toBe(220);
    expect(journalLines()).toHaveLength(0);
  });

  it('closes with the database still down: the journalled instance is rejected as left to the journal, which the next start indexes', async () => {
    const down = async (): Promise<never> => { throw new Error('connection refused'); };
    const { queue } = queueOver({ batchDelayMs: 0, commit: down, probe: down, closeTimeoutMs: 200 });
    await queue.replayJournal(readStored, hashStored);
    const indexed = queue.enqueue(stored(spec(1)), { journal: true }).indexed;
    await queue.close();
    await expect(indexed).rejects.toBeInstanceOf(IndexClosedError);
    expect(journalLines()).toHaveLength(1);
    queues.splice(0);

    const replayed = await queueOver().queue.replayJournal(readStored, hashStored);
    expect(replayed.map((r) => r.result.outcome)).toEqual(['stored']);
  });

  it('gives up an instance the database refuses on its own, without holding back the others', async () => {
    const { queue } = queueOver({
      batchDelayMs: 10,
      commit: async (prepared) => {
        if (prepared.some((p) => p.fields.sopInstanceUid === '1.2.3.2')) throw new Error('value too long for column');
        return indexPrepared(connection.runner, prepared);
      },
    });
    await queue.replayJournal(readStored, hashStored);
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => queue.enqueue(request(spec(i), 'keep-first')).indexed));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await instanceCount()).toBe(2);
  });

  it('refuses at once an instance that cannot be indexed', () => {
    const { queue } = queueOver();
    const bad = request(spec(1));
    delete (bad.json as DicomJson)['00080018'];
    expect(() => queue.enqueue(bad)).toThrow(/SOPInstanceUID/);
  });

  it('converts a journalled instance after its caller had a turn to answer, and commits it like the others', async () => {
    const { queue } = queueOver({ batchDelayMs: 10 });
    await queue.replayJournal(readStored, hashStored);
    const made = stored(spec(1));
    let converted = false;
    const { indexed } = queue.enqueue({ ...made, json: () => { converted = true; return made.json as DicomJson; } }, { journal: true });
    expect(converted).toBe(false);
    expect(journalLines()).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(converted).toBe(true);
    expect((await indexed).outcome).toBe('stored');
    expect(await instanceCount()).toBe(1);
  });

  it('answers a journalled instance that turns out unindexable with why, and commits the rest of its batch', async () => {
    const { queue } = queueOver({ journaledDelayMs: 0 });
    await queue.replayJournal(readStored, hashStored);
    const bad = stored(spec(2));
    delete (bad.json as DicomJson)['00080018'];
    const entries = [stored(spec(1)), bad, stored(spec(3))].map((r) => queue.enqueue(r, { journal: true }).indexed);
    const outcomes = await Promise.allSettled(entries);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/SOPInstanceUID/);
    expect(await instanceCount()).toBe(2);
    expect(journalLines()).toHaveLength(0);
  });

  it('makes a full queue ask its callers to wait', async () => {
    const { queue } = queueOver({ maxQueue: 3, batchDelayMs: 50 });
    await queue.replayJournal(readStored, hashStored);
    const rooms = [1, 2, 3, 4].map((i) => queue.enqueue(request(spec(i), 'keep-first')).room);
    expect(rooms.slice(0, 2)).toEqual([undefined, undefined]);
    expect(rooms[3]).toBeInstanceOf(Promise);
    await rooms[3];
    expect(queue.pending).toBe(0);
  });
});
