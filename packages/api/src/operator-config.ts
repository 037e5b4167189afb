/**
 * `<data-dir>/weftctl.json`, written by the control plane on start and read by `weftctl`:
 * everything the CLI needs to reach and authenticate to the admin API. Holds the operator's
 * private key, so it is written 0600.
 */
export interface OperatorConfig {
  /** host:port of the control plane's gRPC server. */
  readonly endpoint: string;
  readonly trustDomain: string;
  /** The mesh root(s) the control plane's certificate chains to. */
  readonly caPem: string;
  /** The operator certificate and its key, presented to the admin API. */
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** The URI SAN the control plane's certificate must carry; checked instead of a hostname. */
  readonly controlPlaneSpiffeId: string;
}
