import { ProtoWriter } from './otlp-proto-writer';

/**
 * Buffers for OTLP export requests, reused from one export to the next. `encodeTraceExport`
 * used to write into one scratch buffer and return a copy, since the exporter reads the request
 * again until the export is answered (a retry sends the same bytes after a backoff): a new buffer
 * of about 250 KB per batch of 512 spans, which V8 counts toward the heap's limits, so at 100%
 * sampling it added full collections of the sidecar's heap. An export started through
 * `withRequestWriter` is lent a writer of its own instead, and the request is a view of its
 * buffer, which goes back for the next export only when this one is answered.
 */
const free: ProtoWriter[] = [];
/** Writers kept between exports: the batch processor sends one batch at a time. */
const KEEP = 2;
let lent: ProtoWriter | undefined;

/**
 * Runs `startExport` with a writer lent to the request it encodes (synchronously, as the
 * exporter serializes when an export starts); `answered` gives the writer back (once, whatever
 * the outcome). A writer never given back is left to the garbage collector.
 */
export function withRequestWriter(startExport: (answered: () => void) => void): void {
  const writer = free.pop() ?? new ProtoWriter();
  let back = false;
  const answered = (): void => {
    if (back) return;
    back = true;
    if (free.length < KEEP) free.push(writer);
  };
  const outer = lent;
  lent = writer;
  try {
    startExport(answered);
  } finally {
    lent = outer;
  }
}

/** The writer lent to the export being started, taken once; undefined outside `withRequestWriter`. */
export function takeRequestWriter(): ProtoWriter | undefined {
  const writer = lent;
  lent = undefined;
  return writer;
}
