//! ACL LOG: the security log of refused commands, keys, channels and
//! failed authentications, newest first, with similar events within a
//! minute grouped into one entry (Redis 7.0's fields).

use std::collections::VecDeque;

/// How close in time two similar events must be to share an entry.
const GROUPING_MAX_MS: i64 = 60_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Command,
    Key,
    Channel,
    Auth,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }
}

/// Where the refused command ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    Multi,
    Lua,
    Module,
}

impl Context {
    pub fn name(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
            Context::Lua => "lua",
            Context::Module => "module",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub count: u64,
    pub reason: Reason,
    pub context: Context,
    /// The command's full name, the key, the channel, or AUTH's argv[0].
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    /// Unix ms of the last event.
    pub ctime_ms: i64,
    /// The client's CLIENT LIST line (last event's client).
    pub client_info: String,
}

#[derive(Default)]
pub struct AclLog {
    pub entries: VecDeque<Entry>,
}

impl AclLog {
    /// addACLLogEntry: bumps a similar recent entry (among the ten newest)
    /// or adds a new one, keeping at most `max_len`.
    pub fn add(&mut self, e: Entry, max_len: usize) {
        let similar = self.entries.iter().take(10).position(|x| {
            x.reason == e.reason
                && x.context == e.context
                && (x.ctime_ms - e.ctime_ms).abs() <= GROUPING_MAX_MS
                && x.object == e.object
                && x.username == e.username
        });
        if let Some(i) = similar {
            if let Some(mut x) = self.entries.remove(i) {
                x.client_info = e.client_info;
                x.ctime_ms = e.ctime_ms;
                x.count += 1;
                self.entries.push_front(x);
            }
            return;
        }
        self.entries.push_front(e);
        self.entries.truncate(max_len);
    }

    pub fn reset(&mut self) {
        self.entries.clear();
    }
}
