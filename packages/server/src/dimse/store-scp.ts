// C-STORE SCP: the DIMSE door onto the ingest pipeline.
import type { DatasetSink, StoreContext, StoreHandler } from '@loire/dicom-net';
import type { IngestResult, IngestService } from '../ingest/ingest.js';
import { DicomStatus, IngestError } from '../ingest/errors.js';
import type { Logger } from '../logger.js';

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
        logger.warn({ sopInstanceUid: ctx.sopInstanceUid, from, reason: reason.message }, 'C-STORE interrupted; nothing kept');
        void incoming.abort(reason);
      },
      end: async () => {
        try {
          const result = await incoming.end();
          observer?.stored(ctx, result);
          return { status: DicomStatus.Success };
        } catch (err) {
          const error = err instanceof IngestError ? err : IngestError.outOfResources((err as Error).message, err);
          logger.warn({ sopInstanceUid: ctx.sopInstanceUid, from, status: error.dicomStatus, reason: error.message }, 'C-STORE refused');
          observer?.refused(ctx, error.dicomStatus, error.message);
          return { status: error.dicomStatus, errorComment: error.message.slice(0, 64) };
        }
      },
    };
  };
}
