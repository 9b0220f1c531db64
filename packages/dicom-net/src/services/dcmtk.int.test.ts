// Interoperability with the dcmtk reference tools (echoscu, storescu, storescp, findscu, getscu,
// movescu): our SCP against their SCUs and our SCU against their SCP.
import { createReadStream, createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExplicitVRLittleEndian, ImplicitVRLittleEndian } from '@loire/dicom';
import { connect } from '../client.js';
import { DimseServer } from '../server.js';
import { Status } from '../dimse/status.js';
import type { DatasetSink } from './storage.js';
import { freePort, runTool, samplesDir, startTool, stopTool } from '../test-support/dcmtk.js';
import { readPart10, splitPart10 } from '../test-support/part10.js';

const SYNTAX_FILES = [
  'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.1.dcm', // explicit VR LE
  'modalities/vl-visible-light/JPEGwithIcon.dcm', // JPEG baseline
  'syntaxes/wg04-ct1/CT1_J2KR', // JPEG 2000 lossless
  'syntaxes/wg04-ct1/CT1_JLSL', // JPEG-LS lossless
  'syntaxes/wg04-ct1/CT1_RLE', // RLE
].map((p) => path.join(samplesDir, p));
/** storescu options that propose a compressed transfer syntax first. */
const PROPOSE_FLAG: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': '-xy', '1.2.840.10008.1.2.4.90': '-xv', '1.2.840.10008.1.2.4.80': '-xt', '1.2.840.10008.1.2.5': '-xr',
};
const CT_FILE = path.join(samplesDir, 'ct-series/philips-head-ct-std-brain-1mm/I10');

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(path.join(os.tmpdir(), 'dicom-net-int-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const servers: DimseServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ drain: false })));
});

/** A sink writing the dataset to a file in `dir`, honouring the file stream's backpressure. */
function fileSink(dir: string, name: string): DatasetSink {
  const out = createWriteStream(path.join(dir, name));
  return {
    write: (chunk) => (out.write(chunk) ? undefined : once(out, 'drain').then(() => undefined)),
    end: () => new Promise((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve({ status: Status.Success })))),
    abort: () => out.destroy(),
  };
}

async function startServer(handlers: ConstructorParameters<typeof DimseServer>[0]['handlers']): Promise<number> {
  const s = new DimseServer({ handlers });
  servers.push(s);
  return (await s.listen({ host: '127.0.0.1', port: 0 })).port;
}

/** Minimal identifier encoder for the tests (little endian, explicit or implicit VR). */
function identifier(ts: string, elements: ReadonlyArray<[number, string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [tag, vr, text] of elements) {
    const value = Buffer.from(text.length % 2 ? text + (vr === 'UI' ? '\0' : ' ') : text, 'latin1');
    const head = Buffer.alloc(8);
    head.writeUInt16LE(tag >>> 16, 0);
    head.writeUInt16LE(tag & 0xffff, 2);
    if (ts === ImplicitVRLittleEndian) head.writeUInt32LE(value.length, 4);
    else { head.write(vr, 4, 'latin1'); head.writeUInt16LE(value.length, 6); }
    parts.push(head, value);
  }
  return Buffer.concat(parts);
}

describe('dcmtk SCUs against DimseServer', () => {
  it('echoscu', async () => {
    const port = await startServer({});
    const r = await runTool('echoscu', ['-aec', 'LOIRE', '127.0.0.1', String(port)]);
    expect(r.code, r.output).toBe(0);
  });

  it('storescu: several transfer syntaxes arrive byte for byte, as dcmtk storescp receives them', async () => {
    const dir = mkdtempSync(path.join(tmp, 'scp-'));
    const refDir = mkdtempSync(path.join(tmp, 'ref-'));
    const seen: Array<{ uid: string; ts: string }> = [];
    const port = await startServer({
      onStore: (ctx) => {
        seen.push({ uid: ctx.sopInstanceUid, ts: ctx.transferSyntaxUid });
        return fileSink(dir, ctx.sopInstanceUid);
      },
    });
    // storescu re-encodes some datasets (e.g. drops group lengths): the reference is what a
    // bit-preserving storescp receives from the very same storescu invocation.
    const refPort = await freePort();
    const storescp = await startTool('storescp', ['+B', '+xa', '-od', refDir, String(refPort)], refPort);
    try {
      // One storescu run per file, proposing that file's transfer syntax first.
      for (const file of SYNTAX_FILES) {
        const flag = PROPOSE_FLAG[readPart10(file).transferSyntaxUid] ?? '-R';
        for (const p of [port, refPort]) {
          const r = await runTool('storescu', [flag, '-aec', 'LOIRE', '127.0.0.1', String(p), file]);
          expect(r.code, r.output).toBe(0);
        }
      }
    } finally {
      await stopTool(storescp);
    }
    const reference = new Map(readdirSync(refDir).map((f) => {
      const parts = splitPart10(readFileSync(path.join(refDir, f)));
      return [parts.sopInstanceUid, parts] as const;
    }));
    expect(seen).toHaveLength(SYNTAX_FILES.length);
    for (const file of SYNTAX_FILES) {
      const src = readPart10(file);
      const hit = seen.find((s) => s.uid === src.sopInstanceUid);
      expect(hit?.ts, file).toBe(src.transferSyntaxUid);
      const got = readFileSync(path.join(dir, src.sopInstanceUid));
      expect(got.equals(reference.get(src.sopInstanceUid)!.dataset), file).toBe(true);
    }
    // A file storescu leaves untouched arrives exactly as stored.
    const plain = readPart10(SYNTAX_FILES[0]!);
    expect(readFileSync(path.join(dir, plain.sopInstanceUid)).equals(plain.dataset)).toBe(true);
  });

  it('findscu gets every match from an onFind handler', async () => {
    let query = '';
    const port = await startServer({
      async *onFind(ctx) {
        query = Buffer.from(ctx.identifier).toString('latin1');
        for (const name of ['DOE^JOHN', 'ROE^JANE']) {
          yield identifier(ctx.transferSyntaxUid, [
            [0x00080052, 'CS', 'STUDY'], [0x00100010, 'PN', name], [0x0020000d, 'UI', `1.2.3.${name.length}`],
          ]);
        }
      },
    });
    const r = await runTool('findscu', ['-v', '-S', '-aec', 'LOIRE', '-k', 'QueryRetrieveLevel=STUDY', '-k', 'PatientName=*', '-k', 'StudyInstanceUID', '127.0.0.1', String(port)]);
    expect(r.code, r.output).toBe(0);
    expect(query).toContain('STUDY');
    expect(r.output).toContain('DOE^JOHN');
    expect(r.output).toContain('ROE^JANE');
    expect(r.output).toMatch(/Received Final Find Response \(Success\)/);
  });

  it('getscu receives a file streamed from disk by onGet', async () => {
    const src = readPart10(CT_FILE);
    const dir = mkdtempSync(path.join(tmp, 'get-'));
    const port = await startServer({
      async onGet(ctx) {
        const pc = ctx.findAcceptedContext(src.sopClassUid, [src.transferSyntaxUid]);
        if (!pc) return { status: 0xa702, completed: 0, failed: 1, warning: 0, failedSopInstanceUids: [src.sopInstanceUid] };
        const rsp = await ctx.store({
          sopClassUid: src.sopClassUid, sopInstanceUid: src.sopInstanceUid, transferSyntaxUid: pc.transferSyntax,
          dataset: createReadStream(CT_FILE, { start: src.datasetOffset }),
        });
        return rsp.status === 0 ? { completed: 1, failed: 0, warning: 0 } : { completed: 0, failed: 1, warning: 0, failedSopInstanceUids: [src.sopInstanceUid] };
      },
    });
    const r = await runTool('getscu', ['-S', '+B', '-aec', 'LOIRE', '-od', dir, '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID=1.2.3', '127.0.0.1', String(port)]);
    expect(r.code, r.output).toBe(0);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(splitPart10(readFileSync(path.join(dir, files[0]!))).dataset.equals(src.dataset)).toBe(true);
  });

  it('movescu: C-MOVE sub-operations go to a storescp over a new association', async () => {
    const src = readPart10(CT_FILE);
    const dir = mkdtempSync(path.join(tmp, 'move-'));
    const scpPort = await freePort();
    const storescp = await startTool('storescp', ['+B', '-aet', 'DEST', '-od', dir, String(scpPort)], scpPort);
    try {
      const port = await startServer({
        async onMove(ctx) {
          if (ctx.moveDestination !== 'DEST') return { status: Status.RefusedMoveDestinationUnknown, completed: 0, failed: 0, warning: 0 };
          const sub = await connect({
            host: '127.0.0.1', port: scpPort, callingAe: 'LOIRE', calledAe: 'DEST',
            contexts: [{ abstractSyntax: src.sopClassUid, transferSyntaxes: [src.transferSyntaxUid] }],
          });
          try {
            ctx.reportProgress({ remaining: 1, completed: 0, failed: 0, warning: 0 });
            const rsp = await sub.store({
              sopClassUid: src.sopClassUid, sopInstanceUid: src.sopInstanceUid, transferSyntaxUid: src.transferSyntaxUid,
              dataset: createReadStream(CT_FILE, { start: src.datasetOffset }), moveOriginator: { ae: ctx.moveOriginatorAe, messageId: ctx.messageId },
            });
            return rsp.status === 0 ? { completed: 1, failed: 0, warning: 0 } : { completed: 0, failed: 1, warning: 0, failedSopInstanceUids: [src.sopInstanceUid] };
          } finally {
            await sub.release();
          }
        },
      });
      const r = await runTool('movescu', ['-v', '-S', '-aet', 'MOVER', '-aec', 'LOIRE', '-aem', 'DEST', '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID=1.2.3', '127.0.0.1', String(port)]);
      expect(r.code, r.output).toBe(0);
      expect(r.output).toMatch(/Received Final Move Response \(Success\)/);
      const bad = await runTool('movescu', ['-S', '-aec', 'LOIRE', '-aem', 'NOWHERE', '-k', 'QueryRetrieveLevel=STUDY', '127.0.0.1', String(port)]);
      expect(bad.output).toMatch(/MoveDestinationUnknown/);
    } finally {
      await stopTool(storescp);
    }
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(splitPart10(readFileSync(path.join(dir, files[0]!))).dataset.equals(src.dataset)).toBe(true);
  });
});

describe('ClientAssociation against dcmtk storescp', () => {
  it('stores files (streamed from disk and in memory) that storescp writes byte for byte', async () => {
    const dir = mkdtempSync(path.join(tmp, 'storescp-'));
    const scpPort = await freePort();
    const storescp = await startTool('storescp', ['+B', '+xa', '-aet', 'STORESCP', '-od', dir, String(scpPort)], scpPort);
    const sources = SYNTAX_FILES.map((f) => ({ file: f, ...readPart10(f) }));
    try {
      const a = await connect({
        host: '127.0.0.1', port: scpPort, callingAe: 'LOIRE', calledAe: 'STORESCP',
        contexts: [
          ...sources.map((s) => ({ abstractSyntax: s.sopClassUid, transferSyntaxes: [s.transferSyntaxUid] })),
          { abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: [ExplicitVRLittleEndian, ImplicitVRLittleEndian] },
        ],
      });
      expect(await a.echo()).toBe(0);
      for (const [i, s] of sources.entries()) {
        const dataset = i % 2 === 0 ? createReadStream(s.file, { start: s.datasetOffset, highWaterMark: 10_000 }) : s.dataset;
        const r = await a.store({ sopClassUid: s.sopClassUid, sopInstanceUid: s.sopInstanceUid, transferSyntaxUid: s.transferSyntaxUid, dataset });
        expect(r.status, s.file).toBe(0);
      }
      await a.release();
    } finally {
      await stopTool(storescp);
    }
    const written = readdirSync(dir).map((f) => splitPart10(readFileSync(path.join(dir, f))));
    expect(written).toHaveLength(sources.length);
    for (const s of sources) {
      const w = written.find((x) => x.sopInstanceUid === s.sopInstanceUid);
      expect(w?.dataset.equals(s.dataset), s.file).toBe(true);
    }
  });
});
