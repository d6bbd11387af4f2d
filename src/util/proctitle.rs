//! The process title, as Redis's setproctitle.c and proc-title-template
//! set it on Linux: `ps` and /proc/<pid>/cmdline show the expanded
//! template ("ferrodis-server 127.0.0.1:6379"), which tools that find
//! servers by their command line rely on.
//!
//! The title is written over the memory that held the original argv and,
//! once the environment was copied elsewhere (`init`), the environment
//! strings after it: the kernel reads cmdline from there.

use std::sync::atomic::{AtomicUsize, Ordering};

/// argv[0] as executed: the template's {title}.
static ARGV0: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Start and length of the writable title area (0: none).
static AREA_START: AtomicUsize = AtomicUsize::new(0);
static AREA_LEN: AtomicUsize = AtomicUsize::new(0);

/// Finds the argv/environ area and moves the environment out of it. Call
/// once at start-up, after the arguments were read and before anything
/// else runs (single-threaded).
pub fn init(argv0: &str) {
    let _ = ARGV0.set(argv0.to_string());
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // Fields after the parenthesised command name; arg_start is field 48.
    let Some(rest) = stat.rfind(')').and_then(|i| stat.get(i + 2..)) else {
        return;
    };
    let f: Vec<usize> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // rest starts at field 3 (state): field n is f[n - 3].
    let field = |n: usize| f.get(n - 3).copied().unwrap_or(0);
    let (arg_start, arg_end, env_start, env_end) = (field(48), field(49), field(50), field(51));
    if arg_start == 0 || arg_end <= arg_start {
        return;
    }
    let mut end = arg_end;
    if env_start == arg_end && env_end > env_start {
        // The environment strings follow argv: copy them to the heap
        // (setenv makes its own copies) so that the title may use them.
        let vars: Vec<(std::ffi::OsString, std::ffi::OsString)> = std::env::vars_os().collect();
        // SAFETY: single-threaded start-up; every variable is set again
        // right after, from owned copies.
        unsafe {
            libc::clearenv();
            for (k, v) in vars {
                std::env::set_var(k, v);
            }
        }
        end = env_end;
    }
    AREA_START.store(arg_start, Ordering::Relaxed);
    AREA_LEN.store(end - arg_start, Ordering::Relaxed);
}

/// argv[0] as the process was executed.
pub fn argv0() -> &'static str {
    ARGV0.get().map_or("", |s| s.as_str())
}

/// Shows `title` as the process's command line (cut to the area).
pub fn set(title: &str) {
    let (start, len) = (
        AREA_START.load(Ordering::Relaxed),
        AREA_LEN.load(Ordering::Relaxed),
    );
    if start == 0 || len < 2 {
        return;
    }
    let n = title.len().min(len - 1);
    // SAFETY: [start, start + len) is this process's own argv/environ
    // memory (from /proc/self/stat), which nothing reads any more.
    unsafe {
        let p = start as *mut u8;
        std::ptr::copy_nonoverlapping(title.as_ptr(), p, n);
        std::ptr::write_bytes(p.add(n), 0, len - n);
    }
}

/// What the template's variables stand for.
pub struct Vars<'a> {
    pub title: &'a str,
    pub bind: Option<&'a str>,
    pub port: u16,
    pub unixsocket: &'a str,
    pub config_file: Option<&'a str>,
    pub mode: &'a str,
}

/// Redis's expandProcTitleTemplate (sdstemplate): `{name}` variables,
/// `{{` for a literal brace; None for an unknown variable or an unclosed
/// brace. Spaces around the result are trimmed.
pub fn expand(template: &str, v: &Vars) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if after.is_empty() {
            return None;
        }
        if let Some(r) = after.strip_prefix('{') {
            out.push('{');
            rest = r;
            continue;
        }
        let end = after.find('}')?;
        match &after[..end] {
            "title" => out.push_str(v.title),
            "listen-addr" => {
                if v.port != 0 {
                    out.push_str(&format!("{}:{}", v.bind.unwrap_or("*"), v.port));
                } else {
                    out.push_str(&format!("unixsocket:{}", v.unixsocket));
                }
            }
            "server-mode" => out.push_str(v.mode),
            "config-file" => out.push_str(v.config_file.unwrap_or("-")),
            "port" => out.push_str(&v.port.to_string()),
            "tls-port" => out.push('0'),
            "unixsocket" => out.push_str(v.unixsocket),
            _ => return None,
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out.trim_matches(' ').to_string())
}

/// validateProcTitleTemplate: CONFIG SET's check.
pub fn validate(template: &str) -> Result<(), String> {
    let v = Vars {
        title: "",
        bind: None,
        port: 0,
        unixsocket: "",
        config_file: None,
        mode: "",
    };
    match expand(template, &v) {
        Some(s) if !s.is_empty() => Ok(()),
        _ => Err("template format is invalid or contains unknown variables".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_as_redis() {
        let v = Vars {
            title: "/usr/bin/redis-server",
            bind: Some("127.0.0.1"),
            port: 6379,
            unixsocket: "/tmp/s",
            config_file: Some("/etc/redis.conf"),
            mode: "",
        };
        let e = |t: &str| expand(t, &v);
        assert_eq!(
            e("{title} {listen-addr} {server-mode}").as_deref(),
            Some("/usr/bin/redis-server 127.0.0.1:6379")
        );
        assert_eq!(
            e("TEST {title} {listen-addr} {port} {tls-port} {unixsocket} {config-file}").as_deref(),
            Some("TEST /usr/bin/redis-server 127.0.0.1:6379 6379 0 /tmp/s /etc/redis.conf")
        );
        assert_eq!(e("a {{b} c}").as_deref(), Some("a {b} c}"));
        assert_eq!(e("{invalid-var}"), None);
        assert_eq!(e("{title"), None);
        assert_eq!(e("x {"), None);
        assert!(validate("{invalid-var}").is_err());
        assert!(validate("{server-mode}").is_err());
        assert!(validate("{title} {listen-addr}").is_ok());
    }
}
