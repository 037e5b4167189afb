import { weftVersion } from '@weft/api';

/** The version the sidecar reports to the control plane in its node: the Weft release. */
export function proxyVersion(): string {
  return weftVersion();
}
