/**
 * Why a codec operation failed, so that a caller can pick its answer: a transfer syntax Loire has no codec for
 * (DICOM: refuse the presentation context, DICOMweb: 406), or pixel data that is corrupt or disagrees with its
 * attributes (the stored instance needs repair: DICOM 0xC000-range failure, HTTP 500).
 */
export type CodecErrorReason = 'unsupported' | 'corrupt';

export class CodecError extends Error {
  override readonly name = 'CodecError';
  constructor(message: string, readonly reason: CodecErrorReason = 'corrupt') {
    super(message);
  }
}
