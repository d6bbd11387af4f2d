//! The scripting commands' table: EVAL*, SCRIPT, FUNCTION and FCALL*. They
//! run in the server (`script/`), which owns the Lua states.

use super::flag::*;
use super::table::{spec, CommandSpec, Proc::Srv as S, Srv};

pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "eval",
        S(Srv::Eval),
        -3,
        NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE | NO_MANDATORY_KEYS,
        0,
        0,
        0,
        "scripting",
    ),
    spec(
        "evalsha",
        S(Srv::EvalSha),
        -3,
        NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE | NO_MANDATORY_KEYS,
        0,
        0,
        0,
        "scripting",
    ),
    spec(
        "eval_ro",
        S(Srv::EvalRo),
        -3,
        NOSCRIPT | SKIP_MONITOR | STALE | READONLY | NO_MANDATORY_KEYS,
        0,
        0,
        0,
        "scripting",
    ),
    spec(
        "evalsha_ro",
        S(Srv::EvalShaRo),
        -3,
        NOSCRIPT | SKIP_MONITOR | STALE | READONLY | NO_MANDATORY_KEYS,
        0,
        0,
        0,
        "scripting",
    ),
    spec(
        "fcall",
        S(Srv::Fcall),
        -3,
        NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE | NO_MANDATORY_KEYS,
        0,
        0,
        0,
        "scripting",
    ),
    spec(
        "fcall_ro",
        S(Srv::FcallRo),
        -3,
        NOSCRIPT | SKIP_MONITOR | STALE | READONLY | NO_MANDATORY_KEYS,
        0,
        0,
        0,
        "scripting",
    ),
    spec("script", S(Srv::Script), -2, 0, 0, 0, 0, "scripting")
        .with_subs(super::subcommands::SCRIPT_SUBS),
    spec("function", S(Srv::Function), -2, 0, 0, 0, 0, "scripting")
        .with_subs(super::subcommands::FUNCTION_SUBS),
];
