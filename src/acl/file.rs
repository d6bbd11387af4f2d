//! ACL files (`aclfile`): reading them whole, all or nothing (Redis's
//! ACLLoadFromFile: every error is collected with its line number and
//! nothing is applied when there is one), and writing the users back
//! (ACL SAVE, one `user` line each, through a temp file and a rename).

use super::rules::{self, has_spaces, RuleError};
use super::{Acl, User};

/// Parses an ACL file. Ok: the users it defines (the default user
/// included, created with its defaults when the file does not define it).
/// Err: Redis's one-line description of every problem found.
pub fn load(path: &str, pubsub_default: u8) -> Result<Vec<User>, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "Error loading ACLs, opening file '{path}': {}",
            crate::config::parse::os_err(&e)
        )
    })?;
    parse(&bytes, path, pubsub_default)
}

/// ACLLoadFromFile on the file's content (`path` names it in errors).
pub fn parse(text: &[u8], path: &str, pubsub_default: u8) -> Result<Vec<User>, String> {
    // fgets/sdscat stop at a NUL byte, as Redis reads the file.
    let text = match text.iter().position(|&b| b == 0) {
        Some(n) => &text[..n],
        None => text,
    };
    let mut errors = String::new();
    let mut users: Vec<User> = Vec::new();
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let linenum = i + 1;
        let line = trim(raw, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let argv: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!(
                "{path}:{linenum} should start with user keyword followed by the username. "
            ));
            continue;
        }
        let name = argv[1];
        if has_spaces(name) {
            errors.push_str(&format!(
                "'{path}:{linenum}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        if users.iter().any(|u| u.name == name) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {linenum}. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        let mut u = User::new(name, pubsub_default);
        let args: Vec<Vec<u8>> = argv[2..].iter().map(|a| a.to_vec()).collect();
        let merged = match rules::merge_selector_args(&args) {
            Ok(m) => m,
            Err(_) => {
                errors.push_str(&format!(
                    "{path}:{linenum}: Unmatched parenthesis in selector definition."
                ));
                continue;
            }
        };
        let mut syntax_error = false;
        for op in &merged {
            let op = trim(op, b"\t\r\n");
            if let Err(e) = rules::set_user(&mut u, op, pubsub_default) {
                if e == RuleError::UnknownCommand {
                    errors.push_str(&format!(
                        "{path}:{linenum}: Error in applying operation '{}': {}. ",
                        String::from_utf8_lossy(op),
                        e.text()
                    ));
                } else if !syntax_error {
                    errors.push_str(&format!("{path}:{linenum}: {}. ", e.text()));
                    syntax_error = true;
                }
            }
        }
        u.refresh();
        users.push(u);
    }
    if !errors.is_empty() {
        errors.push_str(
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
        );
        return Err(errors);
    }
    if !users.iter().any(|u| u.name == b"default") {
        users.push(rules::default_user(pubsub_default));
    }
    Ok(users)
}

fn trim<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|c| !set.contains(c)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !set.contains(c))
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// One `user <name> <rules>` line per user, in name order (ACL SAVE,
/// ACL LIST and CONFIG REWRITE share it).
pub fn user_lines(acl: &Acl) -> Vec<String> {
    acl.users()
        .map(|(_, u)| format!("user {} {}", u.name_str(), rules::describe_user(u)))
        .collect()
}

/// ACL SAVE: writes a temp file next to `path` and renames it over.
pub fn save(acl: &Acl, path: &str) -> std::io::Result<()> {
    let mut text = String::new();
    for l in user_lines(acl) {
        text.push_str(&l);
        text.push('\n');
    }
    let tmp = format!(
        "{path}.tmp-{}-{}",
        std::process::id(),
        crate::util::mstime()
    );
    let res = std::fs::write(&tmp, text.as_bytes()).and_then(|_| std::fs::rename(&tmp, path));
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}
