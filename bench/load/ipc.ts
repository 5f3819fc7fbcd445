/** The load process's side of the IPC channel to the orchestrator. */
import type { Checkpoint, ToOrchestrator } from './protocol.js';

export const send = (message: ToOrchestrator): void => void process.send!(message);

let resume: (() => void) | undefined;

/** Tells the orchestrator where we are and waits for its `continue`. */
export function checkpoint(name: Checkpoint): Promise<void> {
  return new Promise((resolve) => {
    resume = resolve;
    send({ type: 'checkpoint', name });
  });
}

/** The orchestrator said `continue`: the pending checkpoint resolves. */
export function continued(): void {
  resume?.();
}
