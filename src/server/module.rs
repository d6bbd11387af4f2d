//! MODULE LIST|LOAD|LOADEX|UNLOAD|HELP, answering as a Redis 7.0 that has
//! no module loaded: ferrodis cannot load Redis modules (they are C code
//! against Redis's own structures), so every load fails the way a failed
//! load fails in Redis (a log line, "Error loading the extension"), after
//! the same checks of enable-module-command and of LOADEX's arguments.

use super::Server;
use crate::cmd::eq_ic;
use crate::error::{unknown_subcommand, CmdError};
use crate::net::flags;
use bytes::Bytes;

const HELP: &[&str] = &[
    "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LIST",
    "    Return a list of loaded modules.",
    "LOAD <path> [<arg> ...]",
    "    Load a module library from <path>, passing to it any optional arguments.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Load a module library from <path>, while passing it module configurations and optional arguments.",
    "UNLOAD <name>",
    "    Unload a module.",
    "HELP",
    "    Prints this help.",
];

impl Server {
    /// enable-module-command: no, yes, or local (loopback and unix socket).
    fn module_command_allowed(&self, key: usize) -> bool {
        match self.cfg.extra_value("enable-module-command") {
            "yes" => true,
            "local" => self.clients.get(key).is_some_and(|c| {
                c.has(flags::UNIX_SOCKET)
                    || c.addr.starts_with("127.")
                    || c.addr.starts_with("[::1]")
            }),
            _ => false,
        }
    }

    pub fn cmd_module(&mut self, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
        let sub = &argv[1][..];
        let n = argv.len();
        let arity_ok = ((eq_ic(sub, "list") || eq_ic(sub, "help")) && n == 2)
            || ((eq_ic(sub, "load") || eq_ic(sub, "loadex")) && n >= 3)
            || (eq_ic(sub, "unload") && n == 3);
        if !arity_ok {
            return Err(unknown_subcommand(sub, "MODULE"));
        }
        if eq_ic(sub, "list") {
            self.reply(key, |o| o.array(0));
            return Ok(());
        }
        if eq_ic(sub, "help") {
            self.reply_help(key, HELP);
            return Ok(());
        }
        if !self.module_command_allowed(key) {
            return Err("ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.".into());
        }
        if eq_ic(sub, "unload") {
            return Err("ERR Error unloading module: no such module with that name".into());
        }
        let path = String::from_utf8_lossy(&argv[2]).into_owned();
        if eq_ic(sub, "loadex") {
            // [CONFIG name value]... [ARGS arg...], checked as Redis does.
            let mut i = 3;
            while i < n {
                if eq_ic(&argv[i], "config") {
                    if i + 2 >= n {
                        log::info!("CONFIG specified without name value pair");
                        return Err(load_error());
                    }
                    i += 3;
                } else if eq_ic(&argv[i], "args") {
                    break;
                } else {
                    log::info!(
                        "Syntax Error from arguments to loadex around {}.",
                        String::from_utf8_lossy(&argv[i])
                    );
                    return Err(load_error());
                }
            }
        }
        // dlopen's message for a missing file; anything else cannot be a
        // ferrodis module.
        let why = if std::path::Path::new(&path).exists() {
            format!("{path}: ferrodis cannot load Redis modules")
        } else {
            format!("{path}: cannot open shared object file: No such file or directory")
        };
        log::warn!("Module {path} failed to load: {why}");
        Err(load_error())
    }
}

fn load_error() -> CmdError {
    "ERR Error loading the extension. Please check the server logs.".into()
}
