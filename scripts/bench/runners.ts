/**
 * Running one generator for one slot and returning its figures: wrk (closed loop, HTTP/1.1),
 * h2load (gRPC over h2c, closed loop or at a fixed rate), and our open-loop HTTP/1.1 generator.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ECHO_PATH } from './grpc-echo';
import { parseH2load, parseH2loadLog, parseWrk, type LoadFigures } from './parse';

/** Where a workload is sent: a loopback port and the Host/authority the proxy routes on. */
export interface Target {
  readonly port: number;
  readonly host: string;
}

function run(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Closed loop: 32 keep-alive connections from one wrk thread, as fast as answers come. */
export async function wrkMax(target: Target, urlPath: string, seconds: number): Promise<LoadFigures> {
  const args = ['-t1', '-c32', `-d${seconds}s`, '--latency', '-H', `Host: ${target.host}`, `http://127.0.0.1:${target.port}${urlPath}`];
  return parseWrk(await run('wrk', args, (seconds + 30) * 1000));
}

/** Open loop at `rate` req/s (see open-loop.ts), in its own process so it does not share our event loop. */
export function openLoopAt(target: Target, urlPath: string, rate: number, seconds: number): Promise<LoadFigures> {
  const script = path.join(__dirname, 'open-loop.js');
  // prettier-ignore
  const args = [script, '--port', String(target.port), '--host', target.host, '--path', urlPath, '--rate', String(rate), '--seconds', String(seconds)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"msg":"result"'));
      if (code !== 0 || !line) return reject(new Error(`open-loop generator failed (exit ${code}): ${err.trim()}`));
      resolve(JSON.parse(line) as LoadFigures);
    });
  });
}

/** A gRPC unary request for h2load: one length-prefixed 64-byte message. */
export function writeGrpcBody(dir: string): string {
  const message = Buffer.alloc(64, 'x');
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(0, 0); // not compressed
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  const file = path.join(dir, 'grpc-request.bin');
  fs.writeFileSync(file, frame);
  return file;
}

/**
 * gRPC unary calls with h2load over h2c. Closed loop (`rate` undefined): 4 connections x 16
 * streams. At a rate: 4 connections each sending rate/4 per second with room for 256 streams in
 * flight, so a slow answer never holds the next request back (h2load times each request from its
 * send; with that much room the send is when it was due).
 */
export async function h2loadGrpc(target: Target, bodyFile: string, seconds: number, logFile: string, rate?: number): Promise<LoadFigures> {
  const clients = 4;
  const load = rate === undefined ? ['-c', String(clients), '-m', '16'] : ['-c', String(clients), '-m', '256', `--rps=${rate / clients}`];
  // prettier-ignore
  const args = [...load, '-D', String(seconds), '--log-file', logFile, '-d', bodyFile,
    '-H', 'content-type: application/grpc', '-H', 'te: trailers', '-H', `:authority: ${target.host}`,
    `http://127.0.0.1:${target.port}${ECHO_PATH}`];
  const summary = await run('h2load', args, (seconds + 30) * 1000);
  const figures = parseH2load(summary, parseH2loadLog(fs.readFileSync(logFile, 'utf8')), rate !== undefined);
  fs.rmSync(logFile, { force: true });
  return figures;
}
