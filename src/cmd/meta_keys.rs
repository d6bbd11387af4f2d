//! Keys and channels in a command's arguments: Redis 7.0's key-spec
//! walk (getKeysUsingKeySpecs), the native getkeys procs of the commands
//! whose specs are incomplete or have variable flags, the legacy key range
//! (client-side caching), and the Pub/Sub channel table the ACL checks.

use super::meta::*;
use bytes::Bytes;

/// A key found in argv: its position and the key spec flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRef {
    pub pos: usize,
    pub flags: u16,
}

/// Redis's getKeysFromCommandWithSpecs: key specs when they are reliable
/// (some spec is a real key and none has variable flags), falling back to
/// the command's native getkeys proc. `keys` is cleared first; returns
/// false only where Redis's function returns 0 keys because of an error
/// (used by COMMAND GETKEYS).
pub fn get_keys(m: &Meta, argv: &[Bytes], keys: &mut Vec<KeyRef>) {
    keys.clear();
    let d = m.derived();
    if d.specs_reliable && keys_from_specs(m, argv, false, keys) {
        return;
    }
    keys.clear();
    if let Some(proc_) = d.getkeys {
        proc_(argv, keys);
    }
}

/// Redis's getKeysFromCommand (client-side caching remembers these): the
/// native getkeys proc, else the legacy (first, last, step) range; no
/// keys at all when the range runs past a variadic command's arguments.
pub fn legacy_keys(m: &Meta, argv: &[Bytes], keys: &mut Vec<KeyRef>) {
    keys.clear();
    if let Some(proc_) = m.derived().getkeys {
        proc_(argv, keys);
        return;
    }
    let (first, last, step) = m.range;
    if first <= 0 {
        return;
    }
    let argc = argv.len() as i32;
    let last = if last < 0 { argc + last } else { last };
    let mut j = first;
    while j <= last {
        if j >= argc {
            keys.clear();
            return;
        }
        keys.push(KeyRef {
            pos: j as usize,
            flags: 0,
        });
        j += step.max(1);
    }
}

/// Redis's getKeysUsingKeySpecs. Returns false on an invalid or incomplete
/// spec (unless `partial`, which skips those and keeps the rest).
pub fn keys_from_specs(m: &Meta, argv: &[Bytes], partial: bool, keys: &mut Vec<KeyRef>) -> bool {
    let argc = argv.len() as i64;
    for spec in m.key_specs {
        if spec.flags & K_NOT_KEY != 0 {
            continue;
        }
        let ok = (|| {
            let mut first: i64 = match spec.bs {
                Bs::Index(pos) => pos as i64,
                Bs::Keyword(kw, startfrom) => {
                    let startfrom = startfrom as i64;
                    let start = if startfrom > 0 {
                        startfrom
                    } else {
                        argc + startfrom
                    };
                    let end = if startfrom > 0 { argc - 1 } else { 1 };
                    let mut i = start;
                    let mut found = 0;
                    while i != end {
                        if i >= argc || i < 1 {
                            break;
                        }
                        if argv[i as usize].eq_ignore_ascii_case(kw.as_bytes()) {
                            found = i + 1;
                            break;
                        }
                        i = if start <= end { i + 1 } else { i - 1 };
                    }
                    if found == 0 {
                        return Some(true); // keyword absent: no keys here
                    }
                    found
                }
                Bs::Unknown => return None,
            };
            let (last, step) = match spec.fk {
                Fk::Range(lastkey, keystep, limit) => {
                    let (lastkey, limit) = (lastkey as i64, limit as i64);
                    let last = if lastkey >= 0 {
                        first + lastkey
                    } else if limit == 0 {
                        argc + lastkey
                    } else {
                        first + ((argc - first) / limit + lastkey)
                    };
                    (last, keystep as i64)
                }
                Fk::Keynum(keynumidx, firstkey, keystep) => {
                    let idx = first + keynumidx as i64;
                    if keynumidx as i64 >= argc || idx >= argc {
                        return None;
                    }
                    let n = crate::encoding::numbers::string2ll(&argv[idx as usize])?;
                    if n < 0 {
                        return None;
                    }
                    // Redis counts with (int)numkeys: no overflow, and a
                    // count past 2^31 wraps as it does there.
                    let n = n as i32 as i64;
                    first += firstkey as i64;
                    (first + n - 1, keystep as i64)
                }
                Fk::Unknown => return None,
            };
            if last >= argc || last < first || first >= argc {
                return None;
            }
            let mut i = first;
            while i <= last {
                if i < argc {
                    keys.push(KeyRef {
                        pos: i as usize,
                        flags: spec.flags,
                    });
                }
                i += step.max(1);
            }
            if spec.flags & K_INCOMPLETE != 0 {
                return None;
            }
            Some(true)
        })();
        if ok.is_none() {
            if partial {
                continue;
            }
            keys.clear();
            return false;
        }
    }
    true
}

pub type GetKeysProc = fn(&[Bytes], &mut Vec<KeyRef>);

/// The native getkeys procs Redis 7.0 has (commands whose key specs are
/// incomplete or have variable flags).
pub(crate) fn getkeys_proc(name: &str) -> Option<GetKeysProc> {
    Some(match name {
        "zunion" | "zinter" | "zdiff" | "zintercard" | "sintercard" | "lmpop" | "zmpop" => {
            |a, k| generic_keys(a, k, 0, 1, 2)
        }
        "zunionstore" | "zinterstore" | "zdiffstore" => |a, k| generic_keys(a, k, 1, 2, 3),
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" | "blmpop"
        | "bzmpop" => |a, k| generic_keys(a, k, 0, 2, 3),
        "sort_ro" => |_, k| {
            k.push(KeyRef {
                pos: 1,
                flags: K_RO | K_ACCESS,
            })
        },
        "sort" => sort_keys,
        "migrate" => migrate_keys,
        "georadius" | "georadiusbymember" => georadius_keys,
        "xread" | "xreadgroup" => xread_keys,
        "set" => set_keys,
        "bitfield" => bitfield_keys,
        _ => return None,
    })
}

fn ic(a: &[u8], kw: &str) -> bool {
    a.eq_ignore_ascii_case(kw.as_bytes())
}

/// COMMAND [destkey] <num-keys> <key> ...: Redis's genericGetKeys (atoi).
fn generic_keys(a: &[Bytes], k: &mut Vec<KeyRef>, store: usize, count: usize, first: usize) {
    if count >= a.len() {
        return;
    }
    let num = crate::encoding::numbers::atoi(&a[count]);
    if num < 1 || num > (a.len() as i64 - first as i64) {
        return;
    }
    for i in 0..num as usize {
        k.push(KeyRef {
            pos: first + i,
            flags: 0,
        });
    }
    if store != 0 {
        k.push(KeyRef {
            pos: store,
            flags: 0,
        });
    }
}

fn sort_keys(a: &[Bytes], k: &mut Vec<KeyRef>) {
    k.push(KeyRef {
        pos: 1,
        flags: K_RO | K_ACCESS,
    });
    let mut store = None;
    let mut i = 2;
    while i < a.len() {
        let arg = &a[i];
        // Redis checks "store" inside its skip-list loop: only reached
        // when the argument is not `limit` (first entry of the list).
        if ic(arg, "limit") {
            i += 2;
        } else if ic(arg, "store") && i + 1 < a.len() {
            store = Some(i + 1);
        } else if ic(arg, "get") || ic(arg, "by") {
            i += 1;
        }
        i += 1;
    }
    if let Some(pos) = store {
        k.push(KeyRef {
            pos,
            flags: K_OW | K_UPDATE,
        });
    }
}

fn migrate_keys(a: &[Bytes], k: &mut Vec<KeyRef>) {
    let (mut first, mut num) = (3, 1);
    if a.len() > 6 {
        let mut i = 6;
        while i < a.len() {
            let arg = &a[i];
            if ic(arg, "keys") {
                if !a[3].is_empty() {
                    num = 0;
                } else {
                    first = i + 1;
                    num = a.len() - first;
                }
                break;
            }
            if ic(arg, "auth") {
                i += 1;
            } else if ic(arg, "auth2") {
                i += 2;
            }
            i += 1;
        }
    }
    for i in 0..num {
        k.push(KeyRef {
            pos: first + i,
            flags: K_RW | K_ACCESS | K_DELETE,
        });
    }
}

fn georadius_keys(a: &[Bytes], k: &mut Vec<KeyRef>) {
    let mut stored = None;
    let mut i = 5;
    while i < a.len() {
        let arg = &a[i];
        if (ic(arg, "store") || ic(arg, "storedist")) && i + 1 < a.len() {
            stored = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    k.push(KeyRef { pos: 1, flags: 0 });
    if let Some(pos) = stored {
        k.push(KeyRef { pos, flags: 0 });
    }
}

fn xread_keys(a: &[Bytes], k: &mut Vec<KeyRef>) {
    let mut streams = None;
    let mut i = 1;
    while i < a.len() {
        let arg = &a[i];
        if ic(arg, "block") || ic(arg, "count") {
            i += 1;
        } else if ic(arg, "group") {
            i += 2;
        } else if ic(arg, "noack") {
        } else if ic(arg, "streams") {
            streams = Some(i);
            break;
        } else {
            break;
        }
        i += 1;
    }
    let Some(pos) = streams else {
        return;
    };
    let num = a.len() - pos - 1;
    if num == 0 || !num.is_multiple_of(2) {
        return;
    }
    for p in pos + 1..a.len() - num / 2 {
        k.push(KeyRef { pos: p, flags: 0 });
    }
}

fn set_keys(a: &[Bytes], k: &mut Vec<KeyRef>) {
    let get = (3..a.len()).any(|i| ic(&a[i], "get"));
    k.push(KeyRef {
        pos: 1,
        flags: if get {
            K_RW | K_ACCESS | K_UPDATE
        } else {
            K_OW | K_UPDATE
        },
    });
}

fn bitfield_keys(a: &[Bytes], k: &mut Vec<KeyRef>) {
    let mut readonly = true;
    let mut i = 2;
    while i < a.len() {
        let rem = a.len() - i - 1;
        let arg = &a[i];
        if ic(arg, "get") && rem >= 2 {
            i += 2;
        } else if (ic(arg, "set") || ic(arg, "incrby")) && rem >= 3 {
            readonly = false;
            break;
        } else if ic(arg, "overflow") && rem >= 1 {
            i += 1;
        } else {
            readonly = false;
            break;
        }
        i += 1;
    }
    k.push(KeyRef {
        pos: 1,
        flags: if readonly {
            K_RO | K_ACCESS
        } else {
            K_RW | K_ACCESS | K_UPDATE
        },
    });
}

// ---- channels from argv (Redis's commands_with_channels table) ----

pub const CH_PATTERN: u8 = 1 << 0;
pub const CH_PUBLISH: u8 = 1 << 1;
pub const CH_SUBSCRIBE: u8 = 1 << 2;
pub const CH_UNSUBSCRIBE: u8 = 1 << 3;

/// (flags, start, count) of a command's channel arguments (count -1: all
/// remaining arguments).
pub fn channel_spec(name: &str) -> Option<(u8, usize, i32)> {
    Some(match name {
        "subscribe" | "ssubscribe" => (CH_SUBSCRIBE, 1, -1),
        "unsubscribe" | "sunsubscribe" => (CH_UNSUBSCRIBE, 1, -1),
        "psubscribe" => (CH_PATTERN | CH_SUBSCRIBE, 1, -1),
        "punsubscribe" => (CH_PATTERN | CH_UNSUBSCRIBE, 1, -1),
        "publish" | "spublish" => (CH_PUBLISH, 1, 1),
        _ => return None,
    })
}
