// C-FIND SCP (Patient Root and Study Root): identifiers in, index matches out.
import type { FindContext, FindHandler } from '@loire/dicom-net';
import { QueryError, type ArchiveIndex } from '../index/index.js';
import type { Logger } from '../logger.js';
import { encodeMatch, IdentifierError, parseIdentifier } from './identifier.js';

const Status = { Cancel: 0xfe00, IdentifierDoesNotMatchSopClass: 0xa900, UnableToProcess: 0xc000 } as const;

export function findHandler(index: ArchiveIndex, aeTitle: string, logger: Logger): FindHandler {
  return async function* find(ctx: FindContext): AsyncGenerator<Uint8Array> {
    let query;
    try {
      query = parseIdentifier(ctx.identifier, ctx.transferSyntaxUid, ctx.sopClassUid);
    } catch (err) {
      const status = err instanceof IdentifierError ? Status.IdentifierDoesNotMatchSopClass : Status.UnableToProcess;
      logger.warn({ from: ctx.association.callingAe, reason: (err as Error).message }, 'C-FIND refused');
      ctx.setFinalStatus(status, (err as Error).message.slice(0, 64));
      return;
    }
    let matches = 0;
    try {
      for await (const match of index.find({ level: query.level, identifier: query.keys, options: { model: query.model } })) {
        if (ctx.signal.aborted) {
          ctx.setFinalStatus(Status.Cancel);
          return;
        }
        matches++;
        yield encodeMatch(match, query.keys, query.level, aeTitle, ctx.transferSyntaxUid);
      }
    } catch (err) {
      logger.warn({ from: ctx.association.callingAe, reason: (err as Error).message }, 'C-FIND failed');
      ctx.setFinalStatus(err instanceof QueryError ? err.dicomStatus : Status.UnableToProcess, (err as Error).message.slice(0, 64));
      return;
    }
    logger.debug({ from: ctx.association.callingAe, level: query.level, matches }, 'C-FIND');
  };
}
