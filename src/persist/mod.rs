//! Persistence: RDB encode/decode (Redis-compatible), AOF, and the single
//! `fork()` site. This module owns the background-child bookkeeping.

/// Background save / rewrite bookkeeping.
#[derive(Default)]
pub struct State {
    pub child_pid: Option<i32>,
    pub last_bgsave_ok: bool,
    pub bgsave_tried: bool,
}

impl State {
    pub fn child_pid(&self) -> Option<i32> {
        self.child_pid
    }

    pub fn bgsave_failed(&self) -> bool {
        self.bgsave_tried && !self.last_bgsave_ok
    }
}
