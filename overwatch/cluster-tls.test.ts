import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTlsFixtures, opensslMissing } from '../internal/grpc/testkit/tls-fixtures.js';
import { raftCredentials } from './cluster-tls.js';

describe('raftCredentials', () => {
  it('is plaintext with no file set', () => {
    assert.equal(raftCredentials({ certFile: '', keyFile: '', caFile: '' }).client.tls, false);
  });
  it("gives every Raft-port client the Raft reconnect backoff (grpc-js's default rises to 120 s)", () => {
    const { options } = raftCredentials({ certFile: '', keyFile: '', caFile: '' }).client;
    assert.equal(options['grpc.initial_reconnect_backoff_ms'], 100);
    assert.equal(options['grpc.max_reconnect_backoff_ms'], 1000);
  });
  it('refuses a partial setting', () => {
    assert.throws(
      () => raftCredentials({ certFile: '/x.pem', keyFile: '/x.key', caFile: '' }),
      /cluster\.raft\.tls: cert_file, key_file and ca_file must be set together/,
    );
  });
  it('names an unreadable file', () => {
    assert.throws(
      () =>
        raftCredentials({
          certFile: '/nonexistent/peer.pem',
          keyFile: '/nonexistent/peer.key',
          caFile: '/nonexistent/ca.pem',
        }),
      /^Error: cluster\.raft\.tls: cannot read certificate file \/nonexistent\/peer\.pem: no such file or directory/,
    );
  });
  it('builds mutual TLS from a peer certificate', { skip: opensslMissing() }, () => {
    const pki = createTlsFixtures();
    try {
      const c = raftCredentials({ certFile: pki.peerCert, keyFile: pki.peerKey, caFile: pki.caCert });
      assert.equal(c.client.tls, true);
      assert.throws(
        () => raftCredentials({ certFile: pki.peerCert, keyFile: pki.clientKey, caFile: pki.caCert }),
        /cluster\.raft\.tls: unusable PEM/,
        'a key that does not match its certificate',
      );
    } finally {
      pki.remove();
    }
  });
});
