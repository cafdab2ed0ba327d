import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { ChannelOptions } from '@grpc/grpc-js';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';

/** PEM files for a gRPC server; empty or absent means unset. */
export interface ServerTlsFiles {
  /** Certificate chain presented to clients. With `keyFile` empty as well, the server is plaintext. */
  certFile?: string | undefined;
  /** Private key of `certFile`. */
  keyFile?: string | undefined;
  /** CA bundle for client certificates: when set, every client must present a certificate it signed (mTLS). */
  clientCaFile?: string | undefined;
}

/** TLS settings for a gRPC client; empty or absent means unset. */
export interface ClientTlsFiles {
  /** Use TLS even when no file is set, verifying the server against the system roots. */
  tls?: boolean | undefined;
  /** CA bundle that must have signed the server's certificate; default: the system roots. */
  caFile?: string | undefined;
  /** Client certificate chain for mTLS; requires `keyFile`. */
  certFile?: string | undefined;
  /** Private key of `certFile`. */
  keyFile?: string | undefined;
  /** Name to verify in the server certificate (and send as SNI) instead of the dialled host. TLS only. */
  serverName?: string | undefined;
}

/** Credentials plus the channel options they need, for `createClient(desc, address, credentials, options)`. */
export interface ChannelSetup {
  credentials: ChannelCredentials;
  options: ChannelOptions;
  /** Whether the channel uses TLS, for logs. */
  tls: boolean;
}

/**
 * Server credentials: plaintext when certificate and key are both unset, TLS otherwise, mutual TLS (client
 * certificate required and verified) when `clientCaFile` is set. Files are read and checked now, so a bad path
 * or a key that does not match its certificate fails at start-up with the file named.
 * @throws Error like `gRPC TLS: cannot read key file /etc/opengslb/tls.key: no such file or directory (ENOENT)`.
 */
export function serverCredentials(files: ServerTlsFiles): ServerCredentials {
  const certFile = files.certFile ?? '';
  const keyFile = files.keyFile ?? '';
  const clientCaFile = files.clientCaFile ?? '';
  if (certFile === '' && keyFile === '') {
    if (clientCaFile !== '')
      throw new Error('gRPC TLS: a client CA file needs a server certificate and key file');
    return ServerCredentials.createInsecure();
  }
  if (certFile === '' || keyFile === '') {
    throw new Error('gRPC TLS: certificate and key files must be set together (one of them is empty)');
  }
  const cert = readPem('certificate', certFile);
  const key = readPem('key', keyFile);
  const ca = clientCaFile === '' ? null : readPem('client CA', clientCaFile);
  checkPem({ cert, key, ...(ca === null ? {} : { ca }) }, [certFile, keyFile, clientCaFile]);
  return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
}

/**
 * Client credentials: plaintext when `tls` is false and no file is set; otherwise TLS verifying the server
 * against `caFile` (the system roots when empty), with a client certificate when `certFile`/`keyFile` are set.
 * `serverName` becomes `grpc.ssl_target_name_override`.
 * @throws Error naming an unreadable or unusable file, or a certificate without its key.
 */
export function channelCredentials(files: ClientTlsFiles): ChannelSetup {
  const caFile = files.caFile ?? '';
  const certFile = files.certFile ?? '';
  const keyFile = files.keyFile ?? '';
  const serverName = files.serverName ?? '';
  if (files.tls !== true && caFile === '' && certFile === '' && keyFile === '') {
    return { credentials: ChannelCredentials.createInsecure(), options: {}, tls: false };
  }
  if ((certFile === '') !== (keyFile === '')) {
    throw new Error('gRPC TLS: client certificate and key files must be set together (one of them is empty)');
  }
  const ca = caFile === '' ? null : readPem('CA', caFile);
  const cert = certFile === '' ? null : readPem('certificate', certFile);
  const key = keyFile === '' ? null : readPem('key', keyFile);
  checkPem(
    { ...(ca === null ? {} : { ca }), ...(cert === null ? {} : { cert }), ...(key === null ? {} : { key }) },
    [caFile, certFile, keyFile],
  );
  return {
    credentials: ChannelCredentials.createSsl(ca, key, cert),
    options: serverName === '' ? {} : { 'grpc.ssl_target_name_override': serverName },
    tls: true,
  };
}

function readPem(what: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e: unknown) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : undefined;
    const reason =
      code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : undefined;
    const text = reason === undefined ? (e instanceof Error ? e.message : String(e)) : `${reason} (${code})`;
    throw new Error(`gRPC TLS: cannot read ${what} file ${file}: ${text}`, { cause: e });
  }
}

/**
 * Parses the PEM material the way the TLS handshake will, so garbage or a key that does not belong to its
 * certificate fails here with the files named instead of at the first connection.
 */
function checkPem(material: { cert?: Buffer; key?: Buffer; ca?: Buffer }, files: string[]): void {
  try {
    // The TLS context silently ignores a CA bundle without certificates; X509Certificate parses the first one.
    if (material.ca !== undefined) new X509Certificate(material.ca);
    createSecureContext(material);
  } catch (e: unknown) {
    const named = files.filter((f) => f !== '').join(', ');
    throw new Error(`gRPC TLS: unusable PEM in ${named}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}
