// Compares DICOM objects as the archive must keep them: the dataset bytes, byte for byte.
import { readFileSync } from 'node:fs';
import { datasetOffset } from '../retrieve/stored-dataset.js';

/** The dataset part of a file (after preamble and file meta; the whole file when it has none). */
export function datasetBytesOfFile(file: string): Buffer {
  const bytes = readFileSync(file);
  return bytes.subarray(datasetOffset(bytes));
}
