//! Redis's software watchdog (`CONFIG SET watchdog-period <ms>`): a
//! one-shot SIGALRM timer that cron re-arms on every tick, so it fires
//! only when the event loop has not come back to cron for a whole period;
//! the handler then logs `--- WATCHDOG TIMER EXPIRED ---` and the stack the
//! loop is stuck in. A period of 0 stops the timer and ignores SIGALRM.
//!
//! The handler interrupts arbitrary code, allocator calls included, so it
//! does only what is async-signal-safe: `write(2)` to the log's file
//! descriptor, and glibc's `backtrace` (warmed up before the handler is
//! installed: its first call loads the unwinder) with
//! `backtrace_symbols_fd`, which writes each frame as
//! `binary(+offset)[address]` without allocating (`addr2line -Cfe
//! <binary> <offset>` names it).

use super::Server;
use std::sync::atomic::{AtomicBool, Ordering};

impl Server {
    /// watchdog-period took a new value: the handler and timer follow it,
    /// and a period under two cron ticks becomes two ticks (Redis's
    /// applyWatchdogPeriod).
    pub fn apply_watchdog(&mut self) {
        self.cfg.watchdog_period = apply(self.cfg.watchdog_period, self.cfg.hz);
    }
}

/// The unwinder is loaded (first `backtrace` call done).
static WARMED: AtomicBool = AtomicBool::new(false);

const MAX_FRAMES: usize = 100;

/// Installs or removes the handler for `period_ms` (0: off) and arms the
/// timer; returns the period in force, raised to two cron ticks as Redis
/// does (a shorter one would fire between healthy ticks).
pub fn apply(period_ms: u64, hz: u32) -> u64 {
    if period_ms == 0 {
        schedule(0);
        // SAFETY: SIG_IGN for SIGALRM; pending ones are dropped with it.
        unsafe { libc::signal(libc::SIGALRM, libc::SIG_IGN) };
        return 0;
    }
    if !WARMED.swap(true, Ordering::Relaxed) {
        let mut frames = [std::ptr::null_mut(); 1];
        // SAFETY: a buffer of one frame, outside any signal handler.
        unsafe { libc::backtrace(frames.as_mut_ptr(), 1) };
    }
    // SAFETY: installing a handler that only makes async-signal-safe calls.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = on_alarm as *const () as usize;
        // SA_RESTART: a slow file read or write it interrupts goes on
        // (Redis's handler has none; nothing here gains from an EINTR).
        act.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut act.sa_mask);
        libc::sigaction(libc::SIGALRM, &act, std::ptr::null_mut());
    }
    let period = period_ms.max(2 * (1000 / u64::from(hz.max(1))));
    schedule(period);
    period
}

/// (Re)arms the one-shot timer: SIGALRM in `period_ms` unless re-armed
/// before (0 disarms it).
pub fn schedule(period_ms: u64) {
    let it = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: (period_ms / 1000) as libc::time_t,
            tv_usec: ((period_ms % 1000) * 1000) as libc::suseconds_t,
        },
    };
    // SAFETY: setitimer reads the struct we own.
    unsafe { libc::setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut()) };
}

extern "C" fn on_alarm(_sig: libc::c_int, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let fd = crate::logging::log_fd();
    log_line(fd, b"\n--- WATCHDOG TIMER EXPIRED ---");
    let mut frames = [std::ptr::null_mut(); MAX_FRAMES];
    // SAFETY: the unwinder was loaded by `apply`; both calls write into
    // our buffer or to the descriptor and do not allocate.
    unsafe {
        let n = libc::backtrace(frames.as_mut_ptr(), MAX_FRAMES as libc::c_int);
        libc::backtrace_symbols_fd(frames.as_ptr(), n, fd);
    }
    log_line(
        fd,
        b"(addr2line -Cfpe <ferrodis-server> <offset> names a frame)",
    );
    log_line(fd, b"--------\n");
}

/// Redis's serverLogFromHandler: `pid:signal-handler (unix time) msg`,
/// formatted without allocating and written with one write(2).
fn log_line(fd: libc::c_int, msg: &[u8]) {
    let mut buf = [0u8; 128];
    let mut n = 0;
    let mut put = |bytes: &[u8]| {
        let k = bytes.len().min(buf.len() - n);
        buf[n..n + k].copy_from_slice(&bytes[..k]);
        n += k;
    };
    let mut digits = [0u8; 20];
    // SAFETY: getpid and time are async-signal-safe.
    let (pid, now) = unsafe { (libc::getpid() as i64, libc::time(std::ptr::null_mut())) };
    put(crate::encoding::numbers::ll2string(pid, &mut digits));
    put(b":signal-handler (");
    put(crate::encoding::numbers::ll2string(now, &mut digits));
    put(b") ");
    put(msg);
    put(b"\n");
    // SAFETY: writing our buffer to the log descriptor.
    unsafe { libc::write(fd, buf.as_ptr() as *const libc::c_void, n) };
}
