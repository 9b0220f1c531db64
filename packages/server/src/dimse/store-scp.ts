// C-STORE SCP: the DIMSE door onto the ingest pipeline.
import type { DatasetSink, StoreContext, StoreHandler } from '@loire/dicom-net';
import type { IngestResult, IngestService } from '../ingest/ingest.js';
import { DicomStatus, IngestError } from '../ingest/errors.js';
import type { Logger } from '../logger.js';
import { isStorageFull } from '../storage/storage.js';

/** What an administrator reads when objects are refused for want of room. */
const STORAGE_FULL = 'C-STORE refused (Out of Resources), nothing kept: the storage is full; free space or add storage, and senders can send again';

/** Watches what C-STORE stored or refused (the audit trail); never decides the answer. */
export interface StoreObserver {
  stored(ctx: StoreContext, result: IngestResult): void;
  refused(ctx: StoreContext, status: number, reason: string): void;
}

export function storeHandler(ingest: IngestService, logger: Logger, observer?: StoreObserver): StoreHandler {
  return async (ctx: StoreContext): Promise<DatasetSink> => {
    const from = ctx.association.callingAe;
    const incoming = await ingest.beginDataset({
      transferSyntaxUid: ctx.transferSyntaxUid,
      sopClassUid: ctx.sopClassUid,
      sopInstanceUid: ctx.sopInstanceUid,
      source: { door: 'dimse', from, remoteAddress: ctx.association.remoteAddress },
      acknowledgeWhenJournaled: true,
    });
    return {
      write: (chunk) => incoming.write(chunk),
      abort: (reason) => {
        if (isStorageFull(reason)) logger.error({ sopInstanceUid: ctx.sopInstanceUid, from, reason: reason.message }, STORAGE_FULL);
        else logger.warn({ sopInstanceUid: ctx.sopInstanceUid, from, reason: reason.message }, 'C-STORE interrupted; nothing kept');
        void incoming.abort(reason);
      },
      end: async () => {
        try {
          const result = await incoming.end();
          observer?.stored(ctx, result);
          return { status: DicomStatus.Success };
        } catch (err) {
          const error = err instanceof IngestError ? err : IngestError.outOfResources((err as Error).message, err);
          const fields = { sopInstanceUid: ctx.sopInstanceUid, from, status: error.dicomStatus, reason: error.message };
          if (isStorageFull(error)) logger.error(fields, STORAGE_FULL);
          else logger.warn(fields, 'C-STORE refused');
          observer?.refused(ctx, error.dicomStatus, error.message);
          return { status: error.dicomStatus, errorComment: error.message.slice(0, 64) };
        }
      },
    };
  };
}
