/**
 * Rules that span several keys of the agent configuration. They run after the schema walk, on the loaded
 * value, so they see defaults too. Paths use the YAML (snake_case) keys an operator finds in the file.
 */
import type { AgentConfig, ErrorRateSourceConfig, HostSignalSourceConfig } from './agent-schema.js';
import { formatPath, type PathSegment, type Problem } from './validate.js';

/** Every cross-key problem of `c`, in file order. */
export function crossCheckAgent(c: AgentConfig): Problem[] {
  const problems: Problem[] = [];
  const a = c.agent;
  const at = (...path: PathSegment[]): PathSegment[] => ['agent', ...path];

  if (a.overwatch.addresses.length === 0) {
    problems.push({
      path: at('overwatch', 'addresses'),
      message: 'must list at least one overwatch gRPC address, e.g. ["10.0.1.1:9443"]',
    });
  }
  if (a.overwatch.token !== '' && a.overwatch.tokenFile !== '') {
    problems.push({
      path: at('overwatch', 'token_file'),
      message: 'cannot be combined with agent.overwatch.token (set one of them)',
    });
  }
  const tls = a.overwatch.tls;
  if ((tls.certFile === '') !== (tls.keyFile === '')) {
    const [missing, present] = tls.certFile === '' ? ['cert_file', 'key_file'] : ['key_file', 'cert_file'];
    problems.push({
      path: at('overwatch', 'tls', missing),
      message: `is required when agent.overwatch.tls.${present} is set`,
    });
  }

  if (a.backends.length === 0) {
    problems.push({ path: at('backends'), message: 'must list at least one backend' });
  }
  const seen = new Map<string, number>();
  a.backends.forEach((b, i) => {
    const key = `${b.service} ${b.address} ${b.port}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else {
      problems.push({
        path: at('backends', i),
        message: `duplicate backend ${b.service} ${b.address}:${b.port} (also at ${formatPath(at('backends', first))})`,
      });
    }
    const hc = b.healthCheck;
    if (hc.timeoutMs > hc.intervalMs) {
      problems.push({
        path: at('backends', i, 'health_check', 'timeout'),
        message: `must not exceed health_check.interval (${hc.timeoutMs}ms > ${hc.intervalMs}ms)`,
      });
    }
  });

  const p = a.predictive;
  problems.push(...checkHostSource(p.cpu.source, at('predictive', 'cpu', 'source')));
  problems.push(...checkHostSource(p.memory.source, at('predictive', 'memory', 'source')));
  problems.push(...checkErrorRateSource(p.errorRate.source, at('predictive', 'error_rate', 'source')));
  return problems;
}

function checkHostSource(s: HostSignalSourceConfig, path: PathSegment[]): Problem[] {
  if (s.type === 'file' && s.path === '') {
    return [{ path: [...path, 'path'], message: 'is required when type is file' }];
  }
  if (s.type !== 'file' && s.path !== '') {
    return [{ path: [...path, 'path'], message: `is only used when type is file (type is ${s.type})` }];
  }
  return [];
}

function checkErrorRateSource(s: ErrorRateSourceConfig, path: PathSegment[]): Problem[] {
  if (s.type !== 'prometheus') {
    return s.url === ''
      ? []
      : [{ path: [...path, 'url'], message: `is only used when type is prometheus (type is ${s.type})` }];
  }
  if (s.url === '') return [{ path: [...path, 'url'], message: 'is required when type is prometheus' }];
  const bad = checkScrapeUrl(s.url);
  return bad === undefined ? [] : [{ path: [...path, 'url'], message: bad }];
}

/** An absolute http(s) URL with a host. */
export function checkScrapeUrl(text: string): string | undefined {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  return url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:') && url.host !== ''
    ? undefined
    : `must be an http:// or https:// URL like "http://127.0.0.1:8080/metrics" (got ${JSON.stringify(text)})`;
}
