export { DicomParseError } from './errors.js';
export { DatasetParser, DEFAULT_BULK_DATA_THRESHOLD, DEFAULT_MAX_DEPTH, type ParseOptions } from './dataset-parser.js';
export { Part10Parser, parsePart10, readPart10File, sniffTransferSyntax, type Part10, type Part10Options } from './part10.js';
