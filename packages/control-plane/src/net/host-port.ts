/** Where to bind: an empty host (`:PORT`, parsed with `allowAnyHost`) means every interface. */
export function bindHost(host: string): string {
  return host === '' ? '0.0.0.0' : host;
}
