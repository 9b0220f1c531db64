// PS3.4 annex A: Verification service class (C-ECHO).
import type { ServiceAssociation } from './service-association.js';
import type { Association } from '../association.js';
import { VerificationSOPClass } from '@loire/dicom';
import type { Command } from '../dimse/command.js';
import { cEchoRq } from '../dimse/messages.js';
import { Status } from '../dimse/status.js';
import { requireContext, respond } from './common.js';

export interface EchoContext {
  readonly association: ServiceAssociation;
  readonly command: Command;
}
/** Returns the C-ECHO status (default: success). */
export type EchoHandler = (ctx: EchoContext) => number | Promise<number>;

export async function handleEcho(association: ServiceAssociation, contextId: number, rq: Command, handler?: EchoHandler): Promise<void> {
  let status: number = Status.Success;
  try {
    if (handler) status = await handler({ association, command: rq });
  } catch {
    status = Status.UnableToProcess;
  }
  await respond(association, contextId, rq, { status });
}

/** C-ECHO SCU: resolves with the peer's status. */
export async function echo(association: Association): Promise<number> {
  const pc = requireContext(association, VerificationSOPClass, [], 'C-ECHO');
  let status = -1;
  await association.request(pc.id, cEchoRq(), undefined, (rsp) => {
    status = rsp.status ?? -1;
    return true;
  });
  return status;
}
