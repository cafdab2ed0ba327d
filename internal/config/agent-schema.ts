/**
 * The agent (`opengslb-agent`) configuration: DESIGN.md section 7a, "Agent file". The generated reference in
 * docs/agent-configuration.md comes from this tree. Thresholds are not here: they are the overwatch's
 * `cluster.predictive_health` policy, sent to the agent when it connects.
 *
 * The schema DSL has no tagged unions, so each signal `source` is one mapping with a `type` and the fields of
 * every type; agent-checks.ts requires the fields the chosen type needs and rejects the ones it ignores.
 */
import {
  checkDomainName,
  checkHostPort,
  checkIp,
  checkName,
  checkStatusRanges,
  isHostname,
  parseHostPort,
} from './checks.js';
import { checkLabelSelector } from './label-selector.js';
import { bool, duration, type Infer, int, list, obj, str } from './schema.js';

const S = 1000;

/** An address the agent dials: `host:port` with a host (`:9443` alone names no machine). */
export function checkDialAddress(text: string): string | undefined {
  const hp = parseHostPort(text);
  return hp === undefined || hp.host === ''
    ? `must be host:port with a host and a port 1..65535, e.g. "10.0.1.1:9443" or "overwatch-1:9443" (got ${JSON.stringify(text)})`
    : undefined;
}

/** An IP literal or a host name, for the local check target; empty means "the backend's address". */
function checkOptionalHost(text: string): string | undefined {
  if (text === '' || isHostname(text) || checkIp(text) === undefined) return undefined;
  return `must be an IP address or a host name, e.g. "127.0.0.1" or "localhost" (got ${JSON.stringify(text)})`;
}

const pemFile = (what: string) => str({ doc: `Path of the PEM ${what} file.`, default: '' });

const healthCheck = obj(
  {
    type: str({ doc: 'Probe type.', enum: ['http', 'https', 'tcp'] as const, default: 'http' }),
    path: str({ doc: 'HTTP(S) request path.', default: '/health' }),
    host: str({
      doc: 'HTTP Host header (and TLS server name); default: the check address.',
      default: '',
    }),
    interval: duration({
      doc: 'Time between the starts of two local checks of this backend.',
      default: 5 * S,
      minMs: 100,
    }),
    timeout: duration({
      doc: 'Deadline of one check (connect and response); at most `interval`.',
      default: 2 * S,
      minMs: 10,
    }),
    failure_threshold: int({
      doc: 'Consecutive failures before the agent reports the backend unhealthy.',
      default: 3,
      min: 1,
      max: 100,
    }),
    success_threshold: int({
      doc: 'Consecutive successes before the agent reports the backend healthy again.',
      default: 2,
      min: 1,
      max: 100,
    }),
    expected_status: str({
      doc: 'Status codes counted as healthy: codes or ranges, comma separated.',
      default: '200-299',
      check: checkStatusRanges,
    }),
    address: str({
      doc: 'Local check target, e.g. a loopback admin port or a sidecar; default: the backend `address`. The overwatch still validates the backend address itself.',
      default: '',
      check: checkOptionalHost,
    }),
    port: int({ doc: 'Local check port; 0 = the backend `port`.', default: 0, min: 0, max: 65535 }),
  },
  { doc: 'How the agent checks this backend locally.' },
);

const backend = obj(
  {
    service: str({
      doc: 'The service (an overwatch `domains[].name`) this backend serves.',
      check: checkDomainName,
    }),
    address: str({ doc: 'Address handed out in DNS answers for this backend.', check: checkIp }),
    port: int({ doc: 'Service port (validated by the overwatch).', default: 80, min: 1, max: 65535 }),
    weight: int({
      doc: 'Relative share for `weighted` routing; 0 = never chosen.',
      default: 100,
      min: 0,
      max: 1000,
    }),
    health_check: healthCheck,
  },
  { doc: 'A backend this agent registers and reports on.' },
);

const hostSource = (what: string) =>
  obj(
    {
      source: obj(
        {
          type: str({
            doc: `\`host\` measures the machine; \`file\` reads a number (percent) from \`path\` on every report, for tests and demos.`,
            enum: ['host', 'file'] as const,
            default: 'host',
          }),
          path: str({ doc: 'File holding the value; required when `type` is `file`.', default: '' }),
        },
        { doc: `Where the ${what} signal comes from.` },
      ),
    },
    { doc: `Host ${what} signal.` },
  );

/** The agent (`opengslb-agent`) configuration schema. */
export const agentSchema = obj(
  {
    agent: obj(
      {
        id: str({
          doc: 'Agent identity, unique in the cluster and stable across restarts.',
          default: '',
          defaultDoc: 'the host name',
          check: (v) => (v === '' ? undefined : checkName(v)),
        }),
        region: str({ doc: 'Region of this machine; backends are registered in it.', check: checkName }),
        report_interval: duration({
          doc: 'Time between two reports to the overwatch (the overwatch may ask for another).',
          default: 1 * S,
          minMs: 100,
        }),
        overwatch: obj(
          {
            addresses: list(str({ doc: 'host:port', check: checkDialAddress }), {
              doc: 'gRPC addresses of overwatch nodes (`grpc.address`); the agent connects to one and fails over to the next.',
            }),
            token: str({
              doc: 'Agent token for the services of this agent (`cluster.overwatch.agent_tokens`). Prefer `token_file`.',
              default: '',
            }),
            token_file: str({
              doc: 'File holding the token (surrounding whitespace ignored); not together with `token`.',
              default: '',
            }),
            tls: obj(
              {
                ca_file: pemFile('CA'),
                cert_file: pemFile('client certificate'),
                key_file: pemFile('client private key'),
                server_name: str({
                  doc: 'Name to verify in the server certificate; default: the host of the address.',
                  default: '',
                }),
              },
              {
                doc: 'TLS towards the overwatch, used when any key here is set (plaintext otherwise). Empty `ca_file`: the system roots. `cert_file` with `key_file`: mutual TLS.',
              },
            ),
          },
          { doc: 'The overwatch nodes this agent reports to.' },
        ),
        backends: list(backend, { doc: 'Backends on this machine; at least one.' }),
        predictive: obj(
          {
            cpu: hostSource('CPU'),
            memory: hostSource('memory'),
            error_rate: obj(
              {
                source: obj(
                  {
                    type: str({
                      doc: '`health_checks`: percentage of failed local checks over the window; `prometheus`: failed requests from a counter at `url`.',
                      enum: ['health_checks', 'prometheus'] as const,
                      default: 'health_checks',
                    }),
                    url: str({
                      doc: 'Prometheus text endpoint to scrape; required when `type` is `prometheus`.',
                      default: '',
                    }),
                    metric: str({
                      doc: 'Request counter (sample name as exposed, e.g. `http_requests_total`); its series are summed.',
                      default: 'http_requests_total',
                      check: (v) =>
                        /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(v)
                          ? undefined
                          : `must be a Prometheus metric name like "http_requests_total" (got ${JSON.stringify(v)})`,
                    }),
                    error_selector: str({
                      doc: 'Label matchers picking the failed requests among `metric` series: `label="v"`, `label!="v"`, `label=~"re"`, `label!~"re"`, comma separated.',
                      default: 'code=~"5.."',
                      defaultDoc: '`code=~"5.."`',
                      check: checkLabelSelector,
                    }),
                    timeout: duration({
                      doc: 'Deadline of one scrape.',
                      default: 2 * S,
                      minMs: 10,
                      maxMs: 60 * S,
                    }),
                  },
                  { doc: 'Where the error rate comes from.' },
                ),
              },
              { doc: 'Error-rate signal; the window comes from the overwatch policy.' },
            ),
          },
          { doc: 'Signal sources. Thresholds, window and horizon come from the overwatch.' },
        ),
        metrics: obj(
          {
            enabled: bool({ doc: 'Serve Prometheus metrics at `/metrics`.', default: false }),
            address: str({
              doc: "Metrics listen address (9100 is node_exporter's).",
              default: '127.0.0.1:9110',
              check: checkHostPort,
            }),
          },
          { doc: 'Local Prometheus metrics of the agent.' },
        ),
      },
      { doc: 'The agent.' },
    ),
    logging: obj(
      {
        level: str({
          doc: 'Least severe level logged.',
          enum: ['debug', 'info', 'warn', 'error'] as const,
          default: 'info',
        }),
        format: str({
          doc: 'One JSON object per line, or human-readable text.',
          enum: ['json', 'text'] as const,
          default: 'json',
        }),
      },
      { doc: 'Logging.' },
    ),
  },
  { doc: 'OpenGSLB agent configuration.' },
);

/** The loaded agent configuration (camelCase, durations in ms). */
export type AgentConfig = Infer<typeof agentSchema>;
export type AgentBackendConfig = AgentConfig['agent']['backends'][number];
export type AgentHealthCheckConfig = AgentBackendConfig['healthCheck'];
export type AgentPredictiveConfig = AgentConfig['agent']['predictive'];
export type HostSignalSourceConfig = AgentPredictiveConfig['cpu']['source'];
export type ErrorRateSourceConfig = AgentPredictiveConfig['errorRate']['source'];
