/**
 * For suites whose refusals are the point (wrong identity, denied connections): the sidecar logs
 * each one as a warning, which would clutter the test output. Loggers read the level when they
 * are made, so this must run before the suite starts its sidecars.
 */
export function quietLogs(): void {
  let saved: string | undefined;
  before(() => {
    saved = process.env['WEFT_LOG_LEVEL'];
    process.env['WEFT_LOG_LEVEL'] = 'error';
  });
  after(() => {
    if (saved === undefined) delete process.env['WEFT_LOG_LEVEL'];
    else process.env['WEFT_LOG_LEVEL'] = saved;
  });
}
