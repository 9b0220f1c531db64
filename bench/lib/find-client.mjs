// A minimal C-FIND SCU that keeps one association open for a whole series of queries, so that
// per-query latency measures the archive, not a process start (as dcmtk findscu per query would).
// Self-contained on purpose: the harness must not measure Loire with Loire's own network code.
import net from 'node:net';

export const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';
const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
const APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';
const IMPLEMENTATION_CLASS_UID = '2.25.255420187226152316133306521327402618906';
const MAX_PDU_RECEIVE = 65536;
const PRESENTATION_CONTEXT_ID = 1;

/** @param {string} text @param {number} length  AE titles are 16 bytes, space padded. */
function fixedAscii(text, length) {
  return Buffer.from(text.padEnd(length, ' ').slice(0, length), 'ascii');
}

/** A variable item of an A-ASSOCIATE PDU: type, reserved byte, 16-bit length, value. */
function item(type, value) {
  const header = Buffer.alloc(4);
  header.writeUInt8(type, 0);
  header.writeUInt16BE(value.length, 2);
  return Buffer.concat([header, value]);
}

/** A PDU: type, reserved byte, 32-bit length, body. */
function pdu(type, body) {
  const header = Buffer.alloc(6);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** @param {{ callingAe: string, calledAe: string }} p */
export function associateRequest({ callingAe, calledAe }) {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(1, 0); // protocol version
  fixedAscii(calledAe, 16).copy(fixed, 4);
  fixedAscii(callingAe, 16).copy(fixed, 20);
  const presentationContext = item(0x20, Buffer.concat([
    Buffer.from([PRESENTATION_CONTEXT_ID, 0, 0, 0]),
    item(0x30, Buffer.from(STUDY_ROOT_FIND, 'ascii')),
    item(0x40, Buffer.from(IMPLICIT_VR_LITTLE_ENDIAN, 'ascii')),
  ]));
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(MAX_PDU_RECEIVE, 0);
  const userInformation = item(0x50, Buffer.concat([
    item(0x51, maxLength),
    item(0x52, Buffer.from(IMPLEMENTATION_CLASS_UID, 'ascii')),
    item(0x55, Buffer.from('LOIRE_BENCH', 'ascii')),
  ]));
  return pdu(0x01, Buffer.concat([fixed, item(0x10, Buffer.from(APPLICATION_CONTEXT, 'ascii')), presentationContext, userInformation]));
}

/**
 * Implicit VR little endian encoding of [tag, value] pairs (the command set is always in it, and
 * the identifier is too, since it is the only transfer syntax proposed).
 * @param {Array<[number, string | number, ('US' | 'UL' | 'UI' | 'text')?]>} elements
 */
export function encodeImplicit(elements) {
  const parts = [...elements].sort((a, b) => a[0] - b[0]).map(([tag, value, kind = 'text']) => {
    let body;
    if (kind === 'US') {
      body = Buffer.alloc(2);
      body.writeUInt16LE(Number(value), 0);
    } else if (kind === 'UL') {
      body = Buffer.alloc(4);
      body.writeUInt32LE(Number(value), 0);
    } else {
      body = Buffer.from(String(value), 'latin1');
      if (body.length % 2) body = Buffer.concat([body, Buffer.from([kind === 'UI' ? 0 : 0x20])]);
    }
    const header = Buffer.alloc(8);
    header.writeUInt16LE(tag >>> 16, 0);
    header.writeUInt16LE(tag & 0xffff, 2);
    header.writeUInt32LE(body.length, 4);
    return Buffer.concat([header, body]);
  });
  return Buffer.concat(parts);
}

/** @param {number} messageId */
export function findCommand(messageId) {
  const rest = encodeImplicit([
    [0x00000002, STUDY_ROOT_FIND, 'UI'],
    [0x00000100, 0x0020, 'US'], // C-FIND-RQ
    [0x00000110, messageId, 'US'],
    [0x00000700, 0x0000, 'US'], // medium priority
    [0x00000800, 0x0001, 'US'], // a data set follows
  ]);
  return Buffer.concat([encodeImplicit([[0x00000000, rest.length, 'UL']]), rest]);
}

/**
 * The study-level keys of the benchmark queries: the matching keys given, and the usual
 * return keys of a study list, empty (universal matching).
 * @param {{ patientId?: string, patientName?: string, studyUid?: string, accession?: string, studyDate?: string }} keys
 */
export function studyIdentifier(keys) {
  return encodeImplicit([
    [0x00080020, keys.studyDate ?? ''],
    [0x00080030, ''],
    [0x00080050, keys.accession ?? ''],
    [0x00080052, 'STUDY'],
    [0x00080061, ''],
    [0x00081030, ''],
    [0x00100010, keys.patientName ?? ''],
    [0x00100020, keys.patientId ?? ''],
    [0x00100030, ''],
    [0x00100040, ''],
    [0x0020000d, keys.studyUid ?? '', 'UI'],
    [0x00200010, ''],
    [0x00201206, ''],
    [0x00201208, ''],
  ]);
}

/** P-DATA-TF with one PDV. @param {Buffer} fragment @param {boolean} isCommand */
function pDataTf(fragment, isCommand) {
  const header = Buffer.alloc(6);
  header.writeUInt32BE(fragment.length + 2, 0);
  header.writeUInt8(PRESENTATION_CONTEXT_ID, 4);
  header.writeUInt8((isCommand ? 1 : 0) | 2, 5); // last fragment
  return pdu(0x04, Buffer.concat([header, fragment]));
}

/**
 * Reads the (0000,0900) Status of an implicit-VR command set.
 * @param {Buffer} command
 */
export function commandStatus(command) {
  for (let offset = 0; offset + 8 <= command.length;) {
    const group = command.readUInt16LE(offset);
    const element = command.readUInt16LE(offset + 2);
    const length = command.readUInt32LE(offset + 4);
    if (group === 0 && element === 0x0900) return command.readUInt16LE(offset + 8);
    offset += 8 + length;
  }
  throw new Error('C-FIND response without a Status (0000,0900)');
}

/**
 * Opens an association for Study Root C-FIND and returns a client whose `find` sends one query
 * and resolves with the number of matches once the final response arrives.
 * @param {{ port: number, calledAe: string, callingAe?: string, host?: string, timeoutMs?: number }} p
 */
export async function openFindAssociation({ port, calledAe, callingAe = 'BENCH', host = '127.0.0.1', timeoutMs = 60_000 }) {
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  let buffered = Buffer.alloc(0);
  /** @type {Array<{ type: number, body: Buffer }>} */
  const inbox = [];
  /** @type {(() => void) | null} */
  let wake = null;
  let closedWith = /** @type {Error | null} */ (null);
  socket.on('data', (data) => {
    buffered = buffered.length ? Buffer.concat([buffered, data]) : data;
    while (buffered.length >= 6) {
      const length = buffered.readUInt32BE(2);
      if (buffered.length < 6 + length) break;
      inbox.push({ type: buffered[0], body: buffered.subarray(6, 6 + length) });
      buffered = buffered.subarray(6 + length);
    }
    wake?.();
  });
  const onClose = (/** @type {Error | undefined} */ error) => {
    closedWith ??= error ?? new Error(`${calledAe} closed the association`);
    wake?.();
  };
  socket.on('error', onClose);
  socket.on('close', () => onClose(undefined));

  async function nextPdu() {
    const deadline = Date.now() + timeoutMs;
    while (inbox.length === 0) {
      if (closedWith) throw closedWith;
      if (Date.now() > deadline) throw new Error(`no answer from ${calledAe} within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => {
        wake = () => resolve(undefined);
        setTimeout(wake, 1000);
      });
      wake = null;
    }
    return /** @type {{ type: number, body: Buffer }} */ (inbox.shift());
  }

  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(associateRequest({ callingAe, calledAe }));
  const answer = await nextPdu();
  if (answer.type === 0x03) throw new Error(`${calledAe} rejected the association (result ${answer.body[1]}, source ${answer.body[2]}, reason ${answer.body[3]})`);
  if (answer.type !== 0x02) throw new Error(`${calledAe} answered the association request with PDU type ${answer.type}`);
  if (!presentationContextAccepted(answer.body)) throw new Error(`${calledAe} refused Study Root C-FIND in implicit VR little endian`);

  let messageId = 0;
  return {
    /**
     * @param {Parameters<typeof studyIdentifier>[0]} keys
     * @returns {Promise<{ matches: number, ms: number }>}
     */
    async find(keys) {
      messageId = (messageId + 1) & 0xffff;
      const started = performance.now();
      socket.write(Buffer.concat([pDataTf(findCommand(messageId), true), pDataTf(studyIdentifier(keys), false)]));
      let matches = 0;
      let command = Buffer.alloc(0);
      for (;;) {
        const received = await nextPdu();
        if (received.type === 0x07) throw new Error(`${calledAe} aborted the association during C-FIND`);
        if (received.type !== 0x04) throw new Error(`unexpected PDU type ${received.type} during C-FIND`);
        for (let offset = 0; offset < received.body.length;) {
          const length = received.body.readUInt32BE(offset);
          const control = received.body[offset + 5];
          const fragment = received.body.subarray(offset + 6, offset + 4 + length);
          offset += 4 + length;
          if ((control & 1) === 0) continue; // identifier of a match: only counted
          command = command.length ? Buffer.concat([command, fragment]) : fragment;
          if ((control & 2) === 0) continue;
          const status = commandStatus(command);
          command = Buffer.alloc(0);
          if (status === 0xff00 || status === 0xff01) matches++;
          else if (status === 0x0000) return { matches, ms: performance.now() - started };
          else throw new Error(`${calledAe} ended C-FIND with status 0x${status.toString(16).padStart(4, '0')}`);
        }
      }
    },
    async release() {
      if (closedWith) return;
      socket.write(pdu(0x05, Buffer.alloc(4)));
      await nextPdu().catch(() => undefined);
      socket.destroy();
    },
  };
}

/** True when the A-ASSOCIATE-AC accepted our one presentation context. @param {Buffer} body */
function presentationContextAccepted(body) {
  for (let offset = 68; offset + 4 <= body.length;) {
    const type = body[offset];
    const length = body.readUInt16BE(offset + 2);
    if (type === 0x21 && body[offset + 4] === PRESENTATION_CONTEXT_ID) return body[offset + 6] === 0;
    offset += 4 + length;
  }
  return false;
}
