//! The only `fork()` in ferrodis. A child serializes something (an RDB to
//! disk or to a replica's socket, an AOF base) from the copy-on-write
//! snapshot of the parent's memory, reports its copy-on-write size through a
//! pipe, and leaves with `_exit` (no destructors, no atexit handlers, no
//! flushing of buffers it shares with the parent).

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use std::fs::File;
use std::io::{Read, Write};
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
            crate::logging::set_role(b'C');
            reset_child_signals();
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
            let mut w = File::from(wr);
            let _ = w.write_all(&cow.to_le_bytes());
            drop(w);
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

/// The CoW size the child reported (0 when it reported nothing).
pub fn read_cow(info: &mut Option<File>) -> u64 {
    let mut b = [0u8; 8];
    match info.as_mut().map(|f| f.read_exact(&mut b)) {
        Some(Ok(())) => u64::from_le_bytes(b),
        _ => 0,
    }
}
