import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { ServerCredentials } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../gen/grpc/health/v1/health_pb.js';
import type { ClientTlsFiles } from './credentials.js';
import { channelCredentials, serverCredentials } from './credentials.js';
import { GrpcError } from './grpc-error.js';
import { addHealth } from './health.js';
import { startLoopback } from './testkit/loopback.js';
import type { TlsFixtures } from './testkit/tls-fixtures.js';
import { createTlsFixtures, opensslMissing } from './testkit/tls-fixtures.js';

/** Starts a Health server with `creds` and calls Check once with a client built from `client`. */
async function check(
  t: TestContext,
  creds: ServerCredentials,
  client: ClientTlsFiles,
): Promise<ServingStatus> {
  const lb = await startLoopback(t, (server, log) => addHealth(server, log), creds);
  const setup = channelCredentials(client);
  const response = await lb.client(Health, setup.credentials, setup.options).check({}, { timeoutMs: 5000 });
  return response.status;
}

async function refused(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof GrpcError, `expected a GrpcError, got ${String(e)}`);
    assert.equal(e.code, status.UNAVAILABLE, `status (details: ${e.message})`);
    return true;
  });
}

describe('credentials end to end', { skip: opensslMissing() }, () => {
  let pki: TlsFixtures;
  before(() => {
    pki = createTlsFixtures();
  });
  after(() => pki.remove());

  const tlsServer = (): ServerCredentials =>
    serverCredentials({ certFile: pki.serverCert, keyFile: pki.serverKey });
  const mtlsServer = (): ServerCredentials =>
    serverCredentials({ certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFile: pki.caCert });

  it('TLS: a client trusting the CA gets an answer', async (t) => {
    assert.equal(await check(t, tlsServer(), { caFile: pki.caCert }), ServingStatus.SERVING);
  });

  it('TLS: a client trusting another CA is refused', async (t) => {
    await refused(check(t, tlsServer(), { caFile: pki.otherCaCert }));
  });

  it('TLS: a plaintext client is refused', async (t) => {
    await refused(check(t, tlsServer(), {}));
  });

  it('TLS: serverName replaces the dialled host in verification', async (t) => {
    assert.equal(
      await check(t, tlsServer(), { caFile: pki.caCert, serverName: 'localhost' }),
      ServingStatus.SERVING,
    );
    await refused(check(t, tlsServer(), { caFile: pki.caCert, serverName: 'other.example' }));
  });

  it('mTLS: a client with a certificate from the CA gets an answer', async (t) => {
    const client = { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey };
    assert.equal(await check(t, mtlsServer(), client), ServingStatus.SERVING);
  });

  it('mTLS: a client without a certificate is refused', async (t) => {
    await refused(check(t, mtlsServer(), { caFile: pki.caCert }));
  });

  it('rejects a key that does not belong to the certificate, naming both files', () => {
    assert.throws(
      () => serverCredentials({ certFile: pki.serverCert, keyFile: pki.clientKey }),
      (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.ok(
          e.message.startsWith(`gRPC TLS: unusable PEM in ${pki.serverCert}, ${pki.clientKey}: `),
          e.message,
        );
        return true;
      },
    );
  });

  it('rejects a file that is not PEM', () => {
    const junk = join(pki.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    assert.throws(
      () => channelCredentials({ caFile: junk }),
      new RegExp(`^Error: gRPC TLS: unusable PEM in ${junk}: `),
    );
  });
});

describe('serverCredentials', () => {
  it('is plaintext without certificate and key', () => {
    assert.equal(serverCredentials({})._isSecure(), false);
    assert.equal(serverCredentials({ certFile: '', keyFile: '', clientCaFile: '' })._isSecure(), false);
  });

  const errors: { name: string; files: Parameters<typeof serverCredentials>[0]; message: string }[] = [
    {
      name: 'certificate without key',
      files: { certFile: '/etc/opengslb/tls.crt' },
      message: 'gRPC TLS: certificate and key files must be set together (one of them is empty)',
    },
    {
      name: 'client CA without certificate',
      files: { clientCaFile: '/etc/opengslb/ca.pem' },
      message: 'gRPC TLS: a client CA file needs a server certificate and key file',
    },
    {
      name: 'missing file',
      files: { certFile: '/nonexistent/tls.crt', keyFile: '/nonexistent/tls.key' },
      message:
        'gRPC TLS: cannot read certificate file /nonexistent/tls.crt: no such file or directory (ENOENT)',
    },
  ];
  for (const c of errors) {
    it(`refuses ${c.name}`, () => assert.throws(() => serverCredentials(c.files), { message: c.message }));
  }
});

describe('channelCredentials', () => {
  it('is plaintext when nothing is set and tls is not requested', () => {
    const setup = channelCredentials({ serverName: 'ignored.example' });
    assert.equal(setup.tls, false);
    assert.equal(setup.credentials._isSecure(), false);
    assert.deepEqual(setup.options, {});
  });

  it('uses TLS with the system roots when only tls is set', () => {
    const setup = channelCredentials({ tls: true, serverName: 'overwatch.example' });
    assert.equal(setup.tls, true);
    assert.equal(setup.credentials._isSecure(), true);
    assert.deepEqual(setup.options, { 'grpc.ssl_target_name_override': 'overwatch.example' });
  });

  const errors: { name: string; files: ClientTlsFiles; message: string }[] = [
    {
      name: 'certificate without key',
      files: { certFile: '/etc/opengslb/agent.crt' },
      message: 'gRPC TLS: client certificate and key files must be set together (one of them is empty)',
    },
    {
      name: 'missing CA file',
      files: { caFile: '/nonexistent/ca.pem' },
      message: 'gRPC TLS: cannot read CA file /nonexistent/ca.pem: no such file or directory (ENOENT)',
    },
  ];
  for (const c of errors) {
    it(`refuses ${c.name}`, () => assert.throws(() => channelCredentials(c.files), { message: c.message }));
  }
});
