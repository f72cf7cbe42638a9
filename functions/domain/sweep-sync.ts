import type { RemediationPorts } from './ports.ts';
import type { SweepEvent } from './remediation-event.ts';
import { failureReason } from './remediation-outcome.ts';
import { EVERYWHERE, scopedRegions } from './scope.ts';

/**
 * SWEEP_SYNC (contract section 4): a sweep ends by starting one CCKM synchronization job for the
 * Regions in scope, so the next sweep also sees keys scheduled for deletion directly in AWS, whose
 * CCKM copies still say Enabled. Never waited for (a job re-reads whole Regions and takes minutes),
 * never two at once (the adapter checks for a running job and treats CCKM's 409 as one), and a
 * failure to start never fails the keys the sweep decided: it is logged and said in the result's note.
 */

/** Starts the job when SWEEP_SYNC asks for it; returns the sentence for the sweep's note, if any. */
export async function startSweepSync(
  event: SweepEvent,
  ports: RemediationPorts,
): Promise<string | undefined> {
  if (!ports.sweepSync) return undefined;
  const regions = scopedRegions(ports.scope ?? EVERYWHERE);
  const where = regions ? `Region(s) ${regions.join(', ')}` : 'every Region';
  const notStarted = (reason: string) =>
    ports.progress('synchronization not started', { eventId: event.eventId, reason });
  if (ports.now() >= ports.deadline) {
    notStarted('time budget spent');
    return `no CCKM synchronization job started for ${where}: the time budget was spent`;
  }
  try {
    // `regions` undefined (every Region is in scope) asks CCKM to synchronize every Region.
    const started = await ports.cckm.startSynchronization({ regions }, { deadline: ports.deadline });
    ports.progress('synchronization requested', {
      eventId: event.eventId,
      result: started,
      regions: regions ?? '*',
    });
    return started === 'started'
      ? `CCKM synchronization job started for ${where}; the next sweep sees keys scheduled directly in AWS`
      : `a CCKM synchronization job is already running; none started for ${where}`;
  } catch (error) {
    const reason = failureReason('starting a CCKM synchronization job failed', error);
    notStarted(reason);
    return `${reason} (the sweep's keys are decided regardless)`;
  }
}
