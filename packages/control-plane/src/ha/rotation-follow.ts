import type { Logger } from '@weft/api';
import type { Etcd3, Watcher } from 'etcd3';
import type { CaRotation } from '../ca/ca-rotation';
import { readCaState } from '../ca/ca-store-etcd';
import type { EtcdKeys } from '../store/etcd-client';

/**
 * Keeps this replica's CA in step with etcd: when the stored CA or rotation record changes (the
 * leader moved a phase, another replica started a rotation), the new trust and signer are read
 * back and handed to the rotation, which publishes them to this replica's sidecars.
 */
export async function followRotation(client: Etcd3, keys: EtcdKeys, encryptionKey: Buffer, rotation: CaRotation, log: Logger): Promise<() => Promise<void>> {
  let watcher: Watcher | undefined = await client.watch().prefix(keys.caPrefix).create();
  let reading = Promise.resolve();
  const changed = (): void => {
    // One read at a time, in order: each reads the latest of both keys.
    reading = reading
      .then(async () => {
        const { rotation: record, state } = await readCaState(client, keys, encryptionKey);
        await rotation.follow(record, state);
      })
      .catch((err: unknown) => log.error('cannot follow the root rotation stored in etcd', { error: err instanceof Error ? err : String(err) }));
  };
  watcher.on('put', changed);
  return async () => {
    const w = watcher;
    watcher = undefined;
    await w?.cancel().catch(() => undefined);
    await reading;
  };
}
