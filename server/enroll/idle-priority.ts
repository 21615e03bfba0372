// Lowers the calling worker thread to Linux's SCHED_IDLE class: it runs only on a core that
// would otherwise be idle, and the kernel takes the core back the moment the event loop (or any
// other normal task, such as the broker) wakes up. A lower nice value alone is not enough: a
// niced thread keeps the core for its time slice, which stalled the event loop by 15-25 ms.
// Through util-linux's `chrt` (an essential package on Debian), since Node has no binding for
// sched_setscheduler; where it is missing, the thread keeps piscina's nice value.
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';

/** True when the calling thread now runs under SCHED_IDLE. */
export function runOnlyWhenIdle(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const tid = readlinkSync('/proc/thread-self').split('/').pop()!; // "<pid>/task/<tid>"
    execFileSync('chrt', ['--idle', '--pid', '0', tid], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}
