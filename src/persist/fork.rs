//! The only `fork()` in ferrodis. A child serializes something (an RDB to
//! disk or to a replica's socket, an AOF base) from the copy-on-write
//! snapshot of the parent's memory, reports its progress (keys saved,
//! copy-on-write size) once a second and its final CoW size through a
//! pipe, and leaves with `_exit` (no destructors, no atexit handlers, no
//! flushing of buffers it shares with the parent).

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;

/// What a child process is doing (Redis's CHILD_TYPE_* plus the RDB target).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildKind {
    /// BGSAVE (or a save point) to `dbfilename`.
    Rdb,
    /// BGREWRITEAOF: a new AOF base file.
    Aof,
    /// A full sync through an RDB file on disk.
    ReplDisk,
    /// A diskless full sync: the RDB goes to a socket or pipe.
    ReplDiskless,
    /// A forked Lua debugging session (SCRIPT DEBUG YES).
    Ldb,
}

impl ChildKind {
    /// The name Redis uses in "Fork CoW for <name>" lines.
    pub fn cow_name(self) -> &'static str {
        match self {
            ChildKind::Rdb | ChildKind::ReplDisk | ChildKind::ReplDiskless => "RDB",
            ChildKind::Aof => "AOF rewrite",
            ChildKind::Ldb => "Lua debugging",
        }
    }
}

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildExit {
    Code(i32),
    Signal(i32),
}

impl ChildExit {
    pub fn ok(self) -> bool {
        self == ChildExit::Code(0)
    }
}

/// A running child as the parent sees it.
pub struct Child {
    pub pid: Pid,
    pub kind: ChildKind,
    /// Unix seconds and monotonic microseconds when it was forked.
    pub start_time: i64,
    /// Read end of the pipe the child reports its CoW size on.
    pub info: Option<File>,
    /// Keys in the data set when it was forked, and what the child last
    /// reported (Redis's stat_current_cow_*, stat_current_save_keys_*).
    pub keys_total: u64,
    pub progress: Progress,
}

/// What a child last reported: keys processed, copy-on-write bytes (and
/// the peak), unix seconds of the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub keys: u64,
    pub cow: u64,
    pub cow_peak: u64,
    pub updated: i64,
}

/// One child-info message: a kind, keys processed, CoW bytes (little
/// endian u64s, written at once: atomic on a pipe).
const MSG_LEN: usize = 24;
const MSG_CURRENT: u64 = 1;
const MSG_FINAL: u64 = 2;

/// In a child: the write end of its info pipe (-1 in the parent), and the
/// monotonic ms of its last progress report.
static INFO_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);
static INFO_SENT_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

fn send_info(kind: u64, keys: u64, cow: u64) {
    let fd = INFO_FD.load(std::sync::atomic::Ordering::Relaxed);
    if fd < 0 {
        return;
    }
    let mut m = [0u8; MSG_LEN];
    m[..8].copy_from_slice(&kind.to_le_bytes());
    m[8..16].copy_from_slice(&keys.to_le_bytes());
    m[16..].copy_from_slice(&cow.to_le_bytes());
    // SAFETY: writing a local buffer to our own pipe descriptor.
    let _ = unsafe { libc::write(fd, m.as_ptr().cast(), MSG_LEN) };
}

/// Called by a child for every key it saved: once a second (checked every
/// 1024 keys, as Redis's rdbSaveRio) it reports keys processed and its
/// CoW size. Nothing in the parent.
pub fn report_progress(keys: u64) {
    if !keys.is_multiple_of(1024) || INFO_FD.load(std::sync::atomic::Ordering::Relaxed) < 0 {
        return;
    }
    let now = (crate::util::monotonic_us() / 1000) as i64;
    if now - INFO_SENT_MS.load(std::sync::atomic::Ordering::Relaxed) < 1000 {
        return;
    }
    INFO_SENT_MS.store(now, std::sync::atomic::Ordering::Relaxed);
    send_info(MSG_CURRENT, keys, private_dirty_bytes());
}

/// Parent: reads the reports waiting on a child's pipe into its progress
/// (never blocks); the final CoW size when the child sent it.
pub fn read_child_info(c: &mut Child, now_s: i64) -> Option<u64> {
    let mut last_final = None;
    let f = c.info.as_mut()?;
    let mut m = [0u8; MSG_LEN];
    while f.read_exact(&mut m).is_ok() {
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&m[i * 8..i * 8 + 8]);
            u64::from_le_bytes(b)
        };
        let (kind, keys, cow) = (word(0), word(1), word(2));
        let p = &mut c.progress;
        p.cow = cow;
        p.cow_peak = p.cow_peak.max(cow);
        p.updated = now_s;
        if keys > 0 {
            p.keys = keys;
        }
        if kind == MSG_FINAL {
            last_final = Some(cow);
        }
    }
    last_final
}

/// Bytes of private dirty memory of this process (the pages copy-on-write
/// duplicated since the fork), from /proc/self/smaps.
pub fn private_dirty_bytes() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    s.lines()
        .filter_map(|l| l.strip_prefix("Private_Dirty:"))
        .filter_map(|r| r.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

/// Forks. In the child: logging role 'C', run `f`, report the CoW size,
/// `_exit(code)`. In the parent: the child's pid and the read end of its
/// info pipe. `kind` only names the CoW log line.
/// The process's OOM score file (oom-score-adj).
pub const OOM_PROC_FILE: &str = "/proc/self/oom_score_adj";

/// The oom_score_adj a forked child gives itself (oom-score-adj's
/// background-child value; i32::MIN: leave it as inherited).
static CHILD_OOM_SCORE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(i32::MIN);

pub fn set_child_oom_score(v: Option<i32>) {
    CHILD_OOM_SCORE.store(v.unwrap_or(i32::MIN), std::sync::atomic::Ordering::Relaxed);
}

pub fn fork_child(kind: ChildKind, f: impl FnOnce() -> i32) -> nix::Result<(Pid, File)> {
    let (rd, wr): (OwnedFd, OwnedFd) = nix::unistd::pipe()?;
    let parent = nix::unistd::getpid();
    // SAFETY: ferrodis is single-threaded, so the child can safely run
    // arbitrary Rust code (no lock can be held by another thread).
    match unsafe { fork() }? {
        ForkResult::Child => {
            // A child whose parent was killed has nobody to report to (a
            // save nobody renames, a sync nobody reads): it dies with it.
            // SAFETY: prctl/getppid on our own process.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() != parent.as_raw() {
                    libc::_exit(1);
                }
            }
            drop(rd);
            INFO_FD.store(
                std::os::fd::AsRawFd::as_raw_fd(&wr),
                std::sync::atomic::Ordering::Relaxed,
            );
            INFO_SENT_MS.store(
                (crate::util::monotonic_us() / 1000) as i64,
                std::sync::atomic::Ordering::Relaxed,
            );
            crate::logging::set_role(b'C');
            reset_child_signals();
            let oom = CHILD_OOM_SCORE.load(std::sync::atomic::Ordering::Relaxed);
            if oom != i32::MIN {
                let _ = std::fs::write(OOM_PROC_FILE, format!("{oom}\n"));
            }
            // A snapshot or rewrite is background work: on a busy machine the
            // parent serving clients gets the CPU first. Replication children
            // keep full priority: their speed is the replicas' sync time.
            if matches!(kind, ChildKind::Rdb | ChildKind::Aof) {
                // SAFETY: setpriority on our own process; no memory effects.
                unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
            }
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(1);
            let cow = private_dirty_bytes();
            if code == 0 {
                log::info!(
                    "Fork CoW for {}: current {} MB, peak {} MB, average {} MB",
                    kind.cow_name(),
                    cow >> 20,
                    cow >> 20,
                    cow >> 20
                );
            }
            send_info(MSG_FINAL, 0, cow);
            drop(wr);
            // SAFETY: _exit ends the process without running destructors or
            // atexit handlers that belong to the parent.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(wr);
            let f = File::from(rd);
            let _ = nix::fcntl::fcntl(
                std::os::fd::AsRawFd::as_raw_fd(&f),
                nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
            );
            Ok((child, f))
        }
    }
}

/// The parent's SIGTERM/SIGINT handlers only set a flag the child never
/// looks at: a child must die on them.
fn reset_child_signals() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let dfl = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: restoring default dispositions.
    unsafe {
        let _ = sigaction(Signal::SIGTERM, &dfl);
        let _ = sigaction(Signal::SIGINT, &dfl);
        let _ = sigaction(Signal::SIGUSR1, &dfl);
    }
}

/// Reaps `pid` if it ended (never blocks).
pub fn try_reap(pid: Pid) -> Option<ChildExit> {
    match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::Exited(_, code)) => Some(ChildExit::Code(code)),
        Ok(WaitStatus::Signaled(_, sig, _)) => Some(ChildExit::Signal(sig as i32)),
        Ok(_) => None,
        // ECHILD: somebody else reaped it; treat as a failure.
        Err(_) => Some(ChildExit::Code(255)),
    }
}

/// Kills a child with SIGUSR1 (Redis's "killed on purpose" signal) and
/// waits for it.
pub fn kill_and_wait(pid: Pid) {
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGUSR1);
    let _ = waitpid(pid, None);
}

/// The CoW size a finished child reported last (0 when it reported
/// nothing).
pub fn read_cow(c: &mut Child) -> u64 {
    read_child_info(c, 0).unwrap_or(c.progress.cow)
}
