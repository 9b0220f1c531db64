// PS3.8 section 9.3: the upper-layer protocol data units and their items.
// Decoders never trust a declared length: every read is checked against the bytes present,
// and P-DATA-TF payloads are returned as views (subarray) onto the received buffer, never copied.

export const PduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PDataTf: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const;
export type PduTypeCode = (typeof PduType)[keyof typeof PduType];

export const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';
export const PDU_HEADER_LENGTH = 6;
/** PDV item header inside a P-DATA-TF: item length (4), context id (1), control header (1). */
export const PDV_HEADER_LENGTH = 6;

/** A malformed or unexpected PDU: the association must be aborted (PS3.8 Evt19). */
export class PduError extends Error {
  override readonly name = 'PduError';
}

/** A-ASSOCIATE-RJ result/source/reason values (PS3.8 table 9-21). */
export const RejectResult = { Permanent: 1, Transient: 2 } as const;
export const RejectSource = { ServiceUser: 1, ServiceProviderAcse: 2, ServiceProviderPresentation: 3 } as const;
export const RejectReason = {
  NoReasonGiven: 1,
  ApplicationContextNotSupported: 2,
  CallingAeNotRecognized: 3,
  CalledAeNotRecognized: 7,
  /** source 2 (ACSE) */
  ProtocolVersionNotSupported: 2,
  /** source 3 (presentation) */
  TemporaryCongestion: 1,
  LocalLimitExceeded: 2,
} as const;

/** A-ABORT source values (PS3.8 table 9-26). */
export const AbortSource = { ServiceUser: 0, ServiceProvider: 2 } as const;
export const AbortReason = {
  NotSpecified: 0,
  UnrecognizedPdu: 1,
  UnexpectedPdu: 2,
  UnrecognizedPduParameter: 4,
  UnexpectedPduParameter: 5,
  InvalidPduParameterValue: 6,
} as const;

/** Presentation context result/reason in A-ASSOCIATE-AC (PS3.8 table 9-18). */
export const PresentationResult = {
  Acceptance: 0,
  UserRejection: 1,
  NoReason: 2,
  AbstractSyntaxNotSupported: 3,
  TransferSyntaxesNotSupported: 4,
} as const;
export type PresentationResultCode = (typeof PresentationResult)[keyof typeof PresentationResult];

export interface ProposedContext {
  readonly id: number;
  readonly abstractSyntax: string;
  readonly transferSyntaxes: readonly string[];
}

export interface AcceptedContextItem {
  readonly id: number;
  readonly result: PresentationResultCode;
  /** Meaningful only when result is Acceptance. */
  readonly transferSyntax: string;
}

export interface RoleSelection {
  readonly sopClassUid: string;
  readonly scu: boolean;
  readonly scp: boolean;
}

export interface SopClassExtended {
  readonly sopClassUid: string;
  readonly info: Uint8Array;
}

export interface SopClassCommonExtended {
  readonly sopClassUid: string;
  readonly serviceClassUid: string;
  readonly relatedGeneralSopClasses: readonly string[];
}

export interface UserIdentityRq {
  /** 1 username, 2 username+passcode, 3 Kerberos, 4 SAML, 5 JWT. */
  readonly type: number;
  readonly positiveResponseRequested: boolean;
  readonly primary: Uint8Array;
  readonly secondary: Uint8Array;
}

export interface UserInformation {
  readonly maxPduLength: number;
  readonly implementationClassUid: string;
  readonly implementationVersionName?: string;
  readonly asyncOps?: { readonly invoked: number; readonly performed: number };
  readonly roles: readonly RoleSelection[];
  readonly extended: readonly SopClassExtended[];
  readonly commonExtended: readonly SopClassCommonExtended[];
  readonly userIdentity?: UserIdentityRq;
  /** A-ASSOCIATE-AC only: the server response to a user identity request. */
  readonly userIdentityResponse?: Uint8Array;
}

export interface AssociateRqPdu {
  readonly type: typeof PduType.AssociateRq;
  readonly protocolVersion: number;
  readonly calledAe: string;
  readonly callingAe: string;
  readonly applicationContext: string;
  readonly contexts: readonly ProposedContext[];
  readonly userInfo: UserInformation;
}

export interface AssociateAcPdu {
  readonly type: typeof PduType.AssociateAc;
  readonly protocolVersion: number;
  readonly calledAe: string;
  readonly callingAe: string;
  readonly applicationContext: string;
  readonly contexts: readonly AcceptedContextItem[];
  readonly userInfo: UserInformation;
}

export interface AssociateRjPdu {
  readonly type: typeof PduType.AssociateRj;
  readonly result: number;
  readonly source: number;
  readonly reason: number;
}

export interface Pdv {
  readonly contextId: number;
  readonly isCommand: boolean;
  readonly isLast: boolean;
  /** A view into the received PDU: valid as long as the caller keeps it, never reused by us. */
  readonly data: Uint8Array;
}

export interface PDataTfPdu {
  readonly type: typeof PduType.PDataTf;
  readonly pdvs: readonly Pdv[];
}

export interface ReleaseRqPdu { readonly type: typeof PduType.ReleaseRq }
export interface ReleaseRpPdu { readonly type: typeof PduType.ReleaseRp }
export interface AbortPdu {
  readonly type: typeof PduType.Abort;
  readonly source: number;
  readonly reason: number;
}

export type Pdu =
  | AssociateRqPdu | AssociateAcPdu | AssociateRjPdu | PDataTfPdu | ReleaseRqPdu | ReleaseRpPdu | AbortPdu;

// ---------------------------------------------------------------------------------------------
// Encoding

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

function aeField(ae: string): Buffer {
  const out = Buffer.alloc(16, 0x20);
  out.write(ae.slice(0, 16), 'latin1');
  return out;
}

function item(type: number, body: Uint8Array): Buffer {
  if (body.length > 0xffff) throw new PduError(`PDU item 0x${type.toString(16)} is too long (${body.length} bytes)`);
  const head = Buffer.alloc(4);
  head[0] = type;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([head, body]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

function lengthPrefixed(s: string | Uint8Array): Buffer {
  const body = typeof s === 'string' ? latin1(s) : Buffer.from(s.buffer, s.byteOffset, s.byteLength);
  return Buffer.concat([u16(body.length), body]);
}

function encodeUserInfo(ui: UserInformation, isAc: boolean): Buffer {
  const subs: Buffer[] = [];
  const max = Buffer.alloc(4);
  max.writeUInt32BE(ui.maxPduLength >>> 0, 0);
  subs.push(item(0x51, max));
  subs.push(item(0x52, latin1(ui.implementationClassUid)));
  if (ui.asyncOps) subs.push(item(0x53, Buffer.concat([u16(ui.asyncOps.invoked), u16(ui.asyncOps.performed)])));
  for (const r of ui.roles) {
    subs.push(item(0x54, Buffer.concat([lengthPrefixed(r.sopClassUid), Buffer.from([r.scu ? 1 : 0, r.scp ? 1 : 0])])));
  }
  if (ui.implementationVersionName) subs.push(item(0x55, latin1(ui.implementationVersionName.slice(0, 16))));
  for (const e of ui.extended) subs.push(item(0x56, Buffer.concat([lengthPrefixed(e.sopClassUid), e.info])));
  if (!isAc) {
    for (const c of ui.commonExtended) {
      const related = Buffer.concat(c.relatedGeneralSopClasses.map((u) => lengthPrefixed(u)));
      subs.push(item(0x57, Buffer.concat([lengthPrefixed(c.sopClassUid), lengthPrefixed(c.serviceClassUid), u16(related.length), related])));
    }
    if (ui.userIdentity) {
      const id = ui.userIdentity;
      subs.push(item(0x58, Buffer.concat([
        Buffer.from([id.type, id.positiveResponseRequested ? 1 : 0]), lengthPrefixed(id.primary), lengthPrefixed(id.secondary),
      ])));
    }
  } else if (ui.userIdentityResponse) {
    subs.push(item(0x59, lengthPrefixed(ui.userIdentityResponse)));
  }
  return item(0x50, Buffer.concat(subs));
}

function pduHeader(type: number, length: number): Buffer {
  const h = Buffer.alloc(PDU_HEADER_LENGTH);
  h[0] = type;
  h.writeUInt32BE(length >>> 0, 2);
  return h;
}

function encodeAssociate(pdu: AssociateRqPdu | AssociateAcPdu): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(pdu.protocolVersion, 0);
  aeField(pdu.calledAe).copy(fixed, 4);
  aeField(pdu.callingAe).copy(fixed, 20);
  const items: Buffer[] = [fixed, item(0x10, latin1(pdu.applicationContext))];
  if (pdu.type === PduType.AssociateRq) {
    for (const pc of pdu.contexts) {
      const subs: Buffer[] = [Buffer.from([pc.id, 0, 0, 0]), item(0x30, latin1(pc.abstractSyntax))];
      for (const ts of pc.transferSyntaxes) subs.push(item(0x40, latin1(ts)));
      items.push(item(0x20, Buffer.concat(subs)));
    }
  } else {
    for (const pc of pdu.contexts) {
      const subs: Buffer[] = [Buffer.from([pc.id, 0, pc.result, 0])];
      // PS3.8 9.3.3.2: the transfer syntax sub-item is present but not significant on rejection.
      subs.push(item(0x40, latin1(pc.result === PresentationResult.Acceptance ? pc.transferSyntax : '')));
      items.push(item(0x21, Buffer.concat(subs)));
    }
  }
  items.push(encodeUserInfo(pdu.userInfo, pdu.type === PduType.AssociateAc));
  const body = Buffer.concat(items);
  return Buffer.concat([pduHeader(pdu.type, body.length), body]);
}

/** Encodes any PDU into one Buffer (one socket write). P-DATA-TF payloads are copied here; the
 * association's hot send path writes PDV headers and payload views separately instead. */
export function encodePdu(pdu: Pdu): Buffer {
  switch (pdu.type) {
    case PduType.AssociateRq:
    case PduType.AssociateAc:
      return encodeAssociate(pdu);
    case PduType.AssociateRj: {
      const b = pduHeader(pdu.type, 4);
      return Buffer.concat([b, Buffer.from([0, pdu.result, pdu.source, pdu.reason])]);
    }
    case PduType.ReleaseRq:
    case PduType.ReleaseRp:
      return Buffer.concat([pduHeader(pdu.type, 4), Buffer.alloc(4)]);
    case PduType.Abort:
      return Buffer.concat([pduHeader(pdu.type, 4), Buffer.from([0, 0, pdu.source, pdu.reason])]);
    case PduType.PDataTf: {
      const parts: Buffer[] = [];
      let len = 0;
      for (const pdv of pdu.pdvs) {
        parts.push(pdvHeader(pdv.contextId, pdv.isCommand, pdv.isLast, pdv.data.length), Buffer.from(pdv.data));
        len += PDV_HEADER_LENGTH + pdv.data.length;
      }
      return Buffer.concat([pduHeader(pdu.type, len), ...parts]);
    }
  }
}

/** Header of a P-DATA-TF PDU with a single PDV of `dataLength` bytes, PDV header included. */
export function pDataHeaderWithPdv(contextId: number, isCommand: boolean, isLast: boolean, dataLength: number): Buffer {
  const b = Buffer.allocUnsafe(PDU_HEADER_LENGTH + PDV_HEADER_LENGTH);
  b[0] = PduType.PDataTf;
  b[1] = 0;
  b.writeUInt32BE(PDV_HEADER_LENGTH + dataLength, 2);
  b.writeUInt32BE(dataLength + 2, 6);
  b[10] = contextId;
  b[11] = (isCommand ? 1 : 0) | (isLast ? 2 : 0);
  return b;
}

function pdvHeader(contextId: number, isCommand: boolean, isLast: boolean, dataLength: number): Buffer {
  const b = Buffer.allocUnsafe(PDV_HEADER_LENGTH);
  b.writeUInt32BE(dataLength + 2, 0);
  b[4] = contextId;
  b[5] = (isCommand ? 1 : 0) | (isLast ? 2 : 0);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Decoding

class Reader {
  constructor(readonly buf: Uint8Array, public pos: number, readonly end: number) {}
  need(n: number, what: string): void {
    if (this.pos + n > this.end) throw new PduError(`truncated ${what}: needs ${n} bytes, ${this.end - this.pos} left`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) >>> 0) + (b[p + 1]! << 16) + (b[p + 2]! << 8) + b[p + 3]!;
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  get remaining(): number {
    return this.end - this.pos;
  }
}

/** UIDs in PDUs are not padded, but some implementations add a NUL or space anyway. */
function uidText(bytes: Uint8Array): string {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0 || bytes[end - 1] === 0x20)) end--;
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1');
}

function aeText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1').replace(/\0/g, ' ').trim();
}

function* items(r: Reader, what: string): Generator<{ type: number; body: Reader }> {
  while (r.remaining > 0) {
    const type = r.u8(`${what} item type`);
    r.u8(`${what} item reserved`);
    const len = r.u16(`${what} item length`);
    r.need(len, `${what} item 0x${type.toString(16)}`);
    const body = new Reader(r.buf, r.pos, r.pos + len);
    r.pos += len;
    yield { type, body };
  }
}

function lengthPrefixedBytes(r: Reader, what: string): Uint8Array {
  return r.bytes(r.u16(`${what} length`), what);
}

function decodeUserInfo(r: Reader): UserInformation {
  let maxPduLength = 0;
  let implementationClassUid = '';
  let implementationVersionName: string | undefined;
  let asyncOps: { invoked: number; performed: number } | undefined;
  let userIdentity: UserIdentityRq | undefined;
  let userIdentityResponse: Uint8Array | undefined;
  const roles: RoleSelection[] = [];
  const extended: SopClassExtended[] = [];
  const commonExtended: SopClassCommonExtended[] = [];
  for (const { type, body } of items(r, 'user information')) {
    switch (type) {
      case 0x51: maxPduLength = body.u32('maximum length'); break;
      case 0x52: implementationClassUid = uidText(body.bytes(body.remaining, 'implementation class UID')); break;
      case 0x53: asyncOps = { invoked: body.u16('async ops invoked'), performed: body.u16('async ops performed') }; break;
      case 0x54: {
        const sopClassUid = uidText(lengthPrefixedBytes(body, 'role selection SOP class'));
        roles.push({ sopClassUid, scu: body.u8('SCU role') === 1, scp: body.u8('SCP role') === 1 });
        break;
      }
      case 0x55: implementationVersionName = aeText(body.bytes(body.remaining, 'implementation version name')); break;
      case 0x56: {
        const sopClassUid = uidText(lengthPrefixedBytes(body, 'extended negotiation SOP class'));
        extended.push({ sopClassUid, info: body.bytes(body.remaining, 'extended negotiation info') });
        break;
      }
      case 0x57: {
        const sopClassUid = uidText(lengthPrefixedBytes(body, 'common extended SOP class'));
        const serviceClassUid = uidText(lengthPrefixedBytes(body, 'common extended service class'));
        const relLen = body.u16('related general SOP classes length');
        const rel = new Reader(body.buf, body.pos, body.pos + relLen);
        body.need(relLen, 'related general SOP classes');
        const relatedGeneralSopClasses: string[] = [];
        while (rel.remaining > 0) relatedGeneralSopClasses.push(uidText(lengthPrefixedBytes(rel, 'related general SOP class')));
        commonExtended.push({ sopClassUid, serviceClassUid, relatedGeneralSopClasses });
        break;
      }
      case 0x58: {
        const idType = body.u8('user identity type');
        const positive = body.u8('positive response requested') === 1;
        const primary = lengthPrefixedBytes(body, 'user identity primary field');
        const secondary = body.remaining > 0 ? lengthPrefixedBytes(body, 'user identity secondary field') : new Uint8Array(0);
        userIdentity = { type: idType, positiveResponseRequested: positive, primary, secondary };
        break;
      }
      case 0x59: userIdentityResponse = lengthPrefixedBytes(body, 'user identity server response'); break;
      default: break; // PS3.8 D.1: unknown user information sub-items are ignored.
    }
  }
  return {
    maxPduLength, implementationClassUid, implementationVersionName, asyncOps, roles, extended, commonExtended,
    userIdentity, userIdentityResponse,
  };
}

const EMPTY_USER_INFO: UserInformation = {
  maxPduLength: 0, implementationClassUid: '', roles: [], extended: [], commonExtended: [],
};

function decodeAssociate(type: 1 | 2, r: Reader): AssociateRqPdu | AssociateAcPdu {
  const protocolVersion = r.u16('protocol version');
  r.bytes(2, 'reserved');
  const calledAe = aeText(r.bytes(16, 'called AE title'));
  const callingAe = aeText(r.bytes(16, 'calling AE title'));
  r.bytes(32, 'reserved');
  let applicationContext = '';
  const proposed: ProposedContext[] = [];
  const accepted: AcceptedContextItem[] = [];
  let userInfo = EMPTY_USER_INFO;
  for (const { type: itemType, body } of items(r, 'A-ASSOCIATE')) {
    if (itemType === 0x10) {
      applicationContext = uidText(body.bytes(body.remaining, 'application context'));
    } else if (itemType === 0x20 && type === PduType.AssociateRq) {
      const id = body.u8('presentation context id');
      body.bytes(3, 'reserved');
      let abstractSyntax = '';
      const transferSyntaxes: string[] = [];
      for (const sub of items(body, 'presentation context')) {
        const uid = uidText(sub.body.bytes(sub.body.remaining, 'syntax'));
        if (sub.type === 0x30) abstractSyntax = uid;
        else if (sub.type === 0x40) transferSyntaxes.push(uid);
        else throw new PduError(`unknown presentation context sub-item 0x${sub.type.toString(16)}`);
      }
      proposed.push({ id, abstractSyntax, transferSyntaxes });
    } else if (itemType === 0x21 && type === PduType.AssociateAc) {
      const id = body.u8('presentation context id');
      body.u8('reserved');
      const result = body.u8('presentation context result');
      body.u8('reserved');
      if (result > 4) throw new PduError(`invalid presentation context result ${result}`);
      let transferSyntax = '';
      for (const sub of items(body, 'presentation context')) {
        if (sub.type === 0x40) transferSyntax = uidText(sub.body.bytes(sub.body.remaining, 'transfer syntax'));
      }
      accepted.push({ id, result: result as PresentationResultCode, transferSyntax });
    } else if (itemType === 0x50) {
      userInfo = decodeUserInfo(body);
    } else {
      throw new PduError(`unexpected item 0x${itemType.toString(16)} in A-ASSOCIATE PDU`);
    }
  }
  if (!applicationContext) throw new PduError('A-ASSOCIATE PDU without application context');
  if (userInfo === EMPTY_USER_INFO) throw new PduError('A-ASSOCIATE PDU without user information');
  if (type === PduType.AssociateRq) {
    return { type, protocolVersion, calledAe, callingAe, applicationContext, contexts: proposed, userInfo };
  }
  return { type, protocolVersion, calledAe, callingAe, applicationContext, contexts: accepted, userInfo };
}

function decodePData(r: Reader): PDataTfPdu {
  const pdvs: Pdv[] = [];
  while (r.remaining > 0) {
    const len = r.u32('PDV length');
    if (len < 2) throw new PduError(`PDV item length ${len} is too small`);
    r.need(len, 'PDV item');
    const contextId = r.u8('PDV context id');
    const control = r.u8('PDV control header');
    const data = r.bytes(len - 2, 'PDV data');
    pdvs.push({ contextId, isCommand: (control & 1) === 1, isLast: (control & 2) === 2, data });
  }
  if (pdvs.length === 0) throw new PduError('P-DATA-TF PDU without PDV');
  return { type: PduType.PDataTf, pdvs };
}

/** Decodes one complete PDU (header included). Throws PduError on anything malformed. */
export function decodePdu(buf: Uint8Array): Pdu {
  if (buf.length < PDU_HEADER_LENGTH) throw new PduError('truncated PDU header');
  const type = buf[0]!;
  const r = new Reader(buf, 2, buf.length);
  const length = r.u32('PDU length');
  if (length !== buf.length - PDU_HEADER_LENGTH) throw new PduError(`PDU length ${length} does not match ${buf.length - PDU_HEADER_LENGTH} bytes`);
  switch (type) {
    case PduType.AssociateRq:
    case PduType.AssociateAc:
      return decodeAssociate(type, r);
    case PduType.AssociateRj: {
      r.u8('reserved');
      return { type, result: r.u8('result'), source: r.u8('source'), reason: r.u8('reason') };
    }
    case PduType.PDataTf:
      return decodePData(r);
    case PduType.ReleaseRq:
    case PduType.ReleaseRp:
      r.need(4, 'A-RELEASE reserved');
      return { type };
    case PduType.Abort: {
      r.bytes(2, 'reserved');
      return { type, source: r.u8('source'), reason: r.u8('reason') };
    }
    default:
      throw new PduError(`unrecognized PDU type 0x${type.toString(16)}`);
  }
}
