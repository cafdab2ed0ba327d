// DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): each message is preceded by its length as a 2-byte
// big-endian integer. A stream chunk may hold part of a frame or several frames.

/** Splits a byte stream into DNS messages; holds at most one incomplete frame (< 65537 bytes) between pushes. */
export interface FrameReader {
  /**
   * Feeds a chunk; returns the messages it completed, in order, without their length prefix. The messages may
   * share memory with `chunk`: consume them before the chunk is reused.
   */
  push(chunk: Uint8Array): Buffer[];
  /** Bytes held waiting for the rest of a frame. */
  pendingBytes(): number;
}

/** Creates a reader for one connection. */
export function createFrameReader(): FrameReader {
  let pending: Buffer = Buffer.alloc(0);
  return {
    push(chunk) {
      let buf =
        pending.length === 0
          ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
          : Buffer.concat([pending, chunk]);
      const frames: Buffer[] = [];
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        frames.push(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
      }
      // Copy the tail so a small remainder does not pin the whole chunk.
      pending = Buffer.from(buf);
      return frames;
    },
    pendingBytes() {
      return pending.length;
    },
  };
}

/**
 * Prefixes a message with its 2-byte length.
 * @throws RangeError when the message exceeds 65535 octets.
 */
export function frameMessage(msg: Uint8Array): Buffer {
  if (msg.length > 0xffff)
    throw new RangeError(`DNS message of ${msg.length} octets exceeds TCP limit 65535`);
  const out = Buffer.alloc(2 + msg.length);
  out.writeUInt16BE(msg.length, 0);
  out.set(msg, 2);
  return out;
}
