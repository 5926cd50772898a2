import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A test host the VM can reach: a network namespace with a veth pair (10.213.7.1 here,
 * 10.213.7.2 inside), running an HTTP server, a TLS server with a test CA, and `git daemon`.
 * The e2e server opens exactly this /30 (NET_ALLOW) and resolves only its name (NET_HOSTS,
 * NET_RESOLVER=hosts; playwright.config.ts). Needs root; `stop()` removes everything.
 */
export const NET_HOST_IP = '10.213.7.2';
export const NET_HOST_NAME = 'lab.tandem.test';
const NS = 'tandem-e2e-net';
const VETH = 'tdm-e2e0';
const PEER = 'tdm-e2e1';
export const HTTP_PORT = 8080;
export const TLS_PORT = 8443;

export interface NetHost {
  dir: string;
  blobSha256: string;
  blobBytes: number;
  stop(): void;
}

export const netHostAvailable = () => process.getuid?.() === 0 && fs.existsSync('/usr/sbin/ip') && fs.existsSync('/usr/lib/git-core/git-daemon');

const run = (cmd: string, args: string[], opts: { cwd?: string } = {}) => execFileSync(cmd, args, { stdio: 'pipe', ...opts });
const quiet = (cmd: string, args: string[]) => {
  try {
    run(cmd, args);
  } catch {
    /* already gone */
  }
};

/** The servers inside the namespace: static files on HTTP and TLS, plus /slow (a download that takes a minute). */
const SERVER_PY = `
import http.server, ssl, sys, threading, time, os
os.chdir(sys.argv[1])
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == '/slow':
            self.send_response(200); self.send_header('Content-Length', str(64 * 1024 * 600)); self.end_headers()
            try:
                for _ in range(600):
                    self.wfile.write(b'x' * 64 * 1024); self.wfile.flush(); time.sleep(0.1)
            except Exception: pass
            return
        return super().do_GET()
class S(http.server.ThreadingHTTPServer): daemon_threads = True
plain = S(('${NET_HOST_IP}', ${HTTP_PORT}), H)
tls = S(('${NET_HOST_IP}', ${TLS_PORT}), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain('tls/server.pem', 'tls/server.key')
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
threading.Thread(target=tls.serve_forever, daemon=True).start()
print('ready', flush=True)
plain.serve_forever()
`;

export async function startNetHost(): Promise<NetHost> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-nethost-'));
  const procs: ChildProcess[] = [];
  const stop = () => {
    for (const p of procs) p.kill('SIGKILL');
    quiet('ip', ['netns', 'delete', NS]);
    quiet('ip', ['link', 'delete', VETH]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  stop(); // a previous run that died leaves nothing in the way
  fs.mkdirSync(dir, { recursive: true });
  try {
    run('ip', ['netns', 'add', NS]);
    run('ip', ['link', 'add', VETH, 'type', 'veth', 'peer', 'name', PEER]);
    run('ip', ['link', 'set', PEER, 'netns', NS]);
    run('ip', ['addr', 'add', '10.213.7.1/30', 'dev', VETH]);
    run('ip', ['link', 'set', VETH, 'up']);
    run('ip', ['netns', 'exec', NS, 'ip', 'addr', 'add', `${NET_HOST_IP}/30`, 'dev', PEER]);
    run('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', PEER, 'up']);
    run('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);

    fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello from the test host\n');
    const blob = crypto.randomBytes(4 * 1024 * 1024);
    fs.writeFileSync(path.join(dir, 'blob.bin'), blob);
    // A test CA and a server certificate for the test host's name.
    const tls = path.join(dir, 'tls');
    fs.mkdirSync(tls);
    // Valid from a day ago: a VM restored from a boot snapshot runs its clock from when the snapshot
    // was taken, so a certificate made this minute would be "not yet valid" in the guest.
    const utc = (ms: number) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
    const [from, to] = [utc(Date.now() - 86_400_000), utc(Date.now() + 2 * 86_400_000)];
    fs.writeFileSync(path.join(tls, 'index.txt'), '');
    fs.writeFileSync(path.join(tls, 'serial'), '01\n');
    fs.writeFileSync(
      path.join(tls, 'ca.cnf'),
      ['[ca]', 'default_ca = d', '[d]', 'database = index.txt', 'new_certs_dir = .', 'serial = serial', 'default_md = sha256',
        'policy = p', 'unique_subject = no', '[p]', 'commonName = supplied',
        '[v3_ca]', 'basicConstraints = critical,CA:true', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash',
        '[srv]', `subjectAltName = DNS:${NET_HOST_NAME}`, 'basicConstraints = CA:false', ''].join('\n'),
    );
    const sign = (args: string[]) => run('openssl', ['ca', '-batch', '-notext', '-config', 'ca.cnf', '-startdate', from, '-enddate', to, ...args], { cwd: tls });
    run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=Tandem e2e CA', '-keyout', 'ca.key', '-out', 'ca.csr'], { cwd: tls });
    sign(['-selfsign', '-keyfile', 'ca.key', '-in', 'ca.csr', '-extensions', 'v3_ca', '-out', 'ca.pem']);
    run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${NET_HOST_NAME}`, '-keyout', 'server.key', '-out', 'server.csr'], { cwd: tls });
    sign(['-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', 'server.csr', '-extensions', 'srv', '-out', 'server.pem']);
    fs.copyFileSync(path.join(tls, 'ca.pem'), path.join(dir, 'ca.pem'));
    // A git repository for git://.
    const repo = path.join(dir, 'git', 'demo.git');
    const work = path.join(dir, 'demo');
    fs.mkdirSync(work, { recursive: true });
    fs.writeFileSync(path.join(work, 'README'), 'cloned over git:// through Tandem\n');
    run('git', ['init', '-q', '-b', 'main'], { cwd: work });
    run('git', ['-c', 'user.email=e2e@tandem.test', '-c', 'user.name=e2e', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: work });
    run('git', ['add', 'README'], { cwd: work });
    run('git', ['-c', 'user.email=e2e@tandem.test', '-c', 'user.name=e2e', 'commit', '-q', '-m', 'readme'], { cwd: work });
    run('git', ['clone', '-q', '--bare', work, repo]);

    fs.writeFileSync(path.join(dir, 'server.py'), SERVER_PY);
    const web = spawn('ip', ['netns', 'exec', NS, 'python3', path.join(dir, 'server.py'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(web);
    await new Promise<void>((resolve, reject) => {
      web.stdout!.once('data', () => resolve());
      web.once('exit', (c) => reject(new Error(`test host web server exited (${c})`)));
    });
    const git = spawn(
      'ip',
      ['netns', 'exec', NS, 'git', 'daemon', '--reuseaddr', '--export-all', `--base-path=${path.join(dir, 'git')}`, `--listen=${NET_HOST_IP}`, '--port=9418'],
      { stdio: 'ignore' },
    );
    procs.push(git);
    return { dir, blobSha256: crypto.createHash('sha256').update(blob).digest('hex'), blobBytes: blob.length, stop };
  } catch (e) {
    stop();
    throw e;
  }
}
