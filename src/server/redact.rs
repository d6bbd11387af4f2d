//! Redaction of secrets before a command is logged (MONITOR, SLOWLOG), as
//! Redis's redactClientCommandArgument.

use crate::cmd::{self, CommandSpec};
use bytes::Bytes;

/// The arguments Redis replaces with "(redacted)" before logging a command
/// (MONITOR, SLOWLOG): passwords of AUTH, HELLO AUTH, MIGRATE AUTH/AUTH2,
/// ACL SETUSER rules, and values of sensitive configs in CONFIG SET.
/// None when nothing is redacted.
pub fn redact_args(cmd: &CommandSpec, argv: &[Bytes]) -> Option<Vec<Bytes>> {
    let mut hide: Vec<usize> = Vec::new();
    match cmd.name {
        "auth" if argv.len() <= 3 => hide.extend(1..argv.len()),
        "hello" => {
            // After a valid protocol version, each AUTH's user and password.
            let ver_ok = argv.len() < 2
                || crate::encoding::numbers::string2ll(&argv[1])
                    .is_some_and(|v| (2..=3).contains(&v));
            let mut j = if argv.len() >= 2 { 2 } else { 1 };
            while ver_ok && j < argv.len() {
                let more = argv.len() - 1 - j;
                if cmd::eq_ic(&argv[j], "auth") && more >= 2 {
                    hide.extend([j + 1, j + 2]);
                    j += 3;
                } else if cmd::eq_ic(&argv[j], "setname") && more >= 1 {
                    j += 2;
                } else {
                    break;
                }
            }
        }
        "acl|setuser" => hide.extend(2..argv.len()),
        "config|set" if argv.len().is_multiple_of(2) => {
            for i in (2..argv.len()).step_by(2) {
                let name = &argv[i];
                if ["requirepass", "masterauth", "masteruser"]
                    .iter()
                    .any(|n| cmd::eq_ic(name, n))
                {
                    hide.push(i + 1);
                }
            }
        }
        "migrate" => {
            let mut j = 6;
            while j < argv.len() {
                if cmd::eq_ic(&argv[j], "keys") {
                    break;
                }
                if cmd::eq_ic(&argv[j], "auth") && j + 1 < argv.len() {
                    hide.push(j + 1);
                    j += 1;
                } else if cmd::eq_ic(&argv[j], "auth2") && j + 2 < argv.len() {
                    hide.extend([j + 1, j + 2]);
                    j += 2;
                }
                j += 1;
            }
        }
        _ => return None,
    }
    if hide.is_empty() {
        return None;
    }
    let mut v = argv.to_vec();
    for i in hide {
        if i < v.len() {
            v[i] = Bytes::from_static(b"(redacted)");
        }
    }
    Some(v)
}
