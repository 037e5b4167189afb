/** A proxy listener (outbound or inbound) as the sidecar's lifecycle sees it. */
export interface ProxyListener {
  readonly port: number;
  /** Requests and connections currently being served. */
  inFlight(): number;
  /** Requests and connections accepted since the listener opened (a draining sidecar watches it move). */
  served(): number;
  /**
   * Stops accepting, lets in-flight requests finish for up to `drainMs`, then closes what is left.
   * Resolves when everything is closed.
   */
  close(drainMs: number): Promise<void>;
}
