// The index commit worker's thread (see commit-worker.ts): its own connection to the index, one
// request at a time in the order received.
import { parentPort, workerData } from 'node:worker_threads';
import type { CommitWorkerData, CommitWorkerMessage, CommitWorkerRequest } from './commit-worker.js';
import { openIndexDatabase } from './database.js';
import { indexPrepared, prepare, type IndexRequest } from './store.js';

if (!parentPort) throw new Error('commit-worker-thread.js runs as a worker thread of the Loire server');
const port = parentPort;
const { url } = workerData as CommitWorkerData;

const send = (message: CommitWorkerMessage) => port.postMessage(message);
const connection = await openIndexDatabase(url, (error) => {
  send({ kind: 'warning', message: `an idle PostgreSQL connection of the index commit worker was closed by the server (${error.message}); it will be reopened on next use` });
});

let work = Promise.resolve();
port.on('message', (request: CommitWorkerRequest) => {
  work = work.then(() => answer(request));
});

async function answer(request: CommitWorkerRequest): Promise<void> {
  try {
    if (request.kind === 'commit') {
      const prepared = request.requests.map((text) => prepare(JSON.parse(text) as IndexRequest));
      send({ id: request.id, ok: true, results: await indexPrepared(connection.runner, prepared) });
    } else if (request.kind === 'probe') {
      await connection.db.selectFrom('study').select('pk').limit(1).execute();
      send({ id: request.id, ok: true });
    } else {
      await connection.close();
      port.close();
    }
  } catch (err) {
    const error = err as Error & { code?: unknown };
    send({
      id: request.id, ok: false,
      error: { name: error.name ?? 'Error', message: error.message ?? String(err), ...(typeof error.code === 'string' ? { code: error.code } : {}) },
    });
  }
}
