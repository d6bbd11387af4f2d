//! The directive table: every configuration name Redis 7.0.15 knows, with its
//! alias, flags, value kind, default (for directives ferrodis only stores),
//! and, for typed settings, the accessors into `Config`'s fields.

pub use super::directives::TABLE;
use super::parse::memtoull;
use super::{AppendFsync, Config, DisklessLoad, EnableDebug, LogLevel, MaxmemoryPolicy};
use crate::encoding::numbers::{string2ll, strtoll};

/// CONFIG SET refuses it ("can't set immutable config").
pub const IMMUTABLE: u8 = 1;
/// CONFIG SET refuses it unless enable-protected-configs allows it.
pub const PROTECTED: u8 = 2;
/// Not matched by CONFIG GET patterns, only by its exact name.
pub const HIDDEN: u8 = 4;
/// Takes several arguments (file) or a space-separated value (CONFIG SET).
pub const MULTI: u8 = 8;
/// CONFIG SET refuses it while the dataset loads (-LOADING).
pub const DENY_LOADING: u8 = 16;

pub const INT_MAX: i64 = i32::MAX as i64;
pub const INT_MIN: i64 = i32::MIN as i64;
pub const LMAX: i64 = i64::MAX;

/// How a value is validated, normalized and written back by REWRITE.
#[derive(Clone, Copy)]
pub enum Kind {
    Bool,
    Int(i64, i64),
    Mem(u64, u64),
    /// Memory value or "N%" (maxmemory-clients).
    MemPct,
    Octal(i64, i64),
    Enum(&'static [&'static str]),
    /// Several words from a fixed set (shutdown-on-sig*).
    Words(&'static [&'static str]),
    /// `nullable`: an empty string means "unset" (REWRITE drops the line).
    Str {
        nullable: bool,
        check: Option<Validator>,
    },
    /// Custom parser/formatter in mod.rs.
    Special,
}

/// Extra check of a string value (Err = Redis's reason).
pub type Validator = fn(&str) -> Result<(), String>;

/// Accessors for a typed setting. `set` receives an already normalized value.
pub struct Field {
    pub get: fn(&Config) -> String,
    pub set: fn(&mut Config, &str),
}

pub struct Entry {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub flags: u8,
    pub kind: Kind,
    /// Default of a stored-only directive (typed ones take Config::default()).
    pub default: &'static str,
    /// None: the value lives in Config's generic map ("ignored" directive).
    pub field: Option<Field>,
}

/// Enums that map to/from their Redis names.
pub trait ConfEnum: Sized + Copy + PartialEq + 'static {
    const NAMES: &'static [(&'static str, Self)];
    fn name(self) -> &'static str
    where
        Self: PartialEq,
    {
        Self::NAMES
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("unknown", |(n, _)| n)
    }
    fn from_name(s: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|(_, v)| *v)
    }
}

impl ConfEnum for LogLevel {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("debug", LogLevel::Debug),
        ("verbose", LogLevel::Verbose),
        ("notice", LogLevel::Notice),
        ("warning", LogLevel::Warning),
    ];
}
impl ConfEnum for AppendFsync {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("everysec", AppendFsync::EverySec),
        ("always", AppendFsync::Always),
        ("no", AppendFsync::No),
    ];
}
impl ConfEnum for DisklessLoad {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("disabled", DisklessLoad::Disabled),
        ("on-empty-db", DisklessLoad::OnEmptyDb),
        ("swapdb", DisklessLoad::SwapDb),
    ];
}
impl ConfEnum for MaxmemoryPolicy {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("volatile-lru", MaxmemoryPolicy::VolatileLru),
        ("volatile-lfu", MaxmemoryPolicy::VolatileLfu),
        ("volatile-random", MaxmemoryPolicy::VolatileRandom),
        ("volatile-ttl", MaxmemoryPolicy::VolatileTtl),
        ("allkeys-lru", MaxmemoryPolicy::AllKeysLru),
        ("allkeys-lfu", MaxmemoryPolicy::AllKeysLfu),
        ("allkeys-random", MaxmemoryPolicy::AllKeysRandom),
        ("noeviction", MaxmemoryPolicy::NoEviction),
    ];
}
impl ConfEnum for EnableDebug {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("no", EnableDebug::No),
        ("yes", EnableDebug::Yes),
        ("local", EnableDebug::Local),
    ];
}

/// Find an entry by primary name or alias (case-insensitive). The returned
/// name is the spelling matched (Redis reports errors with it).
pub fn lookup(name: &str) -> Option<(&'static Entry, &'static str)> {
    TABLE.iter().find_map(|e| {
        if e.name.eq_ignore_ascii_case(name) {
            Some((e, e.name))
        } else {
            e.alias
                .filter(|a| a.eq_ignore_ascii_case(name))
                .map(|a| (e, a))
        }
    })
}

fn bounds<T: std::fmt::Display + PartialOrd>(v: T, lo: T, hi: T) -> Result<(), String> {
    if v < lo || v > hi {
        Err(format!("argument must be between {lo} and {hi} inclusive"))
    } else {
        Ok(())
    }
}

fn one_of(list: &[&str]) -> String {
    format!(
        "argument(s) must be one of the following: {}",
        list.join(", ")
    )
}

/// Validate one value of a non-special kind, returning its canonical form.
pub fn normalize(kind: Kind, args: &[String]) -> Result<String, String> {
    if let Kind::Words(list) = kind {
        // One argument holding several words is split (Redis does so for
        // every multi-argument directive); at least one word is needed.
        let split: Vec<String>;
        let args = if args.len() == 1 && args[0].contains(' ') {
            split = args[0].split(' ').map(str::to_string).collect();
            &split[..]
        } else {
            args
        };
        if args.is_empty() {
            return Err(one_of(list));
        }
        // A set of flags, shown in the list's order (Redis's
        // configEnumGetName): "default" alone is the empty set.
        let mut on = vec![false; list.len()];
        for a in args {
            match list.iter().position(|w| w.eq_ignore_ascii_case(a)) {
                Some(i) => on[i] = true,
                None => return Err(one_of(list)),
            }
        }
        let names: Vec<&str> = list
            .iter()
            .zip(&on)
            .filter(|(w, set)| **set && **w != "default")
            .map(|(w, _)| *w)
            .collect();
        return Ok(if names.is_empty() {
            "default".into()
        } else {
            names.join(" ")
        });
    }
    let v = args.first().map(String::as_str).unwrap_or("");
    match kind {
        Kind::Bool => {
            if v.eq_ignore_ascii_case("yes") {
                Ok("yes".into())
            } else if v.eq_ignore_ascii_case("no") {
                Ok("no".into())
            } else {
                Err("argument must be 'yes' or 'no'".into())
            }
        }
        Kind::Int(lo, hi) => {
            let n = string2ll(v.as_bytes()).ok_or("argument couldn't be parsed into an integer")?;
            bounds(n, lo, hi)?;
            Ok(n.to_string())
        }
        Kind::Mem(lo, hi) => {
            let n = memtoull(v).ok_or("argument must be a memory value")?;
            bounds(n, lo, hi)?;
            Ok(n.to_string())
        }
        Kind::MemPct => {
            if let Some(n) = memtoull(v) {
                bounds(n, 0, i64::MAX as u64)?;
                return Ok(n.to_string());
            }
            let pct = v
                .strip_suffix('%')
                .filter(|p| !p.is_empty())
                .and_then(|p| string2ll(p.as_bytes()))
                .filter(|n| *n >= 0);
            match pct {
                // Redis stores percentages as negative numbers, bound -100.
                Some(n) if n > 100 => {
                    Err("percentage argument must be less or equal to 100".into())
                }
                Some(n) => Ok(format!("{n}%")),
                None => Err("argument must be a memory or percent value".into()),
            }
        }
        Kind::Octal(lo, hi) => {
            let n =
                strtoll(v.as_bytes(), 8).ok_or("argument couldn't be parsed as an octal number")?;
            bounds(n, lo, hi)?;
            Ok(format!("{n:o}"))
        }
        Kind::Enum(list) => list
            .iter()
            .find(|n| n.eq_ignore_ascii_case(v))
            .map(|n| n.to_string())
            .ok_or_else(|| one_of(list)),
        Kind::Str { check, .. } => {
            if let Some(f) = check {
                f(v)?;
            }
            Ok(v.to_string())
        }
        Kind::Words(_) | Kind::Special => Ok(v.to_string()),
    }
}

/// `strtol`-style integer used by the multi-argument special directives.
pub fn c_long(v: &str) -> Option<i64> {
    strtoll(v.as_bytes(), 10)
}
