/** Open tunnels and the bytes they have carried so far, both ways. */
export interface TunnelActivity {
  readonly open: number;
  readonly bytes: number;
}

/** A socket's byte counts (net.Socket, TLSSocket). */
export interface CountsBytes {
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

/** What `tunnels()` reports for a set of tunnel sockets: read when asked, nothing counted per chunk. */
export function tunnelActivity(sockets: ReadonlySet<CountsBytes>): TunnelActivity {
  let bytes = 0;
  for (const s of sockets) bytes += s.bytesRead + s.bytesWritten;
  return { open: sockets.size, bytes };
}

/** A proxy listener (outbound or inbound) as the sidecar's lifecycle sees it. */
export interface ProxyListener {
  readonly port: number;
  /** Requests and connections currently being served. */
  inFlight(): number;
  /** Requests and connections accepted since the listener opened (a draining sidecar watches it move). */
  served(): number;
  /**
   * The tunnels (TCP relays) among what is in flight, and the bytes they have carried: an idle
   * memory release may run while open tunnels carry nothing (a database connection an app keeps
   * open for hours), where a request in flight holds it off. Absent: no tunnels.
   */
  tunnels?(): TunnelActivity;
  /**
   * Stops accepting, lets in-flight requests finish for up to `drainMs`, then closes what is left.
   * Resolves when everything is closed.
   */
  close(drainMs: number): Promise<void>;
}
