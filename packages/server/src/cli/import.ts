// `loire import PATH…`: stores files and folders through the same ingest pipeline as C-STORE.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { SingleBar } from 'cli-progress';
import type { IngestResult, IngestService } from '../ingest/ingest.js';
import { DicomStatus, IngestError } from '../ingest/errors.js';
import { classifyFile } from './file-kind.js';

export interface ImportSummary {
  files: number;
  stored: number;
  duplicates: number;
  /** DICOMDIR files: the directory of a media file-set, whose objects are imported on their own. */
  directoriesSkipped: number;
  rejected: { file: string; reason: string }[];
  /**
   * Of the rejected, those refused for want of resources (a full disk): not the files' fault,
   * and the import is not finished; running it again once there is room stores them.
   */
  outOfResources: number;
}

/** Every regular file under the given paths, depth first, in a stable order. */
export async function* walkFiles(paths: readonly string[]): AsyncGenerator<string> {
  for (const p of paths) {
    const info = await stat(p);
    if (info.isDirectory()) {
      const entries = (await readdir(p, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
      yield* walkFiles(entries.filter((e) => e.isDirectory() || e.isFile()).map((e) => path.join(p, e.name)));
    } else if (info.isFile()) {
      yield p;
    }
  }
}

async function countFiles(paths: readonly string[]): Promise<number> {
  let n = 0;
  for await (const _ of walkFiles(paths)) n++;
  return n;
}

export async function importFile(
  ingest: IngestService, file: string, onStored?: (result: IngestResult) => void,
): Promise<'stored' | 'replaced' | 'duplicate-ignored'> {
  const incoming = await ingest.beginPart10({ door: 'import', from: file });
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
      await incoming.write(chunk as Buffer);
    }
  } catch (err) {
    await incoming.abort(err as Error);
    throw err;
  }
  const result = await incoming.end();
  onStored?.(result);
  return result.outcome === 'rejected-duplicate' ? 'duplicate-ignored' : result.outcome;
}

const NOT_DICOM = 'not a DICOM file (no DICM prefix and no DICOM data element at its start)';

export async function importPaths(
  ingest: IngestService,
  paths: readonly string[],
  options: { progress: boolean; onRejected?: (file: string, reason: string) => void; onStored?: (result: IngestResult) => void },
): Promise<ImportSummary> {
  const total = await countFiles(paths);
  const bar = options.progress ? new SingleBar({ format: 'import [{bar}] {value}/{total} files  {eta_formatted} left', hideCursor: true }) : undefined;
  bar?.start(total, 0);
  const summary: ImportSummary = { files: 0, stored: 0, duplicates: 0, directoriesSkipped: 0, rejected: [], outOfResources: 0 };
  const reject = (file: string, reason: string): void => {
    summary.rejected.push({ file, reason });
    options.onRejected?.(file, reason);
  };
  for await (const file of walkFiles(paths)) {
    summary.files++;
    try {
      const kind = await classifyFile(file);
      if (kind === 'dicomdir') {
        summary.directoriesSkipped++;
        bar?.increment();
        continue;
      }
      if (kind === 'not-dicom') {
        reject(file, NOT_DICOM);
        bar?.increment();
        continue;
      }
      const outcome = await importFile(ingest, file, options.onStored);
      if (outcome === 'duplicate-ignored') summary.duplicates++;
      else summary.stored++;
    } catch (err) {
      if (err instanceof IngestError && err.dicomStatus === DicomStatus.OutOfResources) summary.outOfResources++;
      reject(file, err instanceof IngestError ? err.message : `cannot read file: ${(err as Error).message}`);
    }
    bar?.increment();
  }
  bar?.stop();
  return summary;
}

/**
 * The exit status of an import: 1 when it is not finished (files refused for want of
 * resources) or stored nothing of what it was given; rejected files among stored ones (a CD's
 * non-DICOM files, say) are reported, not failed on.
 */
export function importExitCode(summary: ImportSummary): number {
  return summary.outOfResources > 0 || (summary.rejected.length > 0 && summary.stored + summary.duplicates === 0) ? 1 : 0;
}

/** The rejections grouped by reason, most frequent first, for the end-of-import report. */
export function formatSummary(summary: ImportSummary): string {
  const skipped = summary.directoriesSkipped ? `, ${summary.directoriesSkipped} DICOMDIR skipped (directory records, not objects)` : '';
  const lines = [`${summary.files} files: ${summary.stored} stored, ${summary.duplicates} already stored${skipped}, ${summary.rejected.length} rejected`];
  const byReason = new Map<string, string[]>();
  for (const r of summary.rejected) {
    // Group on the kind of problem, not on the UIDs, tags and offsets each file differs by.
    const key = r.reason.replace(/\d+(\.\d+)+/g, '<uid>').replace(/\([0-9A-F]{4},[0-9A-F]{4}\)/gi, '(gggg,eeee)').replace(/\d+/g, 'N');
    byReason.set(key, [...(byReason.get(key) ?? []), r.file]);
  }
  for (const [reason, files] of [...byReason].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`  ${files.length} × ${reason}`);
    for (const f of files.slice(0, 5)) lines.push(`      ${f}`);
    if (files.length > 5) lines.push(`      … and ${files.length - 5} more`);
  }
  if (summary.outOfResources > 0) {
    lines.push(`the import is not finished: ${summary.outOfResources} files could not be stored for want of resources (is the disk full?); make room and run it again`);
  }
  return lines.join('\n');
}
