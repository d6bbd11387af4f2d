//! The server in Sentinel mode: it runs `crate::sentinel::Sentinel`
//! instead of a keyspace. This file is the seam between the two: startup
//! (the config file must exist and be writable; the `sentinel` directives
//! are applied), the Sentinel timer from cron, events on Sentinel's own
//! connections, its commands (SENTINEL, INFO, ROLE, PUBLISH), and the
//! delivery of Sentinel events to Pub/Sub subscribers.

use super::Server;
use crate::cmd::Srv;
use crate::error::CmdError;
use crate::net::Kind;
use crate::resp::Out;
use crate::sentinel::{Env, Sentinel};
use bytes::Bytes;

/// The sections INFO shows in Sentinel mode, in order.
const SECTIONS: &[&str] = &["server", "clients", "cpu", "stats", "sentinel"];

impl Server {
    /// Sentinel startup before listening: the config file checks and the
    /// `sentinel` directives (the command table was installed first thing).
    /// Err is the exit code (the reason was printed).
    pub fn sentinel_init(&mut self) -> Result<(), i32> {
        let Some(path) = self.cfg.config_file.clone() else {
            log::warn!("Sentinel needs config file on disk to save state. Exiting...");
            return Err(1);
        };
        if let Err(e) = writable(&path) {
            log::warn!("Sentinel config file {path} is not writable: {e}. Exiting...");
            return Err(1);
        }
        let mut st = Sentinel::new();
        if let Err(text) = st.load_config(&self.cfg.sentinel_conf) {
            eprintln!("{text}");
            return Err(1);
        }
        self.sentinel = Some(Box::new(st));
        Ok(())
    }

    /// After listening: the ID, the +monitor events.
    pub fn sentinel_is_running(&mut self) {
        if let Some(st) = self.sentinel.as_deref_mut() {
            let env = Env {
                registry: self.poll.registry(),
                cfg: &self.cfg,
            };
            st.is_running(&env);
        }
        self.publish_sentinel_events();
    }

    /// Cron: the Sentinel timer; returns the frequency for the next tick.
    pub fn sentinel_cron(&mut self) -> Option<u32> {
        let st = self.sentinel.as_deref_mut()?;
        let env = Env {
            registry: self.poll.registry(),
            cfg: &self.cfg,
        };
        guarded("the timer", || st.timer(&env));
        let hz = st.hz;
        self.publish_sentinel_events();
        Some(hz)
    }

    /// An event on one of Sentinel's connections.
    pub fn sentinel_conn_event(&mut self, id: usize, readable: bool, writable: bool) {
        if let Some(st) = self.sentinel.as_deref_mut() {
            let env = Env {
                registry: self.poll.registry(),
                cfg: &self.cfg,
            };
            guarded("a link event", || {
                st.conn_event(&env, id, readable, writable)
            });
        }
        self.publish_sentinel_events();
    }

    /// Sentinel's events go to the subscribers of their channels.
    fn publish_sentinel_events(&mut self) {
        let Some(st) = self.sentinel.as_deref_mut() else {
            return;
        };
        for (channel, msg) in st.take_events() {
            self.publish(channel.as_bytes(), msg.as_bytes());
        }
    }

    /// SENTINEL, and Sentinel's INFO, ROLE and PUBLISH.
    pub fn run_sentinel_srv(
        &mut self,
        key: usize,
        tag: Srv,
        argv: &[Bytes],
    ) -> Result<(), CmdError> {
        if tag == Srv::SentinelInfo {
            return self.sentinel_info(key, argv);
        }
        let Some(st) = self.sentinel.as_deref_mut() else {
            return Err("ERR This instance has Sentinel support disabled.".into());
        };
        let Some(c) = self.clients.get_mut(key) else {
            return Ok(());
        };
        if c.kind != Kind::Normal {
            return Ok(());
        }
        let env = Env {
            registry: self.poll.registry(),
            cfg: &self.cfg,
        };
        let resp = c.resp;
        let mut o = Out::new(&mut c.reply, resp);
        let r = match tag {
            Srv::SentinelRole => {
                st.role_reply(&mut o);
                Ok(())
            }
            Srv::SentinelPublish => st.publish_command(&env, argv, &mut o),
            _ => st.sentinel_command(&env, argv, &mut o),
        };
        self.publish_sentinel_events();
        r
    }

    /// INFO [section ...] in Sentinel mode: server, clients, cpu, stats
    /// and sentinel; no argument, "default", "all" or "everything" mean all
    /// of them, unknown sections are ignored.
    fn sentinel_info(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let mut wanted: Vec<String> = Vec::new();
        let mut all = argv.len() == 1;
        for a in &argv[1..] {
            let s = String::from_utf8_lossy(a).to_ascii_lowercase();
            if matches!(s.as_str(), "all" | "everything" | "default") {
                all = true;
            } else if SECTIONS.contains(&s.as_str()) {
                wanted.push(s);
            }
        }
        if all {
            wanted = SECTIONS.iter().map(|s| s.to_string()).collect();
        }
        let mut text = self.info_text(&wanted);
        if wanted.iter().any(|w| w == "sentinel") {
            if let Some(st) = self.sentinel.as_deref() {
                if !text.is_empty() {
                    text.push_str("\r\n");
                }
                text.push_str(&st.info_section());
            }
        }
        // A plain bulk string, not verbatim text as the server's INFO.
        self.reply(key, |o| o.bulk(text.as_bytes()));
        Ok(())
    }
}

/// Runs Sentinel work that peers' bytes drive: a bug (a panic) is logged
/// and the Sentinel goes on, as a command's panic does not end the server.
fn guarded(what: &str, f: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
        log::warn!("Sentinel: internal error while handling {what} (see the panic message above); going on");
    }
}

/// access(path, W_OK).
fn writable(path: &str) -> Result<(), String> {
    let c = std::ffi::CString::new(path).map_err(|_| "Invalid argument".to_string())?;
    // SAFETY: access(2) on a NUL-terminated path we own.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(crate::config::os_err(&std::io::Error::last_os_error()))
    }
}
