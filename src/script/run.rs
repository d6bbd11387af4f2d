//! The run context both engines share (Redis's script.c): the checks before
//! a script runs, `redis.call` re-entering the command path with the script
//! as the caller, the busy-script timeout and SCRIPT KILL / FUNCTION KILL.

use super::sflag;
use crate::cmd::{self, flag};
use crate::error::{self, CmdError};
use crate::net::{flags, Kind};
use crate::server::Server;
use bytes::Bytes;

/// Run flags (Redis's SCRIPT_*).
pub mod rflag {
    pub const WRITE_DIRTY: u32 = 1 << 0;
    pub const KILLED: u32 = 1 << 1;
    pub const READ_ONLY: u32 = 1 << 2;
    pub const ALLOW_OOM: u32 = 1 << 3;
    pub const TIMEDOUT: u32 = 1 << 4;
    pub const EVAL_MODE: u32 = 1 << 5;
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 6;
}

/// Replication targets of redis.set_repl (PROPAGATE_AOF | PROPAGATE_REPL).
pub const REPL_AOF: u8 = 1;
pub const REPL_REPLICA: u8 = 2;
pub const REPL_ALL: u8 = 3;

pub const SLOW_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const SLOW_SCRIPT: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// What the running script is called: the SHA1 of an EVAL script, or a
/// function's name (an EVAL allocates nothing for it).
#[derive(Clone)]
pub enum FuncName {
    Sha([u8; 40]),
    Function(String),
}

impl FuncName {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            FuncName::Sha(s) => s,
            FuncName::Function(f) => f.as_bytes(),
        }
    }
}

impl std::fmt::Display for FuncName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

/// The script being run.
pub struct RunCtx {
    /// The client that sent EVAL/FCALL (its slab key and id).
    pub caller: usize,
    pub caller_id: u64,
    /// The caller's argv (FUNCTION STATS shows it).
    pub argv: Vec<Bytes>,
    /// The SHA1 (EVAL) or the function name (FCALL).
    pub funcname: FuncName,
    pub flags: u32,
    pub repl_flags: u8,
    pub start_us: u64,
    /// Protocol and database of the script's own client (redis.setresp, SELECT).
    pub resp: u8,
    pub db: usize,
    /// The caller is our master (or the AOF): never refused, never killed.
    pub obey_client: bool,
    /// Out of memory when the script started (Redis's pre_command_oom_state).
    pub oom: bool,
    /// Cluster mode: the slot of the keys the script touched so far (its
    /// declared keys first); a script stays in one slot.
    pub cluster_slot: Option<usize>,
}

impl RunCtx {
    #[inline]
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }
}

/// Redis's scriptFlagsToCmdFlags: a script that declared flags replaces
/// the command's write/deny-oom/stale flags with its own.
pub fn script_flags_to_cmd_flags(cmd_flags: u32, script_flags: u32) -> u32 {
    let mut f = cmd_flags & !(flag::STALE | flag::DENYOOM | flag::WRITE | flag::MAY_REPLICATE);
    if script_flags & (sflag::ALLOW_OOM | sflag::NO_WRITES) == 0 {
        f |= flag::DENYOOM;
    }
    if script_flags & sflag::NO_WRITES == 0 {
        f |= flag::WRITE;
    }
    if script_flags & sflag::ALLOW_STALE != 0 {
        f |= flag::STALE;
    }
    f
}

impl Server {
    /// True while a script (or a library load) is running.
    pub fn script_running(&self) -> bool {
        self.scripts.run.is_some()
    }

    /// True while a script runs past busy-reply-threshold: other clients
    /// get -BUSY.
    pub fn script_timed_out(&self) -> bool {
        self.scripts
            .run
            .as_ref()
            .is_some_and(|r| r.has(rflag::TIMEDOUT))
    }

    /// The -BUSY error for a client talking to us while a script is busy,
    /// None when the command may run (SCRIPT KILL, FUNCTION KILL|STATS,
    /// SHUTDOWN NOSAVE, and the commands flagged allow-busy).
    pub fn script_busy_refusal(&self, cmd: &cmd::CommandSpec, argv: &[Bytes]) -> Option<CmdError> {
        let run = self.scripts.run.as_ref()?;
        if !run.has(rflag::TIMEDOUT) {
            return None;
        }
        // SHUTDOWN only with NOSAVE: a save would see the script's half-done
        // writes. (SCRIPT KILL, FUNCTION KILL and STATS are allow-busy
        // subcommands.)
        let shutdown_nosave =
            cmd.name != "shutdown" || argv[1..].iter().any(|a| a.eq_ignore_ascii_case(b"nosave"));
        let allowed = cmd.has(flag::ALLOW_BUSY) && shutdown_nosave;
        if allowed {
            return None;
        }
        Some(if run.has(rflag::EVAL_MODE) {
            SLOW_EVAL.into()
        } else {
            SLOW_SCRIPT.into()
        })
    }

    /// The flags processCommand checks for EVAL*/FCALL* (Redis's
    /// getCommandFlags: the script's own flags); other commands' are
    /// their table entry's (a container's subcommand has its own).
    pub fn script_command_flags(&self, spec: &cmd::CommandSpec, argv: &[Bytes]) -> u32 {
        match spec.name {
            "eval" | "evalsha" | "eval_ro" | "evalsha_ro" => {
                let evalsha = spec.name.starts_with("evalsha");
                match self.eval_script_flags(evalsha, &argv[1]) {
                    Some(sf) if sf & sflag::EVAL_COMPAT_MODE == 0 => {
                        script_flags_to_cmd_flags(spec.flags, sf)
                    }
                    _ => spec.flags,
                }
            }
            "fcall" | "fcall_ro" => match self.scripts.functions.function_flags(&argv[1]) {
                Some(sf) => script_flags_to_cmd_flags(spec.flags, sf),
                None => spec.flags,
            },
            _ => spec.flags,
        }
    }

    /// Redis's scriptPrepareForRun: refuses a run the server state does not
    /// allow, else installs the run context.
    pub fn script_prepare(
        &mut self,
        key: usize,
        argv: &[Bytes],
        funcname: FuncName,
        script_flags: u32,
        ro: bool,
        eval_mode: bool,
    ) -> Result<(), CmdError> {
        let Some(c) = self.clients.get(key) else {
            return Err("ERR no client".into());
        };
        // Redis's mustObeyClient: our master, or the AOF being loaded.
        let obey = c.kind == Kind::Master || c.id == crate::server::AOF_CLIENT_ID;
        let (caller_id, db) = (c.id, c.db);
        let running_stale =
            self.repl.is_replica() && !self.repl.link_up() && !self.cfg.replica_serve_stale_data;
        if script_flags & sflag::EVAL_COMPAT_MODE == 0 {
            if script_flags & sflag::NO_CLUSTER != 0
                && self.cfg.extra_value("cluster-enabled") == "yes"
            {
                return Err("ERR Can not run script on cluster, 'no-cluster' flag is set.".into());
            }
            if running_stale && script_flags & sflag::ALLOW_STALE == 0 {
                return Err("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.".into());
            }
            if script_flags & sflag::NO_WRITES == 0 {
                if self.repl.is_replica() && self.cfg.replica_read_only && !obey {
                    return Err(
                        "READONLY Can not run script with write flag on readonly replica".into(),
                    );
                }
                if !self.repl.is_replica()
                    && self.persist.bgsave_failed()
                    && self.cfg.stop_writes_on_bgsave_error
                    && !self.cfg.save.is_empty()
                    && !obey
                {
                    return Err("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.".into());
                }
                if ro {
                    return Err(
                        "ERR Can not execute a script with write flag using *_ro command.".into(),
                    );
                }
                if !self.repl.is_replica()
                    && self.cfg.min_replicas_to_write > 0
                    && self.cfg.min_replicas_max_lag > 0
                    && self.good_replicas(self.ks.now_ms, self.cfg.min_replicas_max_lag)
                        < self.cfg.min_replicas_to_write as usize
                {
                    return Err(error::NOREPLICAS.into());
                }
            }
        } else if running_stale {
            return Err(error::MASTERDOWN.into());
        }
        let oom = self.cfg.maxmemory > 0 && !obey && !self.perform_evictions();
        if script_flags & sflag::EVAL_COMPAT_MODE == 0
            && oom
            && script_flags & (sflag::ALLOW_OOM | sflag::NO_WRITES) == 0
        {
            return Err("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'".into());
        }
        let mut rf = 0;
        if eval_mode {
            rf |= rflag::EVAL_MODE;
        }
        let compat = script_flags & sflag::EVAL_COMPAT_MODE != 0;
        if ro || (!compat && script_flags & sflag::NO_WRITES != 0) {
            rf |= rflag::READ_ONLY;
        }
        if !compat && script_flags & sflag::ALLOW_OOM != 0 {
            rf |= rflag::ALLOW_OOM;
        }
        if compat || script_flags & sflag::ALLOW_CROSS_SLOT != 0 {
            rf |= rflag::ALLOW_CROSS_SLOT;
        }
        self.scripts.run = Some(RunCtx {
            caller: key,
            caller_id,
            // Only FUNCTION STATS shows it (EVAL's name is its SHA1).
            argv: if eval_mode { Vec::new() } else { argv.to_vec() },
            funcname,
            flags: rf,
            repl_flags: REPL_ALL,
            start_us: crate::util::monotonic_us(),
            resp: 2,
            db,
            obey_client: obey,
            oom,
            // (Only cluster mode reads it: no key scan and CRC16 otherwise.)
            cluster_slot: if self.cluster.is_some() {
                self.cluster_query_slot(argv)
            } else {
                None
            },
        });
        Ok(())
    }

    /// Redis's scriptResetRun: the run is over. A caller that was protected
    /// while the script ran too long gets its pending input looked at again.
    pub fn script_reset(&mut self) {
        if let Some(run) = self.scripts.run.take() {
            if run.has(rflag::TIMEDOUT) {
                self.script_unprotect(run.caller);
            }
        }
    }

    /// SCRIPT KILL (is_eval) and FUNCTION KILL.
    pub fn script_kill(&mut self, is_eval: bool) -> Result<(), CmdError> {
        let Some(run) = self.scripts.run.as_mut() else {
            return Err("NOTBUSY No scripts in execution right now.".into());
        };
        if run.obey_client {
            return Err("UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.".into());
        }
        if run.has(rflag::WRITE_DIRTY) {
            return Err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.".into());
        }
        if is_eval && !run.has(rflag::EVAL_MODE) {
            return Err(SLOW_SCRIPT.into());
        }
        if !is_eval && run.has(rflag::EVAL_MODE) {
            return Err(SLOW_EVAL.into());
        }
        run.flags |= rflag::KILLED;
        Ok(())
    }

    /// Called by the VM's count hook (Redis's scriptInterrupt): past the
    /// threshold, serve other clients between instructions. True = the
    /// script was killed.
    pub fn script_interrupt(&mut self) -> bool {
        let Some(run) = self.scripts.run.as_mut() else {
            return false;
        };
        if !run.has(rflag::TIMEDOUT) {
            let threshold = self.cfg.busy_reply_threshold;
            let elapsed_ms = crate::util::monotonic_us().saturating_sub(run.start_us) / 1000;
            if elapsed_ms < threshold {
                return false;
            }
            log::warn!(
                "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
                elapsed_ms,
                if run.has(rflag::EVAL_MODE) { "SCRIPT KILL" } else { "FUNCTION KILL" },
                run.funcname
            );
            run.flags |= rflag::TIMEDOUT;
            let caller = run.caller;
            self.script_protect(caller);
        }
        self.process_events_while_blocked();
        self.scripts
            .run
            .as_ref()
            .is_some_and(|r| r.has(rflag::KILLED))
    }

    /// Redis's scriptCall: one redis.call/pcall. Runs the command through
    /// the same table, arity and flag checks and `call()` a client's command
    /// goes through, as the script's client (its own db and protocol).
    /// The raw reply is left in `scripts.reply_buf`; Err is the error text
    /// of a refused command.
    pub fn script_call(&mut self, argv: &[Bytes]) -> Result<(), String> {
        let Some(run) = self.scripts.run.as_ref() else {
            return Err("redis.call/pcall can only be called inside a script invocation".into());
        };
        let caller = run.caller;
        const UNKNOWN: &str = "Unknown Redis command called from script";
        const ARITY: &str = "Wrong number of args calling Redis command from script";
        // Redis's lookupCommand: a container's subcommand is the command.
        let spec = match cmd::table::lookup_argv(argv) {
            cmd::table::Lookup::Found(s) => s,
            _ => return Err(UNKNOWN.into()),
        };
        let mut noscript = spec.has(flag::NOSCRIPT);
        if spec.subs.is_empty() && spec.arity == -2 && argv.len() >= 2 {
            // A container whose handler tells its subcommands apart (every
            // Redis container has arity -2): Redis's command table knows
            // whether the subcommand exists, its arity and its noscript flag.
            if let Some(base) =
                cmd::meta::find(spec.name.as_bytes()).filter(|m| m.has_subcommands())
            {
                let Some(sub) = cmd::meta::find_sub(base, &argv[1]) else {
                    return Err(UNKNOWN.into());
                };
                if !sub.arity_ok(argv.len()) {
                    self.script_call_rejected(spec);
                    return Err(ARITY.into());
                }
                noscript |= sub.flags & cmd::meta::F_NOSCRIPT != 0;
            }
        }
        if !spec.arity_ok(argv.len()) {
            self.script_call_rejected(spec);
            return Err(ARITY.into());
        }
        if noscript && !self.scripts.disable_deny_script {
            self.script_call_rejected(spec);
            return Err("This Redis command is not allowed from script".into());
        }
        if let Err(e) = self.script_call_checks(spec, argv) {
            self.script_call_rejected(spec);
            return Err(e);
        }
        let Some(run) = self.scripts.run.as_mut() else {
            return Err("script ended".into());
        };
        if spec.has(flag::WRITE) {
            run.flags |= rflag::WRITE_DIRTY;
        }
        let (resp, db, repl_flags) = (run.resp, run.db, run.repl_flags);
        let Some(c) = self.clients.get_mut(caller) else {
            return Err("the client running the script is gone".into());
        };
        // The caller's connection state is the script client's for the
        // duration of the call: its own reply buffer, protocol and db.
        let mut scratch = std::mem::take(&mut self.scripts.reply_buf);
        if scratch.capacity() > 64 * 1024 {
            scratch = Vec::new();
        }
        scratch.clear();
        let saved_reply = std::mem::replace(&mut c.reply, scratch);
        let saved_sent = std::mem::replace(&mut c.sent, 0);
        let saved_resp = std::mem::replace(&mut c.resp, resp);
        let saved_db = std::mem::replace(&mut c.db, db);
        let saved_kind = std::mem::replace(&mut c.kind, Kind::Normal);
        let saved_flags = c.flags;
        c.flags &= !(flags::MULTI | flags::REPLY_OFF | flags::REPLY_SKIP | flags::PUBSUB);
        let saved_prop = self.prop.repl_flags;
        self.prop.repl_flags = repl_flags;
        self.call(caller, spec, argv);
        self.prop.repl_flags = saved_prop;
        let Some(c) = self.clients.get_mut(caller) else {
            return Err("the client running the script is gone".into());
        };
        self.scripts.reply_buf = std::mem::replace(&mut c.reply, saved_reply);
        c.sent = saved_sent;
        c.resp = saved_resp;
        let new_db = std::mem::replace(&mut c.db, saved_db);
        c.kind = saved_kind;
        c.flags = (saved_flags & !flags::DIRTY_CAS) | (c.flags & flags::DIRTY_CAS);
        if let Some(r) = self.scripts.run.as_mut() {
            r.db = new_db;
        }
        Ok(())
    }

    fn script_call_rejected(&mut self, spec: &'static cmd::CommandSpec) {
        self.cmdstats.entry(spec.name).or_default().rejected += 1;
    }

    /// The per-command checks of scriptCall (after lookup and arity).
    fn script_call_checks(
        &mut self,
        spec: &cmd::CommandSpec,
        argv: &[Bytes],
    ) -> Result<(), String> {
        if self.repl.is_replica()
            && !self.repl.link_up()
            && !self.cfg.replica_serve_stale_data
            && !spec.has(flag::STALE)
        {
            return Err("Can not execute the command on a stale replica".into());
        }
        // The ACL check goes here (scriptVerifyACL): "The user executing the
        // script <reason>", against the caller's user.
        self.script_acl_check(spec, argv)?;
        let Some(run) = self.scripts.run.as_ref() else {
            return Err("script ended".into());
        };
        let cmd_flags = spec.flags;
        if run.has(rflag::READ_ONLY) && cmd_flags & (flag::WRITE | flag::MAY_REPLICATE) != 0 {
            return Err("Write commands are not allowed from read-only scripts.".into());
        }
        if cmd_flags & flag::WRITE != 0 && !run.has(rflag::WRITE_DIRTY) {
            if self.repl.is_replica() && self.cfg.replica_read_only && !run.obey_client {
                return Err(format!("-{}", error::READONLY));
            }
            if !self.repl.is_replica()
                && self.persist.bgsave_failed()
                && self.cfg.stop_writes_on_bgsave_error
                && !self.cfg.save.is_empty()
            {
                return Err(format!("-{}", error::MISCONF));
            }
            if !self.repl.is_replica()
                && self.cfg.min_replicas_to_write > 0
                && self.good_replicas(self.ks.now_ms, self.cfg.min_replicas_max_lag)
                    < self.cfg.min_replicas_to_write as usize
            {
                return Err(format!("-{}", error::NOREPLICAS));
            }
        }
        let run = self.scripts.run.as_ref().ok_or("script ended")?;
        if !run.has(rflag::ALLOW_OOM)
            && self.cfg.maxmemory > 0
            && !run.obey_client
            && !run.has(rflag::WRITE_DIRTY)
            && run.oom
            && cmd_flags & flag::DENYOOM != 0
        {
            return Err(format!("-{}", error::OOM));
        }
        // Cluster: served here, and in the script's one slot
        // (scriptVerifyClusterState).
        if self.cluster.is_some() && !run.obey_client {
            let (caller, allow) = (run.caller, run.has(rflag::ALLOW_CROSS_SLOT));
            let mut slot = run.cluster_slot;
            self.cluster_script_check(caller, spec, argv, &mut slot, allow)?;
            if let Some(r) = self.scripts.run.as_mut() {
                r.cluster_slot = slot;
            }
        }
        Ok(())
    }

    /// Redis's scriptVerifyACL: the caller's user must be allowed the
    /// command with these arguments (refusals go to ACL LOG, context lua).
    pub fn script_acl_check(
        &mut self,
        spec: &cmd::CommandSpec,
        argv: &[Bytes],
    ) -> Result<(), String> {
        let Some(run) = self.scripts.run.as_ref() else {
            return Ok(());
        };
        let caller = run.caller;
        self.acl_check_command(caller, spec, argv, crate::acl::log::Context::Lua)
            .map_err(|d| format!("The user executing the script {}", d.message()))
    }

    /// redis.acl_check_cmd: whether the caller's user may run the command
    /// (nothing is logged).
    pub fn script_acl_allowed(&self, spec: &cmd::CommandSpec, argv: &[Bytes]) -> bool {
        self.scripts
            .run
            .as_ref()
            .is_none_or(|run| self.acl_allows(run.caller, spec, argv))
    }
}
