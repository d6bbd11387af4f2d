//! Server side of the AOF: feeding propagated commands, fsync policy,
//! BGREWRITEAOF, loading at startup, INFO aof_* fields. (Work in progress.)

use super::Server;
use crate::error::CmdError;
use bytes::Bytes;

impl Server {
    pub fn aof_load_on_startup(&mut self) {}

    pub fn aof_cron(&mut self) {}

    pub fn aof_rewrite_done(&mut self, _pid: i32, _exit: crate::persist::ChildExit, _cow: u64) {}

    pub fn info_aof(&self, o: &mut String, _current: Option<i64>) {
        o.push_str("aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_rewrites_consecutive_failures:0\r\naof_last_write_status:ok\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n");
    }

    pub fn persist_flush_aof_on_shutdown(&mut self) {}

    pub fn persist_appendonly_changed(&mut self) {}

    pub fn persist_feed_aof(&mut self, _db: usize, _argv: &[Bytes]) {}

    pub fn cmd_bgrewriteaof(&mut self, _key: usize) -> Result<(), CmdError> {
        Err("ERR BGREWRITEAOF is not available yet".into())
    }
}
