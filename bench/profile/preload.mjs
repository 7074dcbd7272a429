// Loaded with NODE_OPTIONS=--import (where --cpu-prof is refused; plain JS, as it loads before tsx): samples this process' CPU from start to exit and
// writes PROFILE_DIR/<pid>.cpuprofile, the same file node --cpu-prof writes.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  // A same-thread session answers synchronously, so the profile can still be taken in an 'exit' handler.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.PROFILE_INTERVAL_US ?? 200) });
  // From SIGUSR2 on (the driver sends it after warm-up), so start-up and tsx's compiling stay out of the profile.
  process.on('SIGUSR2', () => session.post('Profiler.start'));
  process.once('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
