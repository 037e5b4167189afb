import { expect } from 'chai';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { guardResets, H2_SESSION_LIMITS, startWhenRead } from '../../src/listen/h2-reset-guard';

const { NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/** An h2c server whose streams go through startWhenRead and whose sessions are guarded; `answer` decides per path. */
async function server(answer: (path: string) => boolean): Promise<{ port: number; started: string[]; closedSessions: () => number; close: () => Promise<void> }> {
  const started: string[] = [];
  let closedSessions = 0;
  const h2 = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (s) => {
    sessions.add(s);
    s.on('error', () => undefined);
    guardResets(s, () => (closedSessions += 1));
  });
  h2.on('stream', (stream, headers) =>
    startWhenRead(stream, () => {
      const path = String(headers[':path']);
      started.push(path);
      if (answer(path)) stream.respond({ ':status': 200 }, { endStream: true });
    }),
  );
  await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
  return {
    port: (h2.address() as AddressInfo).port,
    started,
    closedSessions: () => closedSessions,
    close: () =>
      new Promise((resolve) => {
        for (const s of sessions) s.destroy();
        h2.close(() => resolve());
      }),
  };
}

async function client(port: number): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  await new Promise((resolve) => session.once('remoteSettings', resolve));
  return session;
}

function get(session: http2.ClientHttp2Session, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path });
    req.on('response', (h) => resolve(Number(h[':status'])));
    req.on('error', reject);
    req.end();
  });
}

describe('h2-reset-guard', () => {
  it('never starts a stream whose RST_STREAM came in the same read as its HEADERS, and starts the others', async () => {
    const s = await server(() => true);
    const c = await client(s.port);
    try {
      expect(await get(c, '/first')).to.equal(200);
      // Each request and its reset go out in one write: the server reads both at once.
      for (let i = 0; i < 20; i++) c.request({ ':path': `/reset/${i}` }).on('error', () => undefined).close(NGHTTP2_CANCEL);
      expect(await get(c, '/last')).to.equal(200);
      expect(s.started).to.deep.equal(['/first', '/last']);
    } finally {
      c.destroy();
      await s.close();
    }
  });

  it(`closes a session past ${H2_SESSION_LIMITS.resetLimit} resets of unanswered streams with GOAWAY ENHANCE_YOUR_CALM, reporting it once`, async () => {
    const s = await server(() => false);
    const c = await client(s.port);
    try {
      const goaway = new Promise<number>((resolve) => c.once('goaway', resolve));
      const closed = new Promise((resolve) => c.once('close', resolve));
      for (let i = 0; i < H2_SESSION_LIMITS.resetLimit * 3 && !c.closed && !c.destroyed; i++) {
        c.request({ ':path': `/r/${i}` }).on('error', () => undefined).close(NGHTTP2_CANCEL);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(await goaway).to.equal(NGHTTP2_ENHANCE_YOUR_CALM);
      await closed;
      expect(s.closedSessions()).to.equal(1);
    } finally {
      c.destroy();
      await s.close();
    }
  });

  it('keeps a session whose resets stay at most half of its streams, however many', async () => {
    const s = await server((path) => path.startsWith('/ok'));
    const c = await client(s.port);
    try {
      for (let i = 0; i < H2_SESSION_LIMITS.resetLimit * 2; i++) {
        expect(await get(c, `/ok/${i}`)).to.equal(200);
        const held = c.request({ ':path': `/held/${i}` });
        held.on('error', () => undefined);
        while (!s.started.includes(`/held/${i}`)) await new Promise((resolve) => setTimeout(resolve, 1));
        held.close(NGHTTP2_CANCEL); // the server has it and has not answered: a premature reset
      }
      expect(await get(c, '/ok/last')).to.equal(200);
      expect([s.closedSessions(), c.closed]).to.deep.equal([0, false]);
    } finally {
      c.destroy();
      await s.close();
    }
  });
});
