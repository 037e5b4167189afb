/** Who this sidecar is. Fixed for the life of the process. */
export interface SelfInfo {
  readonly proxyId: string;
  readonly service: string;
  readonly namespace: string;
  readonly trustDomain: string;
  /** `spiffe://<td>/ns/<namespace>/sa/<service>` */
  readonly spiffeId: string;
  readonly labels: Readonly<Record<string, string>>;
}
