import { randomBytes } from 'node:crypto';
import type { ObserveReply, ObserveRequest, ProxyAnswer, TapStart } from '@weft/api';

/** What the hub needs of one open discovery stream. */
export interface ObservableProxy {
  readonly proxyId: string;
  readonly service: string;
  readonly namespace: string;
  /** Sends `request` on the stream; false when the proxy cannot take it (an older sidecar, or the stream is gone). */
  observe(request: ObserveRequest): boolean;
}

/** The answers to one fan-out: the replies of the proxies that answered, and how each proxy answered. */
export interface Gathered {
  readonly replies: ReadonlyMap<string, ObserveReply>;
  readonly proxies: ProxyAnswer[];
}

/** An open tap: its proxies, and `stop()` to end it on every one of them. */
export interface OpenTap {
  readonly proxies: ProxyAnswer[];
  stop(): void;
}

interface Pending {
  readonly onReply: (proxyId: string, reply: ObserveReply) => void;
}

const answerOf = (p: ObservableProxy, state: ProxyAnswer['state'], error = ''): ProxyAnswer => ({ proxyId: p.proxyId, service: p.service, namespace: p.namespace, state, error });

/**
 * Asks connected proxies about their traffic over their discovery streams, and routes their
 * replies back by request id. Nothing is sent unless an operator asks (Admin.Stat, Edges, Tap),
 * and a question is one small message per proxy: at 1,000 proxies, `weftctl stat` is 1,000
 * messages out and 1,000 summaries back, once, instead of a scrape of each proxy every second.
 */
export class ObserveHub {
  readonly #proxies: () => Iterable<ObservableProxy>;
  readonly #pending = new Map<string, Pending>();

  constructor(proxies: () => Iterable<ObservableProxy>) {
    this.#proxies = proxies;
  }

  /** A reply from a proxy's stream; one for a request no longer pending is dropped. */
  deliver(proxyId: string, reply: ObserveReply): void {
    this.#pending.get(reply.id)?.onReply(proxyId, reply);
  }

  /**
   * Sends `question` to every proxy that can answer and waits for each one's reply, up to
   * `timeoutMs`; a proxy that did not answer in time is listed as `no-answer`.
   */
  gather(question: Omit<ObserveRequest, 'id'>, timeoutMs: number): Promise<Gathered> {
    const id = newId();
    const replies = new Map<string, ObserveReply>();
    const answers = new Map<string, ProxyAnswer>();
    const waiting = new Set<string>();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve({ replies, proxies: [...answers.values()] });
      };
      this.#pending.set(id, {
        onReply: (proxyId, reply) => {
          if (!waiting.delete(proxyId)) return;
          const answer = answers.get(proxyId) as ProxyAnswer;
          if (reply.error) answers.set(proxyId, { ...answer, state: 'error', error: reply.error });
          else {
            answers.set(proxyId, { ...answer, state: 'ok' });
            replies.set(proxyId, reply);
          }
          if (waiting.size === 0) finish();
        },
      });
      for (const proxy of this.#proxies()) {
        if (proxy.observe({ ...question, id })) {
          waiting.add(proxy.proxyId);
          answers.set(proxy.proxyId, answerOf(proxy, 'no-answer'));
        } else answers.set(proxy.proxyId, answerOf(proxy, 'unsupported'));
      }
      if (waiting.size === 0) finish();
      else timer = setTimeout(finish, timeoutMs);
    });
  }

  /** Starts a tap on every proxy that can take one; `onReply` gets their batches until `stop()`. */
  openTap(start: TapStart, onReply: (proxyId: string, reply: ObserveReply) => void): OpenTap {
    const id = newId();
    const tapped: ObservableProxy[] = [];
    const proxies: ProxyAnswer[] = [];
    this.#pending.set(id, { onReply });
    for (const proxy of this.#proxies()) {
      const ok = proxy.observe({ id, tap: start });
      if (ok) tapped.push(proxy);
      proxies.push(answerOf(proxy, ok ? 'ok' : 'unsupported'));
    }
    let stopped = false;
    return {
      proxies,
      stop: () => {
        if (stopped) return;
        stopped = true;
        this.#pending.delete(id);
        for (const proxy of tapped) proxy.observe({ id, tapStop: true });
      },
    };
  }
}

const newId = (): string => randomBytes(9).toString('base64url');
