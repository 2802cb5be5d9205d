// What the capture readers yield: one captured packet with its time and link type.

export interface CapturePacket {
  /** 0-based index of the packet in the file */
  index: number;
  /** capture time in ns since the Unix epoch (pcapng: the interface's if_tsoffset applied) */
  timestampNs: bigint;
  /** false for a pcapng Simple Packet Block, which carries no time: timestampNs repeats the previous packet's */
  hasTimestamp: boolean;
  /** LINKTYPE_* of the interface (1 = Ethernet) */
  linkType: number;
  /** pcapng interface id (0 for classic pcap) */
  interfaceId: number;
  /** length of the packet on the wire */
  originalLength: number;
  /** the captured bytes (may be shorter than originalLength); a view valid until the next read */
  data: Buffer;
}

export type CaptureFormat = 'pcap' | 'pcapng';

export interface PacketDecoder {
  readonly format: CaptureFormat;
  /** 'little' or 'big': the byte order of the file (pcapng: of the current section) */
  readonly byteOrder: 'little' | 'big';
  /** next packet, or null at a clean end of file; throws CaptureError otherwise */
  next(): Promise<CapturePacket | null>;
  /** the same from buffered bytes only: undefined when next() must read the file first */
  tryNext(): CapturePacket | null | undefined;
}
