// Hostile bytes on Loire's DICOM port: garbage, a truncated association request, an absurd PDU
// length, a bad PDV inside a valid association. Each connection must end (A-ABORT or close)
// on its own, while a storescu association running at the same time completes normally.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DICOM_APPLICATION_CONTEXT, encodePdu, PduType, type ProposedContext } from '@loire/dicom-net';
import { runTool } from '../testing/dcmtk.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { writeSmallInstances, type GeneratedInstance } from './generated-instances.js';

const VERIFICATION = '1.2.840.10008.1.1';
const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
/** How long Loire may take to end a hostile connection: well under its 30 s ARTIM and idle timers. */
const END_WITHIN_MS = 10_000;

function associateRq(calledAe: string, contexts: ProposedContext[]): Buffer {
  return encodePdu({
    type: PduType.AssociateRq, protocolVersion: 1, calledAe, callingAe: 'RAWSOCKET', applicationContext: DICOM_APPLICATION_CONTEXT,
    contexts, userInfo: { maxPduLength: 16384, implementationClassUid: '2.25.1', roles: [], extended: [], commonExtended: [] },
  });
}

/** One raw TCP connection: what it received and how it ended. */
class RawConnection {
  received = Buffer.alloc(0);
  readonly ended: Promise<void>;
  private readonly socket: net.Socket;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => { this.received = Buffer.concat([this.received, d]); });
    this.socket.on('error', () => undefined); // a reset by the peer is one way to end
    this.ended = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  async connected(): Promise<void> {
    if (!this.socket.connecting) return;
    await new Promise<void>((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Half-closes our side: Loire must notice and close its side too. */
  finish(): void {
    this.socket.end();
  }

  async waitForBytes(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${this.received.length} of ${n} bytes received`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Resolves when Loire has closed the connection, or fails after END_WITHIN_MS. */
  async closedByPeer(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connection still open after ${END_WITHIN_MS} ms`)), END_WITHIN_MS);
    });
    try {
      await Promise.race([this.ended, timeout]);
    } finally {
      clearTimeout(timer);
      this.socket.destroy();
    }
  }

  /** PDU types received from `offset` on, following the PDU lengths. */
  pduTypes(offset = 0): number[] {
    const types: number[] = [];
    let pos = offset;
    while (pos + 6 <= this.received.length) {
      types.push(this.received[pos]!);
      pos += 6 + this.received.readUInt32BE(pos + 2);
    }
    if (pos !== this.received.length) types.push(-1); // a truncated PDU: fails any comparison
    return types;
  }
}

/** Opens a connection, negotiates Verification, and returns it with the offset after the A-ASSOCIATE-AC. */
async function associated(loire: TestLoire): Promise<{ conn: RawConnection; afterAc: number; contextId: number }> {
  const conn = new RawConnection(loire.dicomPort);
  await conn.connected();
  const contextId = 1;
  conn.send(associateRq(loire.aeTitle, [{ id: contextId, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_VR_LE] }]));
  await conn.waitForBytes(6, END_WITHIN_MS);
  expect(conn.received[0], 'A-ASSOCIATE-AC expected').toBe(PduType.AssociateAc);
  const afterAc = 6 + conn.received.readUInt32BE(2);
  await conn.waitForBytes(afterAc, END_WITHIN_MS);
  return { conn, afterAc, contextId };
}

/** A P-DATA-TF PDU holding one PDV item as given (item length and all), without checks. */
function pDataWithPdv(itemLength: number, contextId: number, control: number, data: Uint8Array): Buffer {
  const pdv = Buffer.alloc(6);
  pdv.writeUInt32BE(itemLength, 0);
  pdv[4] = contextId;
  pdv[5] = control;
  const head = Buffer.alloc(6);
  head[0] = PduType.PDataTf;
  head.writeUInt32BE(6 + data.length, 2);
  return Buffer.concat([head, pdv, data]);
}

interface Attack {
  name: string;
  run(loire: TestLoire): Promise<void>;
}

const ATTACKS: Attack[] = [
  {
    name: 'random garbage',
    async run(loire) {
      const conn = new RawConnection(loire.dicomPort);
      await conn.connected();
      const garbage = randomBytes(4096);
      garbage[0] = 0x55; // not a PDU type, so the first byte already tells it is not DICOM
      conn.send(garbage);
      await conn.closedByPeer();
      expect(conn.pduTypes()).toEqual(conn.received.length ? [PduType.Abort] : []);
    },
  },
  {
    name: 'a truncated A-ASSOCIATE-RQ, then close',
    async run(loire) {
      const conn = new RawConnection(loire.dicomPort);
      await conn.connected();
      const rq = associateRq(loire.aeTitle, [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_VR_LE] }]);
      conn.send(rq.subarray(0, 40));
      conn.finish();
      await conn.closedByPeer();
      expect(conn.pduTypes()).toEqual(conn.received.length ? [PduType.Abort] : []);
    },
  },
  {
    name: 'an A-ASSOCIATE-RQ declaring a PDU length of 2^31',
    async run(loire) {
      const conn = new RawConnection(loire.dicomPort);
      await conn.connected();
      const rq = associateRq(loire.aeTitle, [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_VR_LE] }]);
      rq.writeUInt32BE(2 ** 31, 2);
      conn.send(rq);
      await conn.closedByPeer();
      expect(conn.pduTypes()).toEqual(conn.received.length ? [PduType.Abort] : []);
    },
  },
  {
    name: 'a P-DATA-TF whose PDV item runs past its PDU',
    async run(loire) {
      const { conn, afterAc, contextId } = await associated(loire);
      conn.send(pDataWithPdv(1_000_000, contextId, 0x03, randomBytes(100)));
      await conn.closedByPeer();
      expect(conn.pduTypes(afterAc)).toEqual(conn.received.length > afterAc ? [PduType.Abort] : []);
    },
  },
  {
    name: 'a P-DATA-TF whose PDV is too short to hold its header',
    async run(loire) {
      const { conn, afterAc, contextId } = await associated(loire);
      conn.send(pDataWithPdv(1, contextId, 0x03, Buffer.alloc(0)));
      await conn.closedByPeer();
      expect(conn.pduTypes(afterAc)).toEqual(conn.received.length > afterAc ? [PduType.Abort] : []);
    },
  },
  {
    name: 'a P-DATA-TF on a presentation context that was never negotiated',
    async run(loire) {
      const { conn, afterAc } = await associated(loire);
      const data = randomBytes(64);
      conn.send(pDataWithPdv(data.length + 2, 99, 0x03, data));
      await conn.closedByPeer();
      expect(conn.pduTypes(afterAc)).toEqual(conn.received.length > afterAc ? [PduType.Abort] : []);
    },
  },
  {
    name: 'a command PDV of random bytes',
    async run(loire) {
      const { conn, afterAc, contextId } = await associated(loire);
      const data = randomBytes(200);
      conn.send(pDataWithPdv(data.length + 2, contextId, 0x03, data));
      await conn.closedByPeer();
      expect(conn.pduTypes(afterAc)).toEqual(conn.received.length > afterAc ? [PduType.Abort] : []);
    },
  },
];

describe('hostile connections on the DICOM port', () => {
  let loire: TestLoire;
  let dir: string;
  let instances: GeneratedInstance[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'loire-raw-'));
    instances = writeSmallInstances(dir, 400);
    loire = await startTestLoire();
  }, 120_000);

  afterAll(async () => {
    await loire?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const peer = (): string[] => ['-aec', loire.aeTitle, '127.0.0.1', String(loire.dicomPort)];

  it('ends each hostile connection alone while a concurrent storescu completes', async () => {
    let storescuRunning = true;
    const storescu = runTool('storescu', ['-v', ...peer(), ...instances.map((i) => i.file)], { timeoutMs: 300_000 })
      .finally(() => { storescuRunning = false; });
    // Attack once storescu's association is up and storing.
    const deadline = Date.now() + 60_000;
    while (!(await loire.server.archive.index.getInstance(instances[0]!.sopInstanceUid))) {
      if (Date.now() > deadline || !storescuRunning) throw new Error(`storescu stored nothing: ${JSON.stringify(await storescu)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // All at once, each on its own connection, while storescu is sending.
    let endedDuringStorescu = 0;
    const failures = (await Promise.all(ATTACKS.map(async (attack) => {
      try {
        await attack.run(loire);
        return undefined;
      } catch (err) {
        return `${attack.name}: ${(err as Error).message}`;
      } finally {
        if (storescuRunning) endedDuringStorescu++;
      }
    }))).filter((f) => f !== undefined);
    const r = await storescu;
    expect(failures).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    expect((r.stdout + r.stderr).match(/Received Store Response \(Success\)/g)?.length).toBe(instances.length);
    const missing = [];
    for (const i of instances) if (!(await loire.server.archive.index.getInstance(i.sopInstanceUid))) missing.push(i.sopInstanceUid);
    expect(missing).toEqual([]);
    // The point is concurrency: the attacks must have ended while storescu was still sending.
    expect(endedDuringStorescu).toBe(ATTACKS.length);
  }, 300_000);

  it('keeps serving afterwards: C-ECHO and /healthz', async () => {
    const r = await runTool('echoscu', ['-v', ...peer()]);
    expect(r.code, r.stderr).toBe(0);
    const res = await fetch(`http://127.0.0.1:${loire.httpPort}/healthz`);
    expect(res.status).toBe(200);
  }, 60_000);
});
