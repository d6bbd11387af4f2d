//! FUNCTION LOAD|DELETE|LIST|DUMP|RESTORE|FLUSH|STATS|KILL|HELP. The
//! commands that change libraries bump `dirty`, so `call()`'s one rule
//! propagates them verbatim to replicas and the AOF.

use super::functions::{self, Library};
use super::sflag;
use crate::cmd::eq_ic;
use crate::error::{self, CmdError};
use crate::net::Kind;
use crate::server::Server;
use bytes::Bytes;

const FUNCTION_HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
];

/// (subcommand, arity as Redis's table has it).
const SUBCOMMANDS: &[(&str, i32)] = &[
    ("delete", 3),
    ("dump", 2),
    ("flush", -2),
    ("help", 2),
    ("kill", 2),
    ("list", -2),
    ("load", -3),
    ("restore", -3),
    ("stats", 2),
];

impl Server {
    /// FUNCTION <subcommand>.
    pub fn cmd_function(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
        let Some(&(_, arity)) = SUBCOMMANDS.iter().find(|(n, _)| *n == sub) else {
            return Err(CmdError::msg(format!(
                "ERR unknown subcommand '{}'. Try FUNCTION HELP.",
                String::from_utf8_lossy(&argv[1])
            )));
        };
        let n = argv.len() as i32;
        if (arity > 0 && n != arity) || (arity < 0 && n < -arity) {
            return Err(CmdError::msg(format!(
                "ERR wrong number of arguments for 'function|{sub}' command"
            )));
        }
        match sub.as_str() {
            "help" => {
                self.reply_help(key, FUNCTION_HELP);
                Ok(())
            }
            "load" => self.function_load(key, argv),
            "delete" => {
                let Some(lib) = self.scripts.functions.unlink(&argv[2]) else {
                    return Err("ERR Library not found".into());
                };
                self.scripts.functions.free_library(lib);
                self.functions_changed();
                self.reply_ok(key);
                Ok(())
            }
            "kill" => {
                self.script_kill(false)?;
                self.reply_ok(key);
                Ok(())
            }
            "stats" => self.function_stats(key),
            "list" => self.function_list(key, argv),
            "dump" => {
                let payload = functions::dump_payload(
                    &self.scripts.functions.codes(),
                    self.cfg.rdbcompression,
                );
                self.reply(key, |o| o.bulk(&payload));
                Ok(())
            }
            "restore" => self.function_restore(key, argv),
            "flush" => {
                if argv.len() > 3 {
                    return Err(subcommand_syntax_error(&argv[1]));
                }
                if argv.len() == 3 && !eq_ic(&argv[2], "sync") && !eq_ic(&argv[2], "async") {
                    return Err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option".into());
                }
                self.functions_flush();
                self.functions_changed();
                self.reply_ok(key);
                Ok(())
            }
            _ => Err(error::unknown_subcommand(&argv[1], "FUNCTION")),
        }
    }

    /// FUNCTION LOAD|DELETE|FLUSH|RESTORE read from the AOF (no client,
    /// no reply, no time limit). Failures are logged, as the AOF loads on.
    pub fn function_apply_from_aof(&mut self, argv: &[Bytes]) {
        let sub = argv
            .get(1)
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        let r: Result<(), String> = match sub.as_slice() {
            b"load" => {
                let replace = argv.len() > 3 && eq_ic(&argv[2], "replace");
                match argv.last() {
                    Some(code) if argv.len() >= 3 => {
                        self.functions_create(code, replace, 0).map(|_| ())
                    }
                    _ => Ok(()),
                }
            }
            b"delete" => {
                if let Some(lib) = argv.get(2).and_then(|n| self.scripts.functions.unlink(n)) {
                    self.scripts.functions.free_library(lib);
                }
                Ok(())
            }
            b"flush" => {
                self.functions_flush();
                Ok(())
            }
            b"restore" => {
                let policy_flush = argv.get(3).is_some_and(|p| eq_ic(p, "flush"));
                let replace = argv.get(3).is_some_and(|p| eq_ic(p, "replace"));
                match argv.get(2) {
                    Some(p) if crate::persist::rdb_load::verify_dump_payload(p) => {
                        functions::parse_payload(p).and_then(|codes| {
                            if policy_flush {
                                self.functions_flush();
                            }
                            codes.into_iter().try_for_each(|c| {
                                self.functions_create(&Bytes::from(c), replace, 0)
                                    .map(|_| ())
                            })
                        })
                    }
                    _ => Err("DUMP payload version or checksum are wrong".into()),
                }
            }
            _ => Ok(()),
        };
        if let Err(e) = r {
            log::warn!("Error applying FUNCTION from the append only file: {e}");
        }
    }

    /// A FUNCTION command changed the libraries: counted as a change (for
    /// save points) and propagated as received.
    fn functions_changed(&mut self) {
        self.dirty += 1;
    }

    fn function_load(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let mut replace = false;
        let mut pos = 2;
        while pos < argv.len() - 1 {
            if eq_ic(&argv[pos], "replace") {
                replace = true;
                pos += 1;
                continue;
            }
            return Err(CmdError::msg(format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(&argv[pos])
            )));
        }
        if pos >= argv.len() {
            return Err("ERR Function code is missing".into());
        }
        let obey = self
            .clients
            .get(key)
            .is_some_and(|c| c.kind == Kind::Master);
        let timeout = if obey { 0 } else { functions::LOAD_TIMEOUT_MS };
        let name = self
            .functions_create(&argv[pos], replace, timeout)
            .map_err(|e| CmdError::msg(format!("ERR {e}")))?;
        self.functions_changed();
        self.reply(key, |o| o.bulk(&name));
        Ok(())
    }

    fn function_stats(&mut self, key: usize) -> Result<(), CmdError> {
        if let Some(run) = &self.scripts.run {
            if run.has(super::run::rflag::EVAL_MODE) {
                return Err(super::run::SLOW_EVAL.into());
            }
        }
        let running = self.scripts.run.as_ref().map(|r| {
            (
                r.funcname.clone(),
                r.argv.clone(),
                crate::util::monotonic_us().saturating_sub(r.start_us) / 1000,
            )
        });
        let libs = self.scripts.functions.libraries.len();
        let funcs = self.scripts.functions.function_count();
        self.reply(key, |o| {
            o.map(2);
            o.bulk(b"running_script");
            match &running {
                None => o.null(),
                Some((name, argv, ms)) => {
                    o.map(3);
                    o.bulk(b"name");
                    o.bulk(name.as_bytes());
                    o.bulk(b"command");
                    o.array(argv.len());
                    for a in argv {
                        o.bulk(a);
                    }
                    o.bulk(b"duration_ms");
                    o.int(*ms as i64);
                }
            }
            o.bulk(b"engines");
            o.map(1);
            o.bulk(b"LUA");
            o.map(2);
            o.bulk(b"libraries_count");
            o.int(libs as i64);
            o.bulk(b"functions_count");
            o.int(funcs as i64);
        });
        Ok(())
    }

    fn function_list(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let mut with_code = false;
        let mut pattern: Option<&[u8]> = None;
        let mut i = 2;
        while i < argv.len() {
            if !with_code && eq_ic(&argv[i], "withcode") {
                with_code = true;
                i += 1;
                continue;
            }
            if pattern.is_none() && eq_ic(&argv[i], "libraryname") {
                if i >= argv.len() - 1 {
                    return Err("ERR library name argument was not given".into());
                }
                pattern = Some(&argv[i + 1]);
                i += 2;
                continue;
            }
            return Err(CmdError::msg(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(&argv[i])
            )));
        }
        let libs: Vec<&Library> = self
            .scripts
            .functions
            .libraries
            .values()
            .filter(|l| pattern.is_none_or(|p| crate::util::string_match(p, &l.name, true)))
            .collect();
        let mut buf = Vec::new();
        let resp = self.clients.get(key).map_or(2, |c| c.resp);
        {
            let mut o = crate::resp::Out::new(&mut buf, resp);
            o.array(libs.len());
            for lib in libs {
                o.map(if with_code { 4 } else { 3 });
                o.bulk(b"library_name");
                o.bulk(&lib.name);
                o.bulk(b"engine");
                o.bulk(b"LUA");
                o.bulk(b"functions");
                o.array(lib.functions.len());
                for f in &lib.functions {
                    o.map(3);
                    o.bulk(b"name");
                    o.bulk(&f.name);
                    o.bulk(b"description");
                    match &f.desc {
                        Some(d) => o.bulk(d),
                        None => o.null(),
                    }
                    o.bulk(b"flags");
                    let names: Vec<&str> = sflag::NAMES
                        .iter()
                        .filter(|(v, _)| f.flags & v != 0)
                        .map(|(_, n)| *n)
                        .collect();
                    o.set(names.len());
                    for n in names {
                        o.simple(n);
                    }
                }
                if with_code {
                    o.bulk(b"library_code");
                    o.bulk(&lib.code);
                }
            }
        }
        self.reply(key, |o| o.raw(&buf));
        Ok(())
    }

    fn function_restore(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        if argv.len() > 4 {
            return Err(subcommand_syntax_error(&argv[1]));
        }
        #[derive(PartialEq)]
        enum Policy {
            Append,
            Replace,
            Flush,
        }
        let policy = match argv.get(3) {
            None => Policy::Append,
            Some(p) if eq_ic(p, "append") => Policy::Append,
            Some(p) if eq_ic(p, "replace") => Policy::Replace,
            Some(p) if eq_ic(p, "flush") => Policy::Flush,
            Some(_) => return Err(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
                    .into(),
            ),
        };
        let payload = &argv[2];
        if !crate::persist::rdb_load::verify_dump_payload(payload) {
            return Err("ERR DUMP payload version or checksum are wrong".into());
        }
        let codes =
            functions::parse_payload(payload).map_err(|e| CmdError::msg(format!("ERR {e}")))?;
        // Build the new libraries aside, then join them (Redis's libraryJoin).
        let saved = std::mem::take(&mut self.scripts.functions);
        let r = (|| -> Result<(), String> {
            for code in &codes {
                self.functions_create(&Bytes::copy_from_slice(code), false, 0)?;
            }
            Ok(())
        })();
        let loaded = std::mem::replace(&mut self.scripts.functions, saved);
        if let Err(e) = r {
            return Err(CmdError::msg(format!("ERR {e}")));
        }
        let r = if policy == Policy::Flush {
            self.functions_flush();
            self.functions_join(loaded, false)
        } else {
            self.functions_join(loaded, policy == Policy::Replace)
        };
        r.map_err(|e| CmdError::msg(format!("ERR {e}")))?;
        self.functions_changed();
        self.reply_ok(key);
        Ok(())
    }

    /// Adds the libraries loaded aside (in another state) to the current
    /// ones, recompiling them here. On any collision nothing changes.
    fn functions_join(
        &mut self,
        src: functions::FunctionsCtx,
        replace: bool,
    ) -> Result<(), String> {
        let mut names: Vec<&Bytes> = src.libraries.keys().collect();
        names.sort();
        let cur = &self.scripts.functions;
        for n in &names {
            if cur.libraries.contains_key(*n) && !replace {
                return Err(format!(
                    "Library {} already exists",
                    String::from_utf8_lossy(n)
                ));
            }
        }
        for lib in src.libraries.values() {
            for f in &lib.functions {
                if let Some(owner) = cur.functions.get(&Bytes::from(f.name.to_ascii_lowercase())) {
                    let replaced = replace && src.libraries.contains_key(owner);
                    if !replaced {
                        return Err(format!(
                            "Function {} already exists",
                            String::from_utf8_lossy(&f.name)
                        ));
                    }
                }
            }
        }
        for n in names {
            if let Some(lib) = src.libraries.get(n) {
                self.functions_create(&lib.code, replace, 0)?;
            }
        }
        Ok(())
    }
}

/// Redis's addReplySubcommandSyntaxError for FUNCTION.
fn subcommand_syntax_error(sub: &[u8]) -> CmdError {
    let sub: String = String::from_utf8_lossy(sub).chars().take(128).collect();
    CmdError::msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try FUNCTION HELP."
    ))
}
