/**
 * The few file-system steps durability rests on. On Linux a new or renamed directory entry is only durable
 * once the directory itself is fsynced, and a rename only replaces a file atomically if the new content was
 * fsynced before it.
 */
import type { FileHandle } from 'node:fs/promises';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** Makes the directory's entries (creations, renames, unlinks) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes all of `bytes` at `position`; pwrite may write less than asked (e.g. across a signal). */
export async function writeAllAt(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done, position + done);
    if (bytesWritten === 0) throw new Error(`write at offset ${position + done} made no progress`);
    done += bytesWritten;
  }
}

/**
 * Replaces `dir/name` atomically and durably: write `name.tmp`, fsync it, rename over `name`, fsync `dir`.
 * A crash leaves either the old or the new file (plus perhaps a stray `.tmp`, removed at the next open).
 */
export async function writeFileAtomic(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const fh = await open(tmp, 'w', 0o640);
  try {
    await writeAllAt(fh, bytes, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  await fsyncDir(dir);
}
