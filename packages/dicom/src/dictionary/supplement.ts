// Entries of PS3.6 newer than the dictionary release the generator reads
// (see scripts/gen-dicom-tables.py). Keep this list short and cite the supplement.
import type { UidRow } from './uids.generated.js';

export const SUPPLEMENT_UIDS: readonly UidRow[] = [
  // Sup 235 (2023): High-Throughput JPEG 2000
  ['1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 Image Compression (Lossless Only)', 'Transfer Syntax', 'HTJ2KLossless', 0],
  ['1.2.840.10008.1.2.4.202', 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)', 'Transfer Syntax', 'HTJ2KLosslessRPCL', 0],
  ['1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000 Image Compression', 'Transfer Syntax', 'HTJ2K', 0],
  // Sup 232 (2024): JPEG XL
  ['1.2.840.10008.1.2.4.110', 'JPEG XL Lossless', 'Transfer Syntax', 'JPEGXLLossless', 0],
  ['1.2.840.10008.1.2.4.111', 'JPEG XL JPEG Recompression', 'Transfer Syntax', 'JPEGXLJPEGRecompression', 0],
  ['1.2.840.10008.1.2.4.112', 'JPEG XL', 'Transfer Syntax', 'JPEGXL', 0],
  // CP-2157: Deflated Image Frame Compression
  ['1.2.840.10008.1.2.8.1', 'Deflated Image Frame Compression', 'Transfer Syntax', 'DeflatedImageFrameCompression', 0],
];
