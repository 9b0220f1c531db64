// Transfer syntaxes and SOP classes, derived from the generated UID registry.
import { randomBytes } from 'node:crypto';
import { allUids, lookupUid } from './dictionary/index.js';

export const ImplicitVRLittleEndian = '1.2.840.10008.1.2';
export const ExplicitVRLittleEndian = '1.2.840.10008.1.2.1';
export const DeflatedExplicitVRLittleEndian = '1.2.840.10008.1.2.1.99';
export const ExplicitVRBigEndian = '1.2.840.10008.1.2.2';
export const VerificationSOPClass = '1.2.840.10008.1.1';
export const StorageCommitmentPushModelSOPClass = '1.2.840.10008.1.20.1';
export const StorageCommitmentPushModelSOPInstance = '1.2.840.10008.1.20.1.1';

export interface TransferSyntax {
  readonly uid: string;
  readonly name: string;
  readonly keyword: string;
  readonly explicitVR: boolean;
  readonly littleEndian: boolean;
  readonly deflated: boolean;
  /** Pixel data is encapsulated (fragments), i.e. compressed or a video stream. */
  readonly encapsulated: boolean;
  /** Whether decoding loses information (lossy codecs). */
  readonly lossy: boolean;
  readonly retired: boolean;
}

const LOSSY_KEYWORDS = new Set([
  'JPEGBaseline8Bit', 'JPEGExtended12Bit', 'JPEGLSNearLossless', 'JPEG2000', 'JPEG2000MC', 'HTJ2K',
  'JPEGXL', 'JPEGXLJPEGRecompression',
]);

function describe(uid: string, name: string, keyword: string, retired: boolean): TransferSyntax {
  const native = uid === ImplicitVRLittleEndian || uid === ExplicitVRLittleEndian ||
    uid === DeflatedExplicitVRLittleEndian || uid === ExplicitVRBigEndian;
  return {
    uid, name, keyword, retired,
    explicitVR: uid !== ImplicitVRLittleEndian,
    littleEndian: uid !== ExplicitVRBigEndian,
    deflated: uid === DeflatedExplicitVRLittleEndian || keyword === 'JPIPReferencedDeflate',
    encapsulated: !native && !keyword.startsWith('JPIP') && !keyword.startsWith('SMPTEST2110'),
    lossy: LOSSY_KEYWORDS.has(keyword) || keyword.startsWith('MPEG') || keyword.startsWith('HEVC'),
  };
}

const transferSyntaxes = new Map<string, TransferSyntax>();
for (const u of allUids()) {
  if (u.type === 'Transfer Syntax' && !u.keyword.startsWith('Papyrus') && u.keyword !== 'RFC2557MIMEEncapsulation' && u.keyword !== 'XMLEncoding') {
    transferSyntaxes.set(u.uid, describe(u.uid, u.name, u.keyword, u.retired));
  }
}

export function transferSyntax(uid: string): TransferSyntax | undefined {
  return transferSyntaxes.get(uid);
}

/** Every transfer syntax of the standard that a dataset can be encoded in. */
export function allTransferSyntaxes(): TransferSyntax[] {
  return [...transferSyntaxes.values()];
}

/** Non-retired transfer syntaxes, native first: what an archive accepts for storage. */
export function storageTransferSyntaxes(): string[] {
  const native = [ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian];
  const rest = allTransferSyntaxes()
    .filter((ts) => !ts.retired && ts.encapsulated)
    .map((ts) => ts.uid);
  return [...native, ...rest];
}

const STORAGE_ROOT = '1.2.840.10008.5.1.4.1.1.';
const storageSopClasses: string[] = [];
for (const u of allUids()) {
  if (u.type === 'SOP Class' && isStorageSopClassName(u.uid, u.name)) storageSopClasses.push(u.uid);
}

function isStorageSopClassName(uid: string, name: string): boolean {
  if (!/Storage/.test(name) || /Commitment|Retrieve|Find|Move|Get|Query/.test(name)) return false;
  return uid.startsWith(STORAGE_ROOT) || uid.startsWith('1.2.840.10008.5.1.4.');
}

/** Every storage SOP class in the registry (retired ones included: old modalities still send them). */
export function allStorageSopClasses(): readonly string[] {
  return storageSopClasses;
}

/** A storage SOP class: registered, or under the standard's storage root, or private. */
export function isStorageSopClass(uid: string): boolean {
  const entry = lookupUid(uid);
  if (entry) return entry.type === 'SOP Class' && isStorageSopClassName(uid, entry.name);
  return uid.startsWith(STORAGE_ROOT) || !uid.startsWith('1.2.840.10008.');
}

export function uidName(uid: string): string {
  return lookupUid(uid)?.name ?? uid;
}

/** A fresh UID under the UUID-derived root 2.25 (PS3.5 B.2): 128 random bits as a decimal integer. */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomBytes(16).toString('hex')}`).toString()}`;
}
