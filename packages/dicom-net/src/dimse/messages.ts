// PS3.7 sections 9.3 and 10.3: the request and response command sets of the DIMSE-C and
// DIMSE-N services, built from their mandatory fields.
import { type Command, CommandField, DATASET_PRESENT, NO_DATASET, Priority } from './command.js';

const datasetType = (present: boolean) => (present ? DATASET_PRESENT : NO_DATASET);

export function cEchoRq(): Command {
  return { commandField: CommandField.CEchoRq, affectedSopClassUid: '1.2.840.10008.1.1', commandDataSetType: NO_DATASET };
}

export interface CStoreRqFields {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly priority?: number;
  readonly moveOriginatorAe?: string;
  readonly moveOriginatorMessageId?: number;
}

export function cStoreRq(f: CStoreRqFields): Command {
  return {
    commandField: CommandField.CStoreRq,
    affectedSopClassUid: f.sopClassUid,
    affectedSopInstanceUid: f.sopInstanceUid,
    priority: f.priority ?? Priority.Medium,
    commandDataSetType: DATASET_PRESENT,
    moveOriginatorAe: f.moveOriginatorAe,
    moveOriginatorMessageId: f.moveOriginatorMessageId,
  };
}

/** C-FIND, C-GET and C-MOVE requests: an identifier always follows. */
export function cQueryRq(field: number, sopClassUid: string, moveDestination?: string, priority: number = Priority.Medium): Command {
  return { commandField: field, affectedSopClassUid: sopClassUid, priority, commandDataSetType: DATASET_PRESENT, moveDestination };
}

export function cCancelRq(messageIdBeingRespondedTo: number): Command {
  return { commandField: CommandField.CCancelRq, messageIdBeingRespondedTo, commandDataSetType: NO_DATASET };
}

export function nActionRq(sopClassUid: string, sopInstanceUid: string, actionTypeId: number, withDataset: boolean): Command {
  return {
    commandField: CommandField.NActionRq, requestedSopClassUid: sopClassUid, requestedSopInstanceUid: sopInstanceUid,
    actionTypeId, commandDataSetType: datasetType(withDataset),
  };
}

export function nEventReportRq(sopClassUid: string, sopInstanceUid: string, eventTypeId: number, withDataset: boolean): Command {
  return {
    commandField: CommandField.NEventReportRq, affectedSopClassUid: sopClassUid, affectedSopInstanceUid: sopInstanceUid,
    eventTypeId, commandDataSetType: datasetType(withDataset),
  };
}

export interface ResponseFields {
  readonly status: number;
  readonly errorComment?: string;
  readonly withDataset?: boolean;
  readonly remaining?: number;
  readonly completed?: number;
  readonly failed?: number;
  readonly warning?: number;
  readonly offendingElement?: number[];
}

/** The response to `rq` (PS3.7: the response echoes the SOP class/instance of its request). */
export function responseTo(rq: Command, f: ResponseFields): Command {
  const field = rq.commandField | 0x8000;
  const cmd: Command = {
    commandField: field,
    messageIdBeingRespondedTo: rq.messageId ?? 0,
    affectedSopClassUid: rq.affectedSopClassUid ?? rq.requestedSopClassUid,
    commandDataSetType: datasetType(!!f.withDataset),
    status: f.status,
  };
  if (rq.affectedSopInstanceUid ?? rq.requestedSopInstanceUid) cmd.affectedSopInstanceUid = rq.affectedSopInstanceUid ?? rq.requestedSopInstanceUid;
  if (field === CommandField.CFindRsp || field === CommandField.CGetRsp || field === CommandField.CMoveRsp) delete cmd.affectedSopInstanceUid;
  if (field === CommandField.NActionRsp) cmd.actionTypeId = rq.actionTypeId;
  if (field === CommandField.NEventReportRsp) cmd.eventTypeId = rq.eventTypeId;
  if (f.errorComment) cmd.errorComment = f.errorComment.slice(0, 64);
  if (f.offendingElement) cmd.offendingElement = f.offendingElement;
  if (f.remaining !== undefined) cmd.remainingSubOperations = f.remaining;
  if (f.completed !== undefined) cmd.completedSubOperations = f.completed;
  if (f.failed !== undefined) cmd.failedSubOperations = f.failed;
  if (f.warning !== undefined) cmd.warningSubOperations = f.warning;
  return cmd;
}
