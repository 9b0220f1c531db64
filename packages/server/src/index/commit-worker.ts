// Index commits in a worker thread. Per small instance, a commit (its metadata document built and
// deflated, its rows written) costs about as much of a core as receiving and storing the object;
// on the thread that receives, every batch delays the next C-STORE. In a thread of its own, with
// its own connection to the same database, it runs beside the receive path on the other core.
//
// The worker gets each request as the text the journal holds, checks it again and runs the same
// transaction as an in-process commit (store.ts): the two paths cannot drift apart. A worker that
// dies fails the calls in flight (the write queue then probes, and retries or gives up as for any
// database error) and is started again on the next call.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { IndexResult, PreparedRequest } from './store.js';
import { waitAtMost } from '../wait.js';

/** What the main thread asks of the worker. */
export type CommitWorkerRequest =
  | { id: number; kind: 'commit'; requests: string[] }
  | { id: number; kind: 'probe' }
  | { id: number; kind: 'close' };

/** What the worker answers: to a request (by id), or a warning of its own. */
export type CommitWorkerMessage =
  | { id: number; ok: true; results?: IndexResult[] }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } }
  | { kind: 'warning'; message: string };

export interface CommitWorkerData {
  /** The index URL, as openIndex() was given it (file-based SQLite or PostgreSQL). */
  url: string;
}

const CLOSE_TIMEOUT_MS = 10_000;

interface Call {
  resolve(message: Extract<CommitWorkerMessage, { ok: true }>): void;
  reject(error: Error): void;
}

export class IndexCommitWorker {
  private worker: Worker | undefined;
  private readonly calls = new Map<number, Call>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly url: string, private readonly logger?: Logger) {}

  /** Indexes prepared requests in one transaction, in the worker; results in request order. */
  async commit(prepared: readonly PreparedRequest[]): Promise<IndexResult[]> {
    const answer = await this.call({ kind: 'commit', requests: prepared.map((p) => p.serialized) });
    return answer.results ?? [];
  }

  /** A trivial query through the worker's own connection. */
  async probe(): Promise<void> {
    await this.call({ kind: 'probe' });
  }

  /** Lets the worker finish what it was given, then stops it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ id: ++this.nextId, kind: 'close' } satisfies CommitWorkerRequest);
    await waitAtMost(exited, CLOSE_TIMEOUT_MS);
    if (this.worker === worker) await worker.terminate();
  }

  private call(request: { kind: 'commit'; requests: string[] } | { kind: 'probe' }): Promise<Extract<CommitWorkerMessage, { ok: true }>> {
    if (this.closed) return Promise.reject(new Error('the index is closed: its commit worker is stopped'));
    const worker = this.worker ?? this.start();
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      worker.postMessage({ id, ...request } satisfies CommitWorkerRequest);
    });
  }

  private start(): Worker {
    const worker = new Worker(workerScript(), { workerData: { url: this.url } satisfies CommitWorkerData });
    this.worker = worker;
    let failure: Error | undefined;
    worker.on('message', (message: CommitWorkerMessage) => {
      if ('kind' in message) {
        this.logger?.warn(message.message);
        return;
      }
      const call = this.calls.get(message.id);
      if (!call) return;
      this.calls.delete(message.id);
      if (message.ok) call.resolve(message);
      else call.reject(Object.assign(new Error(message.error.message), { name: message.error.name, code: message.error.code }));
    });
    worker.on('error', (error) => {
      failure = error;
      this.logger?.error({ err: error }, 'the index commit worker failed; it is started again on the next commit');
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      const reason = failure ?? new Error(`the index commit worker stopped (exit code ${code}) before answering`);
      for (const call of this.calls.values()) call.reject(reason);
      this.calls.clear();
    });
    return worker;
  }
}

/**
 * The worker's script. Worker threads run JavaScript: from the TypeScript sources (the test
 * runner), that is the compiled file of the same name in dist/.
 */
function workerScript(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL(here.replace(/\/src\/index\/commit-worker\.ts$/, '/dist/index/commit-worker-thread.js'));
  return new URL('./commit-worker-thread.js', here);
}
