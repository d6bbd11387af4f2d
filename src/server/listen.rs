//! Sockets and process setup: TCP and unix listeners, accept, protected
//! mode, maxclients, signals, daemonize, pidfile.

use super::{Server, SHUTDOWN_SIGNAL};
use crate::net::{flags, Stream};
use crate::resp::Out;
use mio::net::{TcpListener, UnixListener};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;

pub enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    pub fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Listener::Tcp(l) => l,
            Listener::Unix(l) => l,
        }
    }
}

/// A non-blocking connect to `addr`, from `source` when given (the
/// bind-source-addr directive; best effort, as Redis's
/// anetTcpNonBlockBestEffortBindConnect: a source that cannot be bound is
/// ignored).
pub fn connect_from(
    addr: SocketAddr,
    source: Option<std::net::IpAddr>,
) -> io::Result<mio::net::TcpStream> {
    use socket2::{Domain, Socket, Type};
    let Some(src) = source.filter(|s| s.is_ipv4() == addr.is_ipv4()) else {
        return mio::net::TcpStream::connect(addr);
    };
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    sock.set_nonblocking(true)?;
    let _ = sock.bind(&SocketAddr::new(src, 0).into());
    match sock.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(mio::net::TcpStream::from_std(sock.into()))
}

/// Binds a TCP listener with SO_REUSEADDR (IPV6_V6ONLY for IPv6, as
/// Redis) and the configured backlog.
pub(crate) fn bind_tcp(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    // close-on-exec is set by socket2 at creation.
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    sock.set_nonblocking(true)?;
    sock.set_reuse_address(true)?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.bind(&addr.into())?;
    sock.listen(backlog)?;
    Ok(TcpListener::from_std(sock.into()))
}

impl Server {
    /// Opens every configured listener. A `-` prefix on a bind address
    /// makes it optional (Redis's "-::*"), as does `*` for IPv6.
    pub fn listen(&mut self) -> io::Result<()> {
        self.open_listeners()?;
        self.check_listening()
    }

    /// Redis refuses to run with no listening socket at all.
    fn check_listening(&self) -> io::Result<()> {
        if self.listeners.is_empty() {
            return Err(io::Error::other(
                "Configured to not listen anywhere, exiting.",
            ));
        }
        Ok(())
    }

    /// Opens the TCP listeners of `bind`/`port` and the unix socket.
    fn open_listeners(&mut self) -> io::Result<()> {
        let port = self.cfg.port;
        if port != 0 {
            let binds = self.cfg.bind.clone();
            for b in binds {
                let (optional, host) = match b.strip_prefix('-') {
                    Some(h) => (true, h.to_string()),
                    None => (false, b.clone()),
                };
                let ip = match host.as_str() {
                    "*" => "0.0.0.0".to_string(),
                    "::*" => "::".to_string(),
                    h => h.to_string(),
                };
                let addr: SocketAddr = match ip.parse::<std::net::IpAddr>() {
                    Ok(ip) => SocketAddr::new(ip, port),
                    Err(_) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            format!("Invalid bind address '{host}'"),
                        ));
                    }
                };
                match bind_tcp(addr, self.cfg.tcp_backlog) {
                    Ok(l) => {
                        let mut l = Listener::Tcp(l);
                        self.register_listener(&mut l)?;
                        self.listeners.push(l);
                    }
                    Err(e)
                        if optional
                            || (addr.is_ipv6() && e.raw_os_error() == Some(libc::EAFNOSUPPORT)) =>
                    {
                        log::warn!("Warning: Could not create server TCP listening socket {host}:{port}: {e}");
                    }
                    Err(e) => {
                        log::warn!("Warning: Could not create server TCP listening socket {host}:{port}: {e}");
                        return Err(e);
                    }
                }
            }
        }
        if !self.cfg.unixsocket.is_empty() {
            let path = self.cfg.unixsocket.clone();
            let _ = std::fs::remove_file(&path);
            let l = UnixListener::bind(&path)?;
            if self.cfg.unixsocketperm != 0 {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(
                    &path,
                    std::fs::Permissions::from_mode(self.cfg.unixsocketperm),
                );
            }
            let mut l = Listener::Unix(l);
            self.register_listener(&mut l)?;
            self.listeners.push(l);
        }
        Ok(())
    }

    /// Closes the TCP listeners and opens them again from the config
    /// (CONFIG SET port / bind). The unix socket stays.
    pub fn rebind(&mut self) -> io::Result<()> {
        let old = std::mem::take(&mut self.listeners);
        let mut unix = Vec::new();
        for mut l in old {
            match l {
                Listener::Tcp(_) => {
                    let _ = self.deregister_listener(&mut l);
                }
                Listener::Unix(_) => unix.push(l),
            }
        }
        let unixsocket = std::mem::take(&mut self.cfg.unixsocket);
        let r = self.open_listeners();
        self.cfg.unixsocket = unixsocket;
        // Unix listeners keep their tokens: re-register them after the TCP ones.
        for mut l in unix {
            let _ = self.deregister_listener(&mut l);
            self.register_listener(&mut l)?;
            self.listeners.push(l);
        }
        // `bind ""` is fine while the unix socket listens.
        r.and_then(|()| self.check_listening())
    }

    /// Accepts every pending connection on listener `i`.
    pub fn accept(&mut self, i: usize) {
        loop {
            let accepted = match self.listeners.get_mut(i) {
                Some(Listener::Tcp(l)) => l.accept().map(|(s, a)| {
                    let laddr = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
                    let _ = s.set_nodelay(true);
                    (Stream::Tcp(s), a.to_string(), laddr, Some(a))
                }),
                Some(Listener::Unix(l)) => l.accept().map(|(s, _)| {
                    (
                        Stream::Unix(s),
                        format!("{}:0", self.cfg.unixsocket),
                        format!("{}:0", self.cfg.unixsocket),
                        None,
                    )
                }),
                None => return,
            };
            match accepted {
                Ok((stream, addr, laddr, peer)) => self.accept_one(stream, addr, laddr, peer),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::warn!("Accepting client connection: {e}");
                    return;
                }
            }
        }
    }

    fn accept_one(
        &mut self,
        stream: Stream,
        addr: String,
        laddr: String,
        peer: Option<SocketAddr>,
    ) {
        let unix = peer.is_none();
        if self.cfg.tcp_keepalive > 0 && !unix {
            set_keepalive(&stream, self.cfg.tcp_keepalive);
        }
        let key = match self.add_client(stream, addr, laddr) {
            Ok(k) => k,
            Err(e) => {
                log::warn!("Error registering fd event for the new client: {e}");
                return;
            }
        };
        if unix {
            self.clients[key].flags |= flags::UNIX_SOCKET;
        }
        let msg = if self.clients.len() as u64 > self.cfg.maxclients {
            Some("ERR max number of clients reached")
        } else if self.cfg.protected_mode
            && self.cfg.requirepass.is_empty()
            && peer.is_some_and(|p| !p.ip().is_loopback())
            && !self.bound_to_specific()
        {
            Some(PROTECTED_MODE_MSG)
        } else {
            None
        };
        if let Some(m) = msg {
            self.stats.rejected_conn += 1;
            let c = &mut self.clients[key];
            Out::new(&mut c.reply, 2).error(m);
            let _ = c.flush();
            self.free_client(key);
        }
    }

    /// Protected mode only applies when listening on every interface.
    fn bound_to_specific(&self) -> bool {
        !self
            .cfg
            .bind
            .iter()
            .any(|b| matches!(b.trim_start_matches('-'), "*" | "::*" | "0.0.0.0" | "::"))
    }
}

const PROTECTED_MODE_MSG: &str = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";

pub fn set_keepalive(stream: &Stream, interval: u64) {
    let Stream::Tcp(s) = stream else {
        return;
    };
    let ka = socket2::TcpKeepalive::new()
        .with_time(std::time::Duration::from_secs(interval))
        .with_interval(std::time::Duration::from_secs((interval / 3).max(1)))
        .with_retries(3);
    let _ = socket2::SockRef::from(s).set_tcp_keepalive(&ka);
}

extern "C" fn on_shutdown_signal(sig: libc::c_int) {
    // A second SIGINT while a shutdown is under way (saving, or waiting for
    // replicas): the user insists, exit now without the temp RDB of a
    // foreground save (the process is in `dir`). Async-signal-safe only.
    if sig == libc::SIGINT && SHUTDOWN_SIGNAL.load(Ordering::Relaxed) {
        let mut name = *b"temp-00000000000000000000.rdb\0";
        // SAFETY: getpid, unlink and _exit are async-signal-safe.
        let mut pid = unsafe { libc::getpid() } as u64;
        let mut digits = [0u8; 20];
        let mut n = 0;
        loop {
            digits[n] = b'0' + (pid % 10) as u8;
            n += 1;
            pid /= 10;
            if pid == 0 {
                break;
            }
        }
        for i in 0..n {
            name[5 + i] = digits[n - 1 - i];
        }
        name[5 + n..5 + n + 5].copy_from_slice(b".rdb\0");
        unsafe {
            libc::unlink(name.as_ptr() as *const libc::c_char);
            libc::_exit(1);
        }
    }
    super::LAST_SIGNAL.store(sig, Ordering::Relaxed);
    SHUTDOWN_SIGNAL.store(true, Ordering::Relaxed);
}

/// SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT: Redis's crash report
/// (sigsegvHandler) in the log, then the signal's default action (a core
/// dump where enabled). Logging is not async-signal-safe, as in Redis: an
/// alarm ends the process should the report itself hang.
extern "C" fn on_crash_signal(sig: libc::c_int) {
    // SAFETY: alarm is async-signal-safe; SIGALRM's default action ends us.
    unsafe {
        libc::signal(libc::SIGALRM, libc::SIG_DFL);
        libc::alarm(5);
    }
    bug_report(&[format!(
        "Redis {} crashed by signal: {sig}, si_code: 0",
        crate::REDIS_VERSION
    )]);
    // SAFETY: restoring the default action and re-raising the signal.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Redis's bug report: what happened, the stack that got there.
fn bug_report(what: &[String]) {
    log::warn!("\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===");
    for line in what {
        log::warn!("{line}");
    }
    let bt = std::backtrace::Backtrace::force_capture();
    log::warn!("\n------ STACK TRACE ------\n{bt}");
    log::warn!("\n=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n");
}

/// A deliberate crash (DEBUG ASSERT, DEBUG OOM), as Redis's _serverAssert
/// and _serverPanic end: the report, then abort() with the crash handler
/// removed, so the log does not also say "crashed by signal".
pub fn crash(what: &[String]) -> ! {
    bug_report(what);
    // SAFETY: the default action for SIGABRT, then abort.
    unsafe { libc::signal(libc::SIGABRT, libc::SIG_DFL) };
    std::process::abort();
}

/// SIGTERM/SIGINT request a clean shutdown; SIGPIPE is ignored; crashes
/// are reported.
pub fn install_signal_handlers() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let act = SigAction::new(
        SigHandler::Handler(on_shutdown_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    let ign = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let _ = sigaction(Signal::SIGTERM, &act);
        let _ = sigaction(Signal::SIGINT, &act);
        let _ = sigaction(Signal::SIGPIPE, &ign);
        let crash = SigAction::new(
            SigHandler::Handler(on_crash_signal),
            SaFlags::SA_NODEFER | SaFlags::SA_RESETHAND,
            SigSet::empty(),
        );
        for sig in [
            Signal::SIGSEGV,
            Signal::SIGBUS,
            Signal::SIGFPE,
            Signal::SIGILL,
            Signal::SIGABRT,
        ] {
            let _ = sigaction(sig, &crash);
        }
    }
}

/// Detaches into the background: fork, the child starts a new session with
/// stdio on /dev/null; the parent waits until the child reports that it is
/// listening (a byte on a pipe) and exits with its status. Called before any
/// socket is opened. Returns the pipe the child must signal through.
pub fn daemonize() -> Option<std::fs::File> {
    use nix::unistd::{fork, pipe, setsid, ForkResult};
    use std::io::Read;
    let (rd, wr) = match pipe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("pipe failed: {e}");
            std::process::exit(1);
        }
    };
    // SAFETY: the process is single-threaded at this point.
    match unsafe { fork() } {
        Ok(ForkResult::Parent { .. }) => {
            drop(wr);
            let mut f = std::fs::File::from(rd);
            let mut b = [0u8; 1];
            let ok = matches!(f.read(&mut b), Ok(1) if b[0] == b'1');
            std::process::exit(if ok { 0 } else { 1 });
        }
        Ok(ForkResult::Child) => {}
        Err(e) => {
            eprintln!("fork failed: {e}");
            std::process::exit(1);
        }
    }
    drop(rd);
    let _ = setsid();
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        use std::os::fd::AsRawFd;
        let fd = null.as_raw_fd();
        // SAFETY: dup2 onto the standard descriptors.
        unsafe {
            libc::dup2(fd, 0);
            libc::dup2(fd, 1);
            libc::dup2(fd, 2);
        }
    }
    Some(std::fs::File::from(wr))
}

pub fn write_pidfile(path: &str) {
    if path.is_empty() {
        return;
    }
    if let Err(e) = std::fs::write(path, format!("{}\n", std::process::id())) {
        log::warn!("Failed to write PID file: {e}");
    }
}
