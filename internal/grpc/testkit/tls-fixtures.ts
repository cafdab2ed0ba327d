import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files of a throw-away PKI in a temporary directory. */
export interface TlsFixtures {
  dir: string;
  caCert: string;
  /** Server certificate for 127.0.0.1, ::1 and localhost, signed by `caCert`. */
  serverCert: string;
  serverKey: string;
  /** Client certificate (extendedKeyUsage clientAuth) signed by `caCert`. */
  clientCert: string;
  clientKey: string;
  /** A second CA: trusting only it must fail. It signed only `otherPeerCert`. */
  otherCaCert: string;
  /** Raft peer certificate (serverAuth and clientAuth, 127.0.0.1 and localhost) signed by `caCert`. */
  peerCert: string;
  peerKey: string;
  /** The same kind of peer certificate signed by `otherCaCert`: a peer of no cluster trusting `caCert`. */
  otherPeerCert: string;
  otherPeerKey: string;
  /** Removes the directory. */
  remove(): void;
}

/** Whether an `openssl` binary can be run; tests that need certificates skip with this reason otherwise. */
export function opensslMissing(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch (e: unknown) {
    return `openssl not runnable (${e instanceof Error ? e.message : String(e)}); TLS tests skipped`;
  }
}

/**
 * Generates a CA, a server and a client certificate (P-256, valid one day) with the openssl CLI.
 * @throws Error with openssl's stderr when a command fails.
 */
export function createTlsFixtures(): TlsFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'opengslb-grpc-tls-'));
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const newKey = (name: string): void =>
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path(name));
  const newCa = (name: string, cn: string): void => {
    newKey(`${name}.key`);
    openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      path(`${name}.key`),
      '-out',
      path(`${name}.pem`),
      '-days',
      '1',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  };
  const issue = (name: string, cn: string, extensions: string, ca = 'ca'): void => {
    newKey(`${name}.key`);
    openssl('req', '-new', '-key', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', `/CN=${cn}`);
    writeFileSync(path(`${name}.ext`), extensions);
    openssl(
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path(`${ca}.pem`),
      '-CAkey',
      path(`${ca}.key`),
      '-CAcreateserial',
      '-out',
      path(`${name}.pem`),
      '-days',
      '1',
      '-extfile',
      path(`${name}.ext`),
    );
  };
  try {
    newCa('ca', 'OpenGSLB test CA');
    newCa('other-ca', 'Unrelated test CA');
    issue(
      'server',
      'localhost',
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    );
    issue('client', 'agent-1', 'extendedKeyUsage=clientAuth\n');
    const peer = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n';
    issue('peer', 'raft-peer', peer);
    issue('other-peer', 'raft-peer', peer, 'other-ca');
  } catch (e: unknown) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = typeof e === 'object' && e !== null && 'stderr' in e ? String(e.stderr) : '';
    throw new Error(`openssl failed: ${e instanceof Error ? e.message : String(e)} ${stderr}`, { cause: e });
  }
  return {
    dir,
    caCert: path('ca.pem'),
    serverCert: path('server.pem'),
    serverKey: path('server.key'),
    clientCert: path('client.pem'),
    clientKey: path('client.key'),
    otherCaCert: path('other-ca.pem'),
    peerCert: path('peer.pem'),
    peerKey: path('peer.key'),
    otherPeerCert: path('other-peer.pem'),
    otherPeerKey: path('other-peer.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
