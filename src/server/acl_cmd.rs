//! ACL on the running server: loading users at startup (`user` lines,
//! `aclfile`, `requirepass`), the permission check of every command (one
//! function, `acl_check_command`, called by processCommand, EXEC and
//! scripts), authentication (AUTH, HELLO AUTH), the ACL command, ACL LOG
//! entries, and the effects on connected clients (a deleted user's clients
//! are disconnected; so are subscribers whose channels were revoked).

use super::Server;
use crate::acl::log::{Context, Entry, Reason};
use crate::acl::{self, rules, Denied, User, UserId, DEFAULT_USER};
use crate::cmd::meta::{self, Meta};
use crate::cmd::{eq_ic, CommandSpec};
use crate::error::{self, CmdError};
use crate::net::{flags, Kind};
use bytes::Bytes;

type R = Result<(), CmdError>;

/// The Redis metadata of the command `spec` runs with these arguments
/// (the subcommand's for a container), by original name: ACL rules name
/// commands as Redis does, whatever rename-command did.
pub fn meta_for(spec: &CommandSpec, argv: &[Bytes]) -> Option<&'static Meta> {
    // By the spec's address: no name hashing per command.
    type BySpec = std::collections::HashMap<usize, &'static Meta, rustc_hash::FxBuildHasher>;
    static BY_SPEC: std::sync::OnceLock<BySpec> = std::sync::OnceLock::new();
    let index = BY_SPEC.get_or_init(|| {
        let mut map = BySpec::default();
        for s in crate::cmd::table::all() {
            for s in std::iter::once(s).chain(s.subs.iter()) {
                if let Some(m) = meta::find(s.name.as_bytes()) {
                    map.insert(s as *const CommandSpec as usize, m);
                }
            }
        }
        map
    });
    let m = match index.get(&(spec as *const CommandSpec as usize)) {
        Some(m) => *m,
        None => meta::find(spec.name.as_bytes())?,
    };
    if m.has_subcommands() && argv.len() >= 2 {
        return Some(meta::find_sub(m, &argv[1]).unwrap_or(m));
    }
    Some(m)
}

/// Validates the `user` lines of a config as Redis does while reading the
/// file (ACLAppendUserForLoading): Err is the fatal config error text.
pub fn validate_config_users(cfg: &crate::config::Config) -> Result<(), String> {
    let mut seen: Vec<&str> = Vec::new();
    for (line_no, line, args) in &cfg.user_lines {
        let fail = |err: String| {
            format!(
                "\n*** FATAL CONFIG FILE ERROR (Redis {}) ***\nReading the configuration file, at line {line_no}\n>>> '{line}'\n{err}",
                crate::REDIS_VERSION
            )
        };
        // Redis reports argv[index] of the whole line ("user" is argv[0])
        // with an index into the rules: the token it names is off by two.
        let token = |i: usize| -> String {
            let mut argv = vec!["user".to_string()];
            argv.extend(args.iter().cloned());
            argv.get(i).cloned().unwrap_or_default()
        };
        let name = args[0].as_str();
        if seen.contains(&name) {
            return Err(fail(format!(
                "Error in user declaration '{}': {}",
                token(1),
                rules::RuleError::Duplicate.text()
            )));
        }
        seen.push(name);
        let ops: Vec<Vec<u8>> = args[1..].iter().map(|a| a.as_bytes().to_vec()).collect();
        // (Redis leaves errno as it was, ENOENT at that point of startup.)
        let merged = rules::merge_selector_args(&ops).map_err(|j| {
            fail(format!(
                "Error in user declaration '{}': {}",
                token(j),
                rules::RuleError::UnknownCommand.text()
            ))
        })?;
        let mut fake = User::new(b"fake", 0);
        for (j, op) in merged.iter().enumerate() {
            match rules::set_user(&mut fake, op, 0) {
                Ok(()) | Err(rules::RuleError::UnknownCommand) => {}
                Err(e) => {
                    return Err(fail(format!(
                        "Error in user declaration '{}': {}",
                        token(j),
                        e.text()
                    )))
                }
            }
        }
    }
    Ok(())
}

impl Server {
    fn pubsub_default(&self) -> u8 {
        if self.cfg.acl_pubsub_allchannels {
            acl::SEL_ALLCHANNELS
        } else {
            0
        }
    }

    /// Loads the users at startup (Redis's ACLLoadUsersAtStartup after the
    /// config set requirepass): Err is logged and the server exits.
    pub fn acl_init(&mut self) -> Result<(), String> {
        self.acl.pubsub_default = self.pubsub_default();
        let d = rules::default_user(self.acl.pubsub_default);
        self.acl.replace_all(vec![d]);
        let pass = self.cfg.requirepass.clone();
        self.acl.set_default_password(&pass);
        self.acl_refresh_default();
        if !self.cfg.aclfile.is_empty() && !self.cfg.user_lines.is_empty() {
            return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
        }
        let lines = self.cfg.user_lines.clone();
        for (_, _, args) in &lines {
            let name = args[0].as_bytes();
            if rules::has_spaces(name) {
                return Err("Spaces not allowed in ACL usernames".into());
            }
            let mut u = match self.acl.find(name) {
                Some(_) => {
                    // Only the default user can be defined again: reset.
                    let mut u = self.acl.default_user().clone();
                    let _ = rules::set_user(&mut u, b"reset", self.acl.pubsub_default);
                    u
                }
                None => User::new(name, self.acl.pubsub_default),
            };
            let ops: Vec<Vec<u8>> = args[1..].iter().map(|a| a.as_bytes().to_vec()).collect();
            let merged = rules::merge_selector_args(&ops).unwrap_or_default();
            for op in &merged {
                if let Err(e) = rules::set_user(&mut u, op, self.acl.pubsub_default) {
                    log::warn!(
                        "Error loading ACL rule '{}' for the user named '{}': {}",
                        String::from_utf8_lossy(op),
                        args[0],
                        e.text()
                    );
                    return Err("Critical error while loading ACLs. Exiting.".into());
                }
            }
            if !u.enabled() {
                log::info!("The user '{}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.", args[0]);
            }
            self.acl.put(u);
        }
        if !self.cfg.aclfile.is_empty() {
            let users = acl::file::load(&self.cfg.aclfile, self.acl.pubsub_default)
                .map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
            self.acl.replace_all(users);
        }
        self.acl_refresh_default();
        Ok(())
    }

    /// After the default user changed: whether new connections start
    /// authenticated follows it.
    fn acl_refresh_default(&mut self) {
        let u = self.acl.default_user_mut();
        u.refresh();
    }

    /// CONFIG SET requirepass / acl-pubsub-default.
    pub fn acl_config_changed(&mut self, name: &str) {
        match name {
            "requirepass" => {
                let pass = self.cfg.requirepass.clone();
                self.acl.set_default_password(&pass);
                self.acl_refresh_default();
            }
            "acl-pubsub-default" => self.acl.pubsub_default = self.pubsub_default(),
            _ => {}
        }
    }

    /// The ACL check of a command about to run, for client `key`: Ok, or
    /// the refusal, already recorded in ACL LOG with `ctx`. This is the
    /// single place permissions are checked: processCommand calls it
    /// (Toplevel/Multi), EXEC again for each queued command, and the
    /// scripting engine for each `redis.call` (Lua, with the calling
    /// client's key). Callers word the error: `Denied::toplevel_error`,
    /// `Denied::exec_error`, or "The user executing the script " +
    /// `Denied::message` for scripts.
    pub fn acl_check_command(
        &mut self,
        key: usize,
        spec: &CommandSpec,
        argv: &[Bytes],
        ctx: Context,
    ) -> Result<(), Denied> {
        let Some(c) = self.clients.get(key) else {
            return Ok(());
        };
        if c.kind == Kind::Master {
            return Ok(());
        }
        let user = self.acl.user(c.user);
        if user.unrestricted {
            return Ok(());
        }
        let Some(m) = meta_for(spec, argv) else {
            return Ok(());
        };
        let mut scratch = std::mem::take(&mut self.acl_keys);
        let r = self
            .acl
            .user(c.user)
            .check_command_with(m, argv, &mut scratch);
        self.acl_keys = scratch;
        if let Err(d) = r {
            let (reason, object) = match d {
                Denied::Command => (Reason::Command, m.name.as_bytes().to_vec()),
                Denied::Key(p) => (Reason::Key, argv[p].to_vec()),
                Denied::Channel(p) => (Reason::Channel, argv[p].to_vec()),
            };
            self.acl_log(key, reason, ctx, object, None);
        }
        r
    }

    /// Whether client `key`'s user may run the command (no ACL LOG entry;
    /// redis.acl_check_cmd).
    pub fn acl_allows(&self, key: usize, spec: &CommandSpec, argv: &[Bytes]) -> bool {
        let Some(c) = self.clients.get(key) else {
            return true;
        };
        let user = self.acl.user(c.user);
        user.unrestricted
            || c.kind == Kind::Master
            || meta_for(spec, argv).is_none_or(|m| user.check_command(m, argv).is_ok())
    }

    /// ACLUserCheckCmdWithUnrestrictedKeyAccess for SORT's BY and GET
    /// patterns (true for every other command: only SORT asks).
    pub fn acl_all_keys_readable(
        &self,
        c: &crate::net::Client,
        spec: &CommandSpec,
        argv: &[Bytes],
    ) -> bool {
        let user = self.acl.user(c.user);
        if user.unrestricted || c.kind == Kind::Master || !spec.name.starts_with("sort") {
            return true;
        }
        meta_for(spec, argv).is_none_or(|m| user.check_command_all_keys(m, argv, meta::K_ACCESS))
    }

    /// The error processCommand replies for a refused command.
    pub fn acl_toplevel_error(spec: &CommandSpec, argv: &[Bytes], d: Denied) -> CmdError {
        let name = meta_for(spec, argv).map_or(spec.name, |m| m.name);
        CmdError::msg(d.toplevel_error(name))
    }

    /// Adds an ACL LOG entry about client `key` (username: the client's
    /// user unless given).
    pub fn acl_log(
        &mut self,
        key: usize,
        reason: Reason,
        context: Context,
        object: Vec<u8>,
        username: Option<Vec<u8>>,
    ) {
        let Some(c) = self.clients.get(key) else {
            return;
        };
        let username = username.unwrap_or_else(|| self.acl.user(c.user).name.clone());
        let mut info = self.client_info_line(key);
        if info.ends_with('\n') {
            info.pop();
        }
        let e = Entry {
            count: 1,
            reason,
            context,
            object,
            username,
            ctime_ms: crate::util::mstime(),
            client_info: info,
        };
        let max = self.cfg.acllog_max_len as usize;
        self.acl.log.add(e, max);
    }

    /// ACLAuthenticateUser: on success the client is authenticated as that
    /// user; on failure an `auth` entry goes to ACL LOG.
    /// `argv0`: the command as typed (the log entry's object).
    pub fn acl_authenticate(&mut self, key: usize, argv0: &[u8], user: &[u8], pass: &[u8]) -> bool {
        let ok = self
            .acl
            .find(user)
            .filter(|&id| self.acl.user(id).password_ok(pass));
        match ok {
            Some(id) => {
                if let Some(c) = self.clients.get_mut(key) {
                    c.user = id;
                    c.flags |= flags::AUTHENTICATED;
                }
                true
            }
            None => {
                let in_multi = self.clients.get(key).is_some_and(|c| c.has(flags::MULTI));
                let ctx = if in_multi {
                    Context::Multi
                } else {
                    Context::Toplevel
                };
                self.acl_log(key, Reason::Auth, ctx, argv0.to_vec(), Some(user.to_vec()));
                false
            }
        }
    }

    /// Disconnects the clients authenticated as `id` (its user was deleted
    /// or replaced); they are moved to the default user, unauthenticated,
    /// first. The caller itself is closed after its reply.
    fn acl_kill_user_clients(&mut self, id: UserId, caller: usize) {
        let victims: Vec<usize> = self
            .clients
            .iter()
            .filter(|(_, c)| c.user == id && c.kind == Kind::Normal)
            .map(|(k, _)| k)
            .collect();
        for k in victims {
            if let Some(c) = self.clients.get_mut(k) {
                c.user = DEFAULT_USER;
                c.flags &= !flags::AUTHENTICATED;
                if k == caller {
                    c.flags |= flags::CLOSE_AFTER_REPLY;
                    continue;
                }
            }
            self.close_async(k);
        }
    }

    /// ACLKillPubsubClientsIfNeeded: a subscriber of `id` whose channels,
    /// shard channels or patterns the new permissions no longer allow is
    /// disconnected.
    fn acl_kill_pubsub_if_needed(&mut self, id: UserId, old: &User, new: &User) {
        if new
            .selectors
            .iter()
            .any(|s| s.flags & acl::SEL_ALLCHANNELS != 0)
        {
            return;
        }
        let upcoming: Vec<Vec<u8>> = new
            .selectors
            .iter()
            .flat_map(|s| s.channels.iter().cloned())
            .collect();
        let superset = old.selectors.iter().all(|s| {
            s.flags & acl::SEL_ALLCHANNELS == 0 && s.channels.iter().all(|c| upcoming.contains(c))
        });
        if superset {
            return;
        }
        let victims: Vec<usize> = self
            .clients
            .iter()
            .filter(|(_, c)| c.user == id && c.has(flags::PUBSUB))
            .filter(|(k, _)| {
                self.clients
                    .subscriptions(*k, true)
                    .iter()
                    .any(|p| !acl::channel_allowed(&upcoming, p, true))
                    || self
                        .clients
                        .subscriptions(*k, false)
                        .iter()
                        .chain(self.clients.shard_subscriptions(*k))
                        .any(|ch| !acl::channel_allowed(&upcoming, ch, false))
            })
            .map(|(k, _)| k)
            .collect();
        for k in victims {
            // Redis frees them at once (freeClient), even the caller.
            self.close_async(k);
        }
    }

    /// The ACL command.
    pub fn cmd_acl(&mut self, key: usize, argv: &[Bytes]) -> R {
        let sub = &argv[1][..];
        let n = argv.len();
        if eq_ic(sub, "setuser") {
            let name = &argv[2];
            if rules::has_spaces(name) {
                return Err("ERR Usernames can't contain spaces or null characters".into());
            }
            let ops: Vec<Vec<u8>> = argv[3..].iter().map(|a| a.to_vec()).collect();
            let id = self.acl.find(name);
            let base = id.map(|i| self.acl.user(i).clone());
            let new = rules::apply_rules(base.as_ref(), name, &ops, self.acl.pubsub_default)
                .map_err(|e| CmdError::msg(format!("ERR {e}")))?;
            if let (Some(id), Some(old)) = (id, base.as_ref()) {
                self.acl_kill_pubsub_if_needed(id, old, &new);
            }
            self.acl.put(new);
            self.reply_ok(key);
        } else if eq_ic(sub, "deluser") {
            if argv[2..].iter().any(|u| &u[..] == b"default") {
                return Err("ERR The 'default' user cannot be removed".into());
            }
            let mut deleted = 0;
            for name in &argv[2..] {
                if let Some(id) = self.acl.remove(name) {
                    self.acl_kill_user_clients(id, key);
                    deleted += 1;
                }
            }
            self.reply(key, |o| o.int(deleted));
        } else if eq_ic(sub, "getuser") {
            let Some(id) = self.acl.find(&argv[2]) else {
                self.reply(key, |o| o.null());
                return Ok(());
            };
            let u = self.acl.user(id).clone();
            self.reply(key, |o| reply_getuser(o, &u));
        } else if (eq_ic(sub, "list") || eq_ic(sub, "users")) && n == 2 {
            let names_only = eq_ic(sub, "users");
            let items: Vec<Vec<u8>> = if names_only {
                self.acl.users().map(|(_, u)| u.name.clone()).collect()
            } else {
                acl::file::user_lines(&self.acl)
                    .into_iter()
                    .map(String::into_bytes)
                    .collect()
            };
            self.reply(key, |o| {
                o.array(items.len());
                for i in &items {
                    o.bulk(i);
                }
            });
        } else if eq_ic(sub, "whoami") {
            let name = self
                .clients
                .get(key)
                .map(|c| self.acl.user(c.user).name.clone())
                .unwrap_or_default();
            self.reply(key, |o| o.bulk(&name));
        } else if self.cfg.aclfile.is_empty() && (eq_ic(sub, "load") || eq_ic(sub, "save")) {
            return Err("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.".into());
        } else if eq_ic(sub, "load") {
            let users = acl::file::load(&self.cfg.aclfile, self.acl.pubsub_default)
                .map_err(|e| CmdError::msg(format!("ERR {e}")))?;
            let gone = self.acl.replace_all(users);
            for id in gone {
                self.acl_kill_user_clients(id, key);
            }
            self.acl_refresh_default();
            self.reply_ok(key);
        } else if eq_ic(sub, "save") {
            if let Err(e) = acl::file::save(&self.acl, &self.cfg.aclfile) {
                log::warn!("Writing ACL file for ACL SAVE: {e}");
                return Err("ERR There was an error trying to save the ACLs. Please check the server logs for more information".into());
            }
            self.reply_ok(key);
        } else if eq_ic(sub, "cat") && n == 2 {
            let cats = meta::categories();
            self.reply(key, |o| {
                o.array(cats.len());
                for c in cats {
                    o.bulk(c.as_bytes());
                }
            });
        } else if eq_ic(sub, "cat") && n == 3 {
            let Some(bit) = meta::category_bit(&argv[2]) else {
                let cat = String::from_utf8_lossy(&argv[2][..argv[2].len().min(128)]).into_owned();
                return Err(CmdError::msg(format!("ERR Unknown category '{cat}'")));
            };
            let names: Vec<&str> = meta::all()
                .iter()
                .filter(|m| m.acl & bit != 0 && super::command::have(m))
                .map(|m| m.name)
                .collect();
            self.reply(key, |o| {
                o.array(names.len());
                for nm in names {
                    o.bulk(nm.as_bytes());
                }
            });
        } else if eq_ic(sub, "genpass") && n <= 3 {
            let bits = match argv.get(2) {
                None => 256,
                Some(a) => crate::cmd::arg_i64(a)?,
            };
            if bits <= 0 || bits > 4096 {
                return Err("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096".into());
            }
            let chars = ((bits + 3) / 4) as usize;
            let mut pass = String::with_capacity(chars + 40);
            while pass.len() < chars {
                pass.push_str(&crate::util::random_hex40());
            }
            pass.truncate(chars);
            self.reply(key, |o| o.bulk(pass.as_bytes()));
        } else if eq_ic(sub, "log") && n <= 3 {
            self.acl_log_command(key, argv)?;
        } else if eq_ic(sub, "dryrun") {
            self.acl_dryrun(key, argv)?;
        } else if eq_ic(sub, "help") {
            self.reply_help(key, ACL_HELP);
        } else {
            return Err(error::subcommand_syntax_error(argv));
        }
        Ok(())
    }

    fn acl_log_command(&mut self, key: usize, argv: &[Bytes]) -> R {
        let mut count: i64 = 10;
        if let Some(a) = argv.get(2) {
            if eq_ic(a, "reset") {
                self.acl.log.reset();
                self.reply_ok(key);
                return Ok(());
            }
            count = crate::cmd::arg_i64(a)?.max(0);
        }
        let now = crate::util::mstime();
        let entries: Vec<Entry> = self
            .acl
            .log
            .entries
            .iter()
            .take(count as usize)
            .cloned()
            .collect();
        self.reply(key, |o| {
            o.array(entries.len());
            for e in &entries {
                o.map(7);
                o.bulk(b"count");
                o.int(e.count as i64);
                o.bulk(b"reason");
                o.bulk(e.reason.name().as_bytes());
                o.bulk(b"context");
                o.bulk(e.context.name().as_bytes());
                o.bulk(b"object");
                o.bulk(&e.object);
                o.bulk(b"username");
                o.bulk(&e.username);
                o.bulk(b"age-seconds");
                o.double((now - e.ctime_ms) as f64 / 1000.0);
                o.bulk(b"client-info");
                o.bulk(e.client_info.as_bytes());
            }
        });
        Ok(())
    }

    fn acl_dryrun(&mut self, key: usize, argv: &[Bytes]) -> R {
        let Some(id) = self.acl.find(&argv[2]) else {
            return Err(CmdError::msg(format!(
                "ERR User '{}' not found",
                String::from_utf8_lossy(&argv[2])
            )));
        };
        let args = &argv[3..];
        let m = meta::resolve(args)
            .filter(|m| super::command::have(m))
            .ok_or_else(|| {
                CmdError::msg(format!(
                    "ERR Command '{}' not found",
                    String::from_utf8_lossy(&argv[3])
                ))
            })?;
        if !m.arity_ok(args.len()) {
            return Err(CmdError::msg(format!(
                "ERR wrong number of arguments for '{}' command",
                m.name
            )));
        }
        match self.acl.user(id).check_command(m, args) {
            Ok(()) => self.reply_ok(key),
            Err(d) => {
                let text = match d {
                    Denied::Command => format!(
                        "This user has no permissions to run the '{}' command",
                        m.name
                    ),
                    Denied::Key(p) => format!(
                        "This user has no permissions to access the '{}' key",
                        String::from_utf8_lossy(&args[p])
                    ),
                    Denied::Channel(p) => format!(
                        "This user has no permissions to access the '{}' channel",
                        String::from_utf8_lossy(&args[p])
                    ),
                };
                self.reply(key, |o| o.bulk(text.as_bytes()));
            }
        }
        Ok(())
    }

    /// The `user` lines CONFIG REWRITE writes (none with an aclfile: the
    /// file holds the users).
    pub fn acl_rewrite_lines(&self) -> Option<Vec<String>> {
        if !self.cfg.aclfile.is_empty() {
            return None;
        }
        Some(acl::file::user_lines(&self.acl))
    }

    /// CLIENT KILL USER name: the user's id, or Redis's error.
    pub fn acl_user_for_kill(&self, name: &[u8]) -> Result<UserId, CmdError> {
        self.acl.find(name).ok_or_else(|| {
            CmdError::msg(format!(
                "ERR No such user '{}'",
                String::from_utf8_lossy(name)
            ))
        })
    }
}

/// ACL GETUSER's map.
fn reply_getuser(o: &mut crate::resp::Out<'_>, u: &User) {
    o.map(6);
    o.bulk(b"flags");
    let names: Vec<&str> = (0..acl::USER_FLAG_NAMES.len())
        .filter(|i| u.flags & (1 << i) != 0)
        .map(|i| acl::USER_FLAG_NAMES[i])
        .collect();
    o.set(names.len());
    for f in names {
        o.bulk(f.as_bytes());
    }
    o.bulk(b"passwords");
    o.array(u.passwords.len());
    for p in &u.passwords {
        o.bulk(p);
    }
    selector_fields(o, u.root());
    o.bulk(b"selectors");
    o.array(u.selectors.len() - 1);
    for s in &u.selectors[1..] {
        o.map(3);
        selector_fields(o, s);
    }
}

fn selector_fields(o: &mut crate::resp::Out<'_>, s: &acl::Selector) {
    o.bulk(b"commands");
    o.bulk(rules::describe_commands(s).as_bytes());
    o.bulk(b"keys");
    o.bulk(rules::describe_keys(s).as_bytes());
    o.bulk(b"channels");
    o.bulk(rules::describe_channels(s).as_bytes());
}

const ACL_HELP: &[&str] = &[
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
];
