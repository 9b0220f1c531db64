// Helpers shared by the service classes: picking a presentation context, tracking operations
// that C-CANCEL or the end of the association must stop, and answering without ever throwing.
import type { Association } from '../association.js';
import type { NegotiatedContext } from '../acse/negotiation.js';
import type { Command } from '../dimse/command.js';
import { responseTo, type ResponseFields } from '../dimse/messages.js';
import { DimseError } from '../dimse/status.js';

/**
 * The accepted presentation context for `sopClassUid`, in the first of `preferredTransferSyntaxes`
 * that was accepted (any accepted one when the list is empty).
 */
export function findAcceptedContext(
  association: Association,
  sopClassUid: string,
  preferredTransferSyntaxes: readonly string[] = [],
): NegotiatedContext | undefined {
  const candidates = association.contexts.filter((c) => c.accepted && c.abstractSyntax === sopClassUid);
  if (preferredTransferSyntaxes.length === 0) return candidates[0];
  for (const ts of preferredTransferSyntaxes) {
    const hit = candidates.find((c) => c.transferSyntax === ts);
    if (hit) return hit;
  }
  return undefined;
}

/** Like findAcceptedContext, but throws a message an administrator can act on. */
export function requireContext(association: Association, sopClassUid: string, transferSyntaxes: readonly string[], purpose: string): NegotiatedContext {
  const pc = findAcceptedContext(association, sopClassUid, transferSyntaxes);
  if (pc) return pc;
  const offered = association.contexts.filter((c) => c.abstractSyntax === sopClassUid);
  const detail = offered.length === 0 ? 'it was not proposed'
    : offered.map((c) => (c.accepted ? `accepted in ${c.transferSyntax}` : `rejected (result ${c.result})`)).join(', ');
  throw new DimseError(`${purpose}: no presentation context for SOP class ${sopClassUid}${transferSyntaxes.length ? ` in ${transferSyntaxes.join(' or ')}` : ''} with ${association.calledAe} (${detail})`);
}

const operations = new WeakMap<Association, Map<number, AbortController>>();

/** Registers an incoming operation (cancellable by C-CANCEL, stopped when the association ends). */
export function beginOperation(association: Association, messageId: number): { signal: AbortSignal; done: () => void } {
  let ops = operations.get(association);
  if (!ops) {
    const map = new Map<number, AbortController>();
    operations.set(association, map);
    association.once('closed', () => {
      for (const c of map.values()) c.abort(new DimseError('association closed'));
      map.clear();
    });
    ops = map;
  }
  const controller = new AbortController();
  if (association.isEnded) controller.abort(new DimseError('association closed'));
  ops.set(messageId, controller);
  association.busyLocal++;
  let finished = false;
  return {
    signal: controller.signal,
    done: () => {
      if (finished) return;
      finished = true;
      association.busyLocal--;
      if (ops.get(messageId) === controller) ops.delete(messageId);
    },
  };
}

/** C-CANCEL-RQ: signal the operation it names (unknown IDs are ignored, as PS3.7 allows). */
export function cancelOperation(association: Association, messageId: number): void {
  operations.get(association)?.get(messageId)?.abort(new DimseError('cancelled by the peer (C-CANCEL)', 0xfe00));
}

/** Sends a response; a closed association only means nobody is listening any more. */
export async function respond(association: Association, contextId: number, rq: Command, fields: ResponseFields, dataset?: Uint8Array): Promise<boolean> {
  try {
    await association.sendMessage(contextId, responseTo(rq, { ...fields, withDataset: dataset !== undefined }), dataset);
    return true;
  } catch {
    return false;
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
