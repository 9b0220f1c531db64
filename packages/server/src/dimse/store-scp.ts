// C-STORE SCP: the DIMSE door onto the ingest pipeline.
import type { DatasetSink, StoreContext, StoreHandler } from '@loire/dicom-net';
import type { IngestService } from '../ingest/ingest.js';
import { DicomStatus, IngestError } from '../ingest/errors.js';
import type { Logger } from '../logger.js';

export function storeHandler(ingest: IngestService, logger: Logger): StoreHandler {
  return async (ctx: StoreContext): Promise<DatasetSink> => {
    const from = ctx.association.callingAe;
    const incoming = await ingest.beginDataset({
      transferSyntaxUid: ctx.transferSyntaxUid,
      sopClassUid: ctx.sopClassUid,
      sopInstanceUid: ctx.sopInstanceUid,
      source: { door: 'dimse', from, remoteAddress: ctx.association.remoteAddress },
    });
    return {
      write: (chunk) => incoming.write(chunk),
      abort: (reason) => {
        logger.warn({ sopInstanceUid: ctx.sopInstanceUid, from, reason: reason.message }, 'C-STORE interrupted; nothing kept');
        void incoming.abort(reason);
      },
      end: async () => {
        try {
          await incoming.end();
          return { status: DicomStatus.Success };
        } catch (err) {
          const error = err instanceof IngestError ? err : IngestError.outOfResources((err as Error).message, err);
          logger.warn({ sopInstanceUid: ctx.sopInstanceUid, from, status: error.dicomStatus, reason: error.message }, 'C-STORE refused');
          return { status: error.dicomStatus, errorComment: error.message.slice(0, 64) };
        }
      },
    };
  };
}
