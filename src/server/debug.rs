//! DEBUG subcommands beyond the everyday ones of `info::debug_command`:
//! PROTOCOL (every RESP3 type, and what RESP2 clients get instead),
//! QUICKLIST-PACKED-THRESHOLD (the size from which list elements get plain
//! nodes), LOADAOF (flush, then reload the data set from the AOF) and
//! CONFIG-REWRITE-FORCE-ALL (CONFIG REWRITE with every option written),
//! AOF-FLUSH-SLEEP (a delay before each AOF write), ERROR (any error
//! reply, for client libraries' tests), LEAK, STRINGMATCH-TEST (the glob
//! matcher fuzzed) and the deliberate crashes ASSERT and OOM.

use super::Server;
use crate::cmd::eq_ic;
use crate::error::CmdError;
use bytes::Bytes;

/// The DEBUG subcommands of this module; Err(unknown subcommand) for any
/// other.
pub fn debug_more(s: &mut Server, key: usize, argv: &[Bytes]) -> Result<(), CmdError> {
    let sub = &argv[1][..];
    if eq_ic(sub, "protocol") && argv.len() == 3 {
        debug_protocol(s, key, &argv[2])
    } else if eq_ic(sub, "quicklist-packed-threshold") && argv.len() == 3 {
        let sz = std::str::from_utf8(&argv[2])
            .ok()
            .and_then(crate::config::memtoull);
        if !sz.is_some_and(crate::types::list::set_packed_threshold) {
            return Err(
                "ERR argument must be a memory value bigger than 1 and smaller than 4gb".into(),
            );
        }
        s.reply_ok(key);
        Ok(())
    } else if eq_ic(sub, "segfault") {
        // A real crash, reported as one (Redis writes to an invalid
        // address; raising the signal reaches the same handler).
        // SAFETY: raising a signal at ourselves.
        unsafe { libc::raise(libc::SIGSEGV) };
        Ok(())
    } else if eq_ic(sub, "aof-flush-sleep") && argv.len() == 3 {
        // Microseconds to sleep before each non-empty AOF write (tests).
        s.persist.aof.flush_sleep_us = crate::encoding::numbers::atoi(&argv[2]).max(0) as u64;
        s.reply_ok(key);
        Ok(())
    } else if eq_ic(sub, "error") && argv.len() == 3 {
        // Not counted among the error replies (reply_error would): Redis
        // writes it with addReplySds, not addReplyError.
        s.reply(key, |o| o.error_bytes(&argv[2]));
        Ok(())
    } else if eq_ic(sub, "leak") && argv.len() == 3 {
        // What it says: a copy of the argument nobody will free.
        std::mem::forget(argv[2].to_vec());
        s.reply_ok(key);
        Ok(())
    } else if eq_ic(sub, "stringmatch-test") && argv.len() == 2 {
        glob_fuzz(100_000);
        s.reply(key, |o| {
            o.simple("Apparently Redis did not crash: test passed")
        });
        Ok(())
    } else if eq_ic(sub, "assert") && argv.len() == 2 {
        // Redis's serverAssert: the failed assertion in the bug report.
        super::listen::crash(&[
            "=== ASSERTION FAILED ===".into(),
            "==> DEBUG ASSERT '1 == 2' is not true".into(),
        ]);
    } else if eq_ic(sub, "oom") && argv.len() == 2 {
        // Redis's zmalloc_oom_handler for an allocation of ULONG_MAX bytes.
        log::warn!("Out Of Memory allocating {} bytes!", u64::MAX);
        super::listen::crash(&[format!(
            "Guru Meditation: Redis aborting for OUT OF MEMORY. Allocating {} bytes!",
            u64::MAX
        )]);
    } else if eq_ic(sub, "loadaof") {
        s.debug_loadaof(key)
    } else if eq_ic(sub, "config-rewrite-force-all") && argv.len() == 2 {
        // CONFIG REWRITE writing every option, defaults included. Without
        // a config file Redis's fopen(NULL) fails with EFAULT.
        if s.cfg.config_file.is_none() {
            return Err("ERR CONFIG-REWRITE-FORCE-ALL failed: Bad address".into());
        }
        let users = s.acl_rewrite_lines();
        s.cfg.rewrite(users.as_deref(), true).map_err(|e| {
            let why = e
                .strip_prefix("ERR Rewriting config file: ")
                .or_else(|| e.strip_prefix("ERR "))
                .unwrap_or(&e);
            CmdError::msg(format!("ERR CONFIG-REWRITE-FORCE-ALL failed: {why}"))
        })?;
        s.reply_ok(key);
        Ok(())
    } else {
        // DEBUG has no subcommand table: Redis's addReplySubcommandSyntaxError.
        let shown = String::from_utf8_lossy(&sub[..sub.len().min(128)]).into_owned();
        Err(CmdError::msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{shown}'. Try DEBUG HELP."
        )))
    }
}

/// DEBUG PROTOCOL <type>: a sample of each reply type.
fn debug_protocol(s: &mut Server, key: usize, name: &[u8]) -> Result<(), CmdError> {
    let resp = s.clients.get(key).map_or(2, |c| c.resp);
    let is = |n: &str| eq_ic(name, n);
    if is("push") && resp < 3 {
        return Err("ERR RESP2 is not supported by this command".into());
    }
    let known = [
        "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push",
        "verbatim", "true", "false",
    ];
    if !known.iter().any(|n| is(n)) {
        return Err("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false".into());
    }
    s.reply(key, |o| {
        if is("string") {
            o.bulk(b"Hello World");
        } else if is("integer") {
            o.int(12345);
        } else if is("double") {
            // Redis's sample value (not PI).
            #[allow(clippy::approx_constant)]
            o.double(3.141);
        } else if is("bignum") {
            let n = b"1234567999999999999999999999999999999";
            if o.resp >= 3 {
                o.raw(b"(");
                o.raw(n);
                o.raw(b"\r\n");
            } else {
                o.bulk(n);
            }
        } else if is("null") {
            o.null();
        } else if is("array") || is("set") {
            if is("set") {
                o.set(3);
            } else {
                o.array(3);
            }
            for j in 0..3 {
                o.int(j);
            }
        } else if is("map") {
            o.map(3);
            for j in 0..3 {
                o.int(j);
                o.boolean(j == 1);
            }
        } else if is("attrib") {
            // Attributes precede a real reply; RESP2 clients get the reply only.
            if o.resp >= 3 {
                o.raw(b"|1\r\n");
                o.bulk(b"key-popularity");
                o.array(2);
                o.bulk(b"key:123");
                o.int(90);
            }
            o.bulk(b"Some real reply following the attribute");
        } else if is("push") {
            o.push(2);
            o.bulk(b"server-cpu-usage");
            o.int(42);
            o.bulk(b"Some real reply following the push reply");
        } else if is("true") || is("false") {
            o.boolean(is("true"));
        } else if is("verbatim") {
            o.verbatim(b"This is a verbatim\nstring");
        }
    });
    Ok(())
}

/// Redis's stringmatchlen_fuzz_test: random patterns against random
/// strings, for a matcher that must neither crash nor hang on any input.
fn glob_fuzz(rounds: usize) {
    let mut rng = crate::util::Rng::new();
    let mut pat = [0u8; 32];
    let mut text = [0u8; 32];
    for _ in 0..rounds {
        let plen = rng.next_u64() as usize % pat.len();
        let tlen = rng.next_u64() as usize % text.len();
        for b in pat[..plen].iter_mut().chain(text[..tlen].iter_mut()) {
            *b = rng.next_u64() as u8;
        }
        let nocase = rng.next_u64() & 1 == 1;
        std::hint::black_box(crate::util::glob::string_match(
            &pat[..plen],
            &text[..tlen],
            nocase,
        ));
    }
}
