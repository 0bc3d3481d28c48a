/** A directory's names, or none when the directory does not exist (yet). */
import { readdir } from 'node:fs/promises';
import { isErrno } from './errors.js';

export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}
