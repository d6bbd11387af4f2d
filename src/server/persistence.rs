//! Server side of persistence: SAVE/BGSAVE/BGREWRITEAOF, save points,
//! loading at startup, DEBUG RELOAD/DIGEST, the AOF feed. (Work in progress.)

use super::Server;
use crate::error::CmdError;
use bytes::Bytes;
use std::fmt::Write;

type R = Result<(), CmdError>;

impl Server {
    pub fn load_data_on_startup(&mut self) {}

    pub fn persist_cron(&mut self) {}

    pub fn persist_kill_child(&mut self) {}

    pub fn save_rdb_foreground(&mut self) -> Result<(), String> {
        Err("RDB saving is not available yet".into())
    }

    pub fn persist_flush_aof_on_shutdown(&mut self) {}

    pub fn persist_appendonly_changed(&mut self) {}

    pub fn persist_feed_aof(&mut self, _db: usize, _argv: &[Bytes]) {}

    pub fn after_flushall(&mut self) {}

    pub fn cmd_save(&mut self, _key: usize) -> R {
        Err("ERR SAVE is not available yet".into())
    }

    pub fn cmd_bgsave(&mut self, _key: usize, _argv: &[Bytes]) -> R {
        Err("ERR BGSAVE is not available yet".into())
    }

    pub fn cmd_bgrewriteaof(&mut self, _key: usize) -> R {
        Err("ERR BGREWRITEAOF is not available yet".into())
    }

    pub fn debug_reload(&mut self) -> R {
        Err("ERR DEBUG RELOAD is not available yet".into())
    }

    pub fn debug_digest(&mut self) -> String {
        "0".repeat(40)
    }

    pub fn debug_digest_value(&mut self, _db: usize, _key: &[u8]) -> String {
        "0".repeat(40)
    }

    pub fn info_persistence(&self, o: &mut String) {
        let _ = write!(o, "# Persistence\r\nloading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:0\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:ok\r\nrdb_last_bgsave_time_sec:-1\r\nrdb_current_bgsave_time_sec:-1\r\nrdb_saves:0\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:0\r\nrdb_last_load_keys_loaded:0\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_rewrites_consecutive_failures:0\r\naof_last_write_status:ok\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n", self.dirty, self.lastsave);
    }
}
