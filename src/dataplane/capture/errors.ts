// Typed errors of the capture readers (src/dataplane/capture/). Every problem with a capture
// file surfaces as a CaptureError with a code and the byte offset where it was found; the
// readers never let a RangeError or a partial record escape.

export type CaptureErrorCode =
  | 'not-a-capture' // the file does not start like classic pcap or pcapng
  | 'unsupported' //   a capture, but a version this reader does not know
  | 'truncated' //     the file ends inside a header, record or block (a capture cut short)
  | 'corrupt' //       a length or field that cannot be right
  | 'io'; //           the file could not be opened or read

export class CaptureError extends Error {
  override name = 'CaptureError';
  constructor(
    readonly code: CaptureErrorCode,
    message: string,
    /**
     * byte offset in the file where the problem was found; for 'truncated', where the
     * incomplete header, record or block starts (every byte before it was read)
     */
    readonly offset: number,
    /** packets read completely before the problem (0 when opening the file) */
    readonly packetsBefore = 0,
  ) {
    super(message);
  }
}
