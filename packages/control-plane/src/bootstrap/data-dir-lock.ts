import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ControlPlaneError } from '../errors';
import { DATA_FILES } from './data-dir';

/** Directories locked by this process, since a pid check cannot tell two in-process instances apart. */
const heldHere = new Set<string>();

/**
 * An exclusive lock on a data directory: two control planes writing the same store.json would
 * each overwrite the other's revisions. A lock left by a dead process is taken over.
 */
export class DataDirLock {
  readonly #file: string;
  readonly #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
    this.#file = path.join(dir, DATA_FILES.lock);
  }

  static async acquire(dir: string): Promise<DataDirLock> {
    const lock = new DataDirLock(dir);
    if (heldHere.has(dir)) throw lock.#lockedError(process.pid);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await fs.writeFile(lock.#file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
        heldHere.add(dir);
        return lock;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = Number.parseInt(await fs.readFile(lock.#file, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) throw lock.#lockedError(owner);
      await fs.rm(lock.#file, { force: true });
    }
    throw lock.#lockedError(undefined);
  }

  async release(): Promise<void> {
    heldHere.delete(this.#dir);
    await fs.rm(this.#file, { force: true });
  }

  #lockedError(pid: number | undefined): ControlPlaneError {
    const who = pid === undefined ? 'another control plane' : `another control plane (pid ${pid})`;
    return new ControlPlaneError(
      'WEFT_ERR_DATA_DIR_LOCKED',
      `${this.#dir} is in use by ${who}: stop it first, or give this one its own --data-dir`,
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
