import type { Server } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../gen/grpc/health/v1/health_pb.js';
import { GrpcError } from './grpc-error.js';
import { addService } from './service.js';

export { ServingStatus };

/** Name of the overall server health in grpc.health.v1 (the empty service name). */
export const OVERALL_HEALTH = '';

/** Statuses a server may report; SERVICE_UNKNOWN is only ever sent by Watch for unregistered names. */
export type ReportableStatus = ServingStatus.SERVING | ServingStatus.NOT_SERVING | ServingStatus.UNKNOWN;

/** Sets what grpc.health.v1.Health answers. */
export interface HealthController {
  /** Registers or updates `service` ('' = the whole server); watchers of it get the new status if it changed. */
  set(service: string, servingStatus: ReportableStatus): void;
  /** The current status of `service`, undefined when it was never set. */
  get(service: string): ServingStatus | undefined;
  /**
   * Marks every service NOT_SERVING and ignores later `set` calls: the server is going away, so load balancers
   * and watchers should move on before the listener closes.
   */
  shutdown(): void;
}

/**
 * Serves grpc.health.v1.Health on `server` (https://github.com/grpc/grpc/blob/master/doc/health-checking.md):
 * Check (NOT_FOUND for unknown names), Watch (the current status, then every change; SERVICE_UNKNOWN for unknown
 * names without ending the call; ends when the caller cancels) and List. The overall status starts SERVING.
 */
export function addHealth(server: Server, log: Logger): HealthController {
  const statuses = new Map<string, ServingStatus>([[OVERALL_HEALTH, ServingStatus.SERVING]]);
  // One callback per pending Watch wait; each removes itself when called.
  const waiters = new Set<() => void>();
  let shuttingDown = false;

  const update = (service: string, next: ServingStatus): void => {
    if (statuses.get(service) === next) return;
    statuses.set(service, next);
    for (const wake of [...waiters]) wake();
  };

  /** Resolves on the next change of any status or when `signal` aborts. */
  const nextChange = (signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      const wake = (): void => {
        waiters.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      waiters.add(wake);
      signal.addEventListener('abort', wake, { once: true });
      if (signal.aborted) wake();
    });

  addService(
    server,
    Health,
    {
      check: (request) => {
        const current = statuses.get(request.service);
        if (current === undefined) {
          throw new GrpcError(status.NOT_FOUND, `unknown service ${JSON.stringify(request.service)}`);
        }
        return { status: current };
      },
      watch: async function* (request, ctx) {
        let sent: ServingStatus | undefined;
        while (!ctx.signal.aborted) {
          // Subscribe before reading, so a change between the read and the wait is not missed.
          const changed = nextChange(ctx.signal);
          const current = statuses.get(request.service) ?? ServingStatus.SERVICE_UNKNOWN;
          if (current !== sent) {
            sent = current;
            yield { status: current };
          }
          await changed;
        }
      },
      list: () => {
        const out: Record<string, { status: ServingStatus }> = {};
        for (const [service, current] of statuses) out[service] = { status: current };
        return { statuses: out };
      },
    },
    { log },
  );

  return {
    set: (service, servingStatus) => {
      if (!shuttingDown) update(service, servingStatus);
    },
    get: (service) => statuses.get(service),
    shutdown: () => {
      shuttingDown = true;
      for (const service of [...statuses.keys()]) update(service, ServingStatus.NOT_SERVING);
    },
  };
}
