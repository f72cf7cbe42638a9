import { ledgerFailed } from './decision-memory.ts';
import type { RemediationPorts } from './ports.ts';
import type { HeartbeatEvent } from './remediation-event.ts';
import { failureReason } from './remediation-outcome.ts';
import { EVERYWHERE, outOfScopeReason } from './scope.ts';

/**
 * A spoke's heartbeat (contract sections 4 and 7): the (account, Region) of the event is forwarding
 * to the hub. Recorded in the ledger when there is one, so a sweep can report spokes gone silent;
 * never a sweep, never a CipherTrust Manager call, and a failing ledger never fails the event (the
 * next heartbeat comes within the hour). A pair outside scope is not recorded: this deployment does
 * not protect it, so it must not expect heartbeats from it either.
 */

/** Records the heartbeat; returns the result's note when it was not recorded. */
export async function recordHeartbeat(
  event: HeartbeatEvent,
  ports: RemediationPorts,
): Promise<string | undefined> {
  const heartbeat = { account: event.account, region: event.region, time: event.time };
  const where = { eventId: event.eventId, ...heartbeat };
  const outside = outOfScopeReason(ports.scope ?? EVERYWHERE, event.account, event.region);
  if (outside !== undefined) {
    ports.progress('heartbeat outside scope', { ...where, reason: outside });
    return `heartbeat not recorded: ${outside}`;
  }
  const { ledger } = ports;
  if (ledger) {
    try {
      await ledger.recordHeartbeat(heartbeat, { deadline: ports.deadline });
    } catch (error) {
      const reason = failureReason('recording the heartbeat failed', error);
      ledgerFailed(ports, 'heartbeat not recorded', error, where);
      return reason;
    }
  }
  ports.progress('heartbeat', { ...where, recorded: ledger !== undefined });
  return ledger ? undefined : 'heartbeat not recorded: no ledger (LEDGER_TABLE) configured';
}
