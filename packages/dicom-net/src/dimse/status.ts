// PS3.7 annex C and PS3.4 service-specific status codes used by the services we implement.

export const Status = {
  Success: 0x0000,
  Pending: 0xff00,
  PendingWarning: 0xff01, // C-FIND: optional keys not supported
  Cancel: 0xfe00,
  // Warnings
  CoercionOfDataElements: 0xb000,
  SubOperationsCompleteWithFailures: 0xb000,
  ElementsDiscarded: 0xb006,
  DataSetDoesNotMatchSopClassWarning: 0xb007,
  // Failures (PS3.7 C.5 / PS3.4)
  RefusedOutOfResources: 0xa700,
  RefusedOutOfResourcesMatches: 0xa701,
  RefusedOutOfResourcesSubOperations: 0xa702,
  RefusedMoveDestinationUnknown: 0xa801,
  DataSetDoesNotMatchSopClass: 0xa900,
  IdentifierDoesNotMatchSopClass: 0xa900,
  CannotUnderstand: 0xc000,
  UnableToProcess: 0xc001,
  SopClassNotSupported: 0x0122,
  NoSuchSopClass: 0x0118,
  NoSuchSopInstance: 0x0112,
  ProcessingFailure: 0x0110,
  DuplicateInvocation: 0x0210,
  UnrecognizedOperation: 0x0211,
  MistypedArgument: 0x0212,
  NoSuchActionType: 0x0123,
  NoSuchEventType: 0x0113,
  NotAuthorized: 0x0124,
  InvalidArgumentValue: 0x0115,
  ResourceLimitation: 0x0213,
} as const;

export type StatusCategory = 'success' | 'pending' | 'cancel' | 'warning' | 'failure';

/** PS3.7 C.1: classify a status code. */
export function statusCategory(status: number): StatusCategory {
  if (status === 0x0000) return 'success';
  if (status === 0xff00 || status === 0xff01) return 'pending';
  if (status === 0xfe00) return 'cancel';
  if (status === 0x0001 || (status & 0xf000) === 0xb000 || status === 0x0107 || status === 0x0116) return 'warning';
  return 'failure';
}

export function isPending(status: number): boolean {
  return statusCategory(status) === 'pending';
}

export function isFinal(status: number): boolean {
  return !isPending(status);
}

/** A DIMSE operation that did not succeed, with the status it maps to. */
export class DimseError extends Error {
  override readonly name: string = 'DimseError';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}
