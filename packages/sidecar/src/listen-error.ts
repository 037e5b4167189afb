import { WeftError } from '@weft/api';
import { formatHostPort } from './control/address';

/** The sidecar's listeners, each moved by its own flags. */
export type ListenerKind = 'outbound' | 'inbound' | 'admin' | 'tcp-forward' | 'dns';

/** The flag that picks each listener's port, and the one that picks its address (if any). */
const FLAGS: Readonly<Record<ListenerKind, { readonly port: string; readonly bind?: string }>> = Object.freeze({
  outbound: { port: '--outbound-port' },
  inbound: { port: '--inbound-port', bind: '--bind-inbound' },
  admin: { port: '--admin-port', bind: '--bind-admin' },
  'tcp-forward': { port: 'the LOCALPORT of --tcp-forward' },
  dns: { port: '--dns-port' },
});

/**
 * A listener that could not open: which one, on what address, why, and the flag that moves it
 * (`the admin listener cannot bind 0.0.0.0:15000: address already in use. ...--admin-port`).
 * Node's own message names neither the listener nor the flag.
 */
export class ListenError extends WeftError {
  declare readonly code: 'WEFT_ERR_LISTEN';

  constructor(kind: ListenerKind, host: string, port: number, cause: unknown) {
    const flags = FLAGS[kind];
    const where = `the ${kind} listener cannot bind ${formatHostPort({ host, port })}`;
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
    let why: string;
    if (errno === 'EADDRINUSE') {
      why = `address already in use. Another sidecar (or another program) may be listening there; choose another port with ${flags.port}`;
    } else if (errno === 'EACCES') {
      why = `permission denied (ports below 1024 need privileges); choose another port with ${flags.port}`;
    } else if (errno === 'EADDRNOTAVAIL') {
      why = `no interface of this host has that address; ${flags.bind ? `choose another with ${flags.bind}` : 'it listens on loopback, which this host lacks'}`;
    } else {
      why = `${cause instanceof Error ? cause.message : String(cause)}; check ${flags.bind ? `${flags.bind} and ` : ''}${flags.port}`;
    }
    super('WEFT_ERR_LISTEN', `${where}: ${why}`, { cause });
  }
}
