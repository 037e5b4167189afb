import { performance } from 'node:perf_hooks';

/** The longest delay Node's setTimeout takes as it is (2^31 - 1 ms, about 24.8 days). */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * What a deadline list holds: the entry itself is the list node, so adding a deadline allocates
 * nothing of its own. The link fields belong to `Deadlines`; only `at` and `expire` are the
 * entry's.
 */
export interface DeadlineEntry {
  /** When it expires, `performance.now()` ms. */
  readonly at: number;
  /** Called once, from the timer, when `at` has passed and the entry was not removed first. */
  expire(): void;
  deadlinePrev: DeadlineEntry | undefined;
  deadlineNext: DeadlineEntry | undefined;
  deadlineList: DeadlineList | undefined;
}

/** The pending deadlines of one duration, earliest first. */
export interface DeadlineList {
  head: DeadlineEntry | undefined;
  tail: DeadlineEntry | undefined;
}

/**
 * Request deadlines with one Node timer between them, as Node's own timers keep one list per
 * duration: every request of a rule has the same timeout, so an entry added later expires later
 * and appending keeps each list sorted. The timer is armed for the earliest head of all lists;
 * adding never re-arms it unless the new entry is the earliest of all (a new duration, or a
 * caller's deadline shorter than the rest). Removal is O(1) (the lists are doubly linked, so a
 * finished request's entry is released at once, not kept until the entries ahead of it finish).
 *
 * The timer is not cleared when the last entry is removed: at a steady rate that would make a
 * timer per request again. It is unref'd instead, so that a process with nothing pending can
 * exit; when it fires with nothing due it re-arms for the earliest pending entry, if any.
 *
 * A caller's deadline (gRPC's `grpc-timeout`) has any duration: its list is the whole
 * milliseconds of it, where an entry is put in order from the tail (a step or two at most);
 * lists left empty are dropped when the timer fires.
 */
export class Deadlines {
  readonly #lists = new Map<number, DeadlineList>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for (it fires at or after it). */
  #armedFor = Infinity;
  #pending = 0;
  #firing = false;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** How many entries are pending (added, not yet expired or removed). */
  get pending(): number {
    return this.#pending;
  }

  /** Whether the timer keeps the process alive: only while something is pending. */
  get holdsProcess(): boolean {
    return this.#timer !== undefined && this.#timer.hasRef();
  }

  /** Adds `entry`, which expires at `entry.at`, `ms` from now. */
  add(entry: DeadlineEntry, ms: number): void {
    const key = Math.ceil(ms);
    let list = this.#lists.get(key);
    if (list === undefined) {
      list = { head: undefined, tail: undefined };
      this.#lists.set(key, list);
    }
    insert(list, entry);
    if (this.#pending++ === 0) this.#timer?.ref();
    if (!this.#firing && entry.at < this.#armedFor) this.#arm(entry.at);
  }

  /** Removes `entry` if it is pending; it will not expire. */
  remove(entry: DeadlineEntry): void {
    const list = entry.deadlineList;
    if (list === undefined) return;
    unlink(list, entry);
    if (--this.#pending === 0) this.#timer?.unref();
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedFor = at;
    // Past Node's largest delay it fires early, finds nothing due and arms again.
    this.#timer = setTimeout(this.#fire, Math.min(MAX_DELAY_MS, Math.max(1, Math.ceil(at - this.#now()))));
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    this.#firing = true;
    try {
      // Entries of different durations expire in deadline order, whatever list they are in.
      for (;;) {
        const now = this.#now();
        const first = this.#earliest();
        if (first === undefined || first.at > now) break;
        this.remove(first);
        first.expire();
      }
    } finally {
      this.#firing = false;
      const next = this.#earliest();
      if (next !== undefined) this.#arm(next.at);
    }
  };

  /** The earliest pending entry; drops the lists left empty. */
  #earliest(): DeadlineEntry | undefined {
    let first: DeadlineEntry | undefined;
    for (const [key, list] of this.#lists) {
      const head = list.head;
      if (head === undefined) this.#lists.delete(key);
      else if (first === undefined || head.at < first.at) first = head;
    }
    return first;
  }
}

/** Appends `entry`, or puts it in order from the tail when an entry there expires later. */
function insert(list: DeadlineList, entry: DeadlineEntry): void {
  let before = list.tail;
  while (before !== undefined && before.at > entry.at) before = before.deadlinePrev;
  const after = before === undefined ? list.head : before.deadlineNext;
  entry.deadlineList = list;
  entry.deadlinePrev = before;
  entry.deadlineNext = after;
  if (before === undefined) list.head = entry;
  else before.deadlineNext = entry;
  if (after === undefined) list.tail = entry;
  else after.deadlinePrev = entry;
}

function unlink(list: DeadlineList, entry: DeadlineEntry): void {
  const { deadlinePrev: prev, deadlineNext: next } = entry;
  if (prev === undefined) list.head = next;
  else prev.deadlineNext = next;
  if (next === undefined) list.tail = prev;
  else next.deadlinePrev = prev;
  entry.deadlineList = undefined;
  entry.deadlinePrev = undefined;
  entry.deadlineNext = undefined;
}

/** The sidecar's deadlines: one timer for every request deadline in the process. */
export const deadlines = new Deadlines();
