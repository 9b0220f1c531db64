// @loire/dicom-net: DICOM networking (PS3.8 upper layer, PS3.7 DIMSE, PS3.4 services).
export * from './ul/pdu.js';
export { PduFramer } from './ul/pdu-framer.js';
export { Event as UpperLayerEvent, State as UpperLayerState, UpperLayerStateMachine, type UpperLayerHost } from './ul/state-machine.js';
export * from './acse/negotiation.js';
export * from './transport.js';
export {
  Association, bufferingReceiver, commandName, type AbortSourceName, type AssociationEvents, type AssociationInit,
  type AssociationTimeouts, type DatasetReceiver, type DatasetSource, type RequestDispatcher, type ResponseHandler,
} from './association.js';
export * from './dimse/command.js';
export * from './dimse/messages.js';
export * from './dimse/status.js';
export { encodeUidListElement } from './dimse/dataset-bytes.js';
export { findAcceptedContext } from './services/common.js';
export * from './services/verification.js';
export * from './services/storage.js';
export * from './services/query.js';
export * from './services/retrieve.js';
export * from './services/storage-commitment.js';
export { createDispatcher, type ServiceHandlers } from './services/dispatcher.js';
export { ServiceAssociation } from './services/service-association.js';
export * from './server.js';
export * from './client.js';
