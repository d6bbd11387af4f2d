//! Notification and client-reconfig scripts: a bounded queue of jobs run
//! as child processes (at most 16 at once), reaped from the timer with
//! waitpid(WNOHANG), killed past script-max-runtime, and retried with a
//! doubling delay when they exit with 1 or die of a signal. The children
//! are exec'ed programs, so the process itself stays single-threaded; every
//! descriptor ferrodis opens is close-on-exec, so none leaks to them.

use super::{Level, Timing};
use std::collections::VecDeque;

const MAX_QUEUE: usize = 256;
const MAX_RUNNING: usize = 16;
const MAX_RETRY: u32 = 10;

pub struct Job {
    /// argv[0] is the script path.
    pub argv: Vec<String>,
    pub running: bool,
    pub retry_num: u32,
    /// Running: when it started; otherwise not before this time (0: now).
    pub start_time: i64,
    pub pid: i32,
}

#[derive(Default)]
pub struct Scripts {
    pub queue: VecDeque<Job>,
    pub running: usize,
}

impl Scripts {
    /// sentinelScheduleScriptExecution: queues a run; past the queue limit
    /// the oldest job that is not running is dropped.
    pub fn schedule(&mut self, path: String, args: Vec<String>, _now: i64) {
        let mut argv = Vec::with_capacity(args.len() + 1);
        argv.push(path);
        argv.extend(args.into_iter().take(15));
        self.queue.push_back(Job {
            argv,
            running: false,
            retry_num: 0,
            start_time: 0,
            pid: 0,
        });
        if self.queue.len() > MAX_QUEUE {
            if let Some(i) = self.queue.iter().position(|j| !j.running) {
                self.queue.remove(i);
            }
        }
    }

    /// sentinelRunPendingScripts: starts due jobs, oldest first. Returns
    /// the -script-error text if a script could not be started.
    pub fn run_pending(&mut self, now: i64) -> Option<String> {
        let mut error = None;
        for job in self.queue.iter_mut() {
            if self.running >= MAX_RUNNING {
                break;
            }
            if job.running || (job.start_time != 0 && job.start_time > now) {
                continue;
            }
            job.running = true;
            job.start_time = now;
            job.retry_num += 1;
            match std::process::Command::new(&job.argv[0])
                .args(&job.argv[1..])
                .spawn()
            {
                Ok(child) => {
                    job.pid = child.id() as i32;
                    self.running += 1;
                    super::log_at(Level::Debug, &format!("+script-child {}", job.pid));
                    // Reaped with waitpid(-1) by collect_terminated.
                    drop(child);
                }
                Err(_) => {
                    // What an exec failure in the child reports in Redis
                    // (exit code 2, not retried).
                    job.running = false;
                    job.pid = -1;
                    error = Some(format!("{} 0 2", job.argv[0]));
                }
            }
        }
        self.queue.retain(|j| j.pid != -1);
        error
    }

    /// sentinelCollectTerminatedScripts: reaps finished children; a job
    /// that exited with 1 or by a signal is retried later (up to 10 times),
    /// any other failure is reported. Returns the events to raise.
    pub fn collect_terminated(
        &mut self,
        now: i64,
        t: &Timing,
    ) -> Vec<(Level, &'static str, String)> {
        let mut events = Vec::new();
        loop {
            let mut status = 0;
            // SAFETY: waitpid(2) with a status int we own.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                break;
            }
            let exitcode = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                0
            };
            let bysignal = if libc::WIFSIGNALED(status) {
                libc::WTERMSIG(status)
            } else {
                0
            };
            events.push((
                Level::Debug,
                "-script-child",
                format!("{pid} {exitcode} {bysignal}"),
            ));
            let Some(i) = self.queue.iter().position(|j| j.running && j.pid == pid) else {
                log::warn!("waitpid() returned a pid ({pid}) we can't find in our scripts execution queue!");
                continue;
            };
            let job = &mut self.queue[i];
            if (bysignal != 0 || exitcode == 1) && job.retry_num != MAX_RETRY {
                job.running = false;
                job.pid = 0;
                job.start_time = now + retry_delay(t.script_retry_delay, job.retry_num);
            } else {
                if bysignal != 0 || exitcode != 0 {
                    events.push((
                        Level::Warning,
                        "-script-error",
                        format!("{} {bysignal} {exitcode}", job.argv[0]),
                    ));
                }
                self.queue.remove(i);
            }
            self.running = self.running.saturating_sub(1);
        }
        events
    }

    /// sentinelKillTimedoutScripts: SIGKILL for scripts past their time;
    /// they are reaped (and retried) by collect_terminated.
    pub fn kill_timedout(&mut self, now: i64, t: &Timing) -> Vec<String> {
        let mut out = Vec::new();
        for job in &self.queue {
            if job.running && now - job.start_time > t.script_max_runtime {
                out.push(format!("{} {}", job.argv[0], job.pid));
                // SAFETY: kill(2) of a child we started and did not reap.
                unsafe { libc::kill(job.pid, libc::SIGKILL) };
            }
        }
        out
    }
}

/// The delay before retry `n`: script-retry-delay, doubled each time.
fn retry_delay(base: i64, mut n: u32) -> i64 {
    let mut d = base;
    while n > 1 {
        d = d.saturating_mul(2);
        n -= 1;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_is_bounded_and_delays_double() {
        let mut s = Scripts::default();
        for i in 0..300 {
            s.schedule("/bin/true".into(), vec![i.to_string()], 0);
        }
        assert_eq!(s.queue.len(), MAX_QUEUE);
        assert_eq!(s.queue[0].argv[1], "44");
        assert_eq!(retry_delay(30_000, 1), 30_000);
        assert_eq!(retry_delay(30_000, 3), 120_000);
    }
}
