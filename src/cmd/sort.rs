//! SORT and SORT_RO (Redis's sort.c): sort a list, set or sorted set
//! numerically or lexically, by itself or by external keys (`BY w_*`,
//! `BY h_*->field`, `BY nosort`), with LIMIT, GET patterns (`#` is the
//! element itself) and STORE into a list.

use super::flag::*;
use super::{arg_i64, eq_ic, CommandSpec, Ctx, Proc};
use crate::cmd::table::spec;
use crate::config::{NOTIFY_GENERIC, NOTIFY_LIST};
use crate::db::{Keyspace, Value};
use crate::encoding::numbers::string2d;
use crate::error::{self, err, CmdResult};
use crate::types::{Limits, List};
use bytes::Bytes;
use std::cmp::Ordering;

struct Item {
    obj: Vec<u8>,
    score: f64,
    cmp: Option<Vec<u8>>,
}

/// lookupKeyByPattern: `#` is the element; otherwise the first `*` is
/// replaced by it and the string (or hash field after `->`) is read.
fn lookup_by_pattern(ks: &mut Keyspace, db: usize, pat: &[u8], subst: &[u8]) -> Option<Vec<u8>> {
    if pat == b"#" {
        return Some(subst.to_vec());
    }
    let star = pat.iter().position(|&c| c == b'*')?;
    let field = pat[star + 1..]
        .windows(2)
        .position(|w| w == b"->")
        .map(|i| star + 1 + i)
        .filter(|&i| i + 2 < pat.len());
    let key_end = field.unwrap_or(pat.len());
    let mut key = Vec::with_capacity(pat.len() + subst.len());
    key.extend_from_slice(&pat[..star]);
    key.extend_from_slice(subst);
    key.extend_from_slice(&pat[star + 1..key_end]);
    let e = ks.lookup_read(db, &key)?;
    match (field, &e.val) {
        (Some(f), Value::Hash(h)) => h.get(&pat[f + 2..]).map(|v| v.into_owned()),
        (None, v) => {
            let mut buf = [0u8; 20];
            v.str_bytes(&mut buf).map(|b| b.to_vec())
        }
        _ => None,
    }
}

/// strtod as SORT uses it: the whole string must convert.
fn sort_score(b: &[u8]) -> Option<f64> {
    if b.is_empty() {
        return Some(0.0);
    }
    let t = &b[b.iter().take_while(|c| c.is_ascii_whitespace()).count()..];
    string2d(t).filter(|v| !v.is_nan())
}

fn sort_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], readonly: bool) -> CmdResult {
    let (mut desc, mut alpha, mut dontsort) = (false, false, false);
    let (mut limit_start, mut limit_count) = (0i64, -1i64);
    let mut sortby: Option<&[u8]> = None;
    let mut store: Option<&Bytes> = None;
    let mut gets: Vec<&[u8]> = Vec::new();
    let mut j = 2;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = &argv[j][..];
        if eq_ic(a, "asc") {
            desc = false;
        } else if eq_ic(a, "desc") {
            desc = true;
        } else if eq_ic(a, "alpha") {
            alpha = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            limit_start = arg_i64(&argv[j + 1])?;
            limit_count = arg_i64(&argv[j + 2])?;
            j += 2;
        } else if !readonly && eq_ic(a, "store") && left >= 1 {
            store = Some(&argv[j + 1]);
            j += 1;
        } else if eq_ic(a, "by") && left >= 1 {
            sortby = Some(&argv[j + 1]);
            dontsort = !argv[j + 1].contains(&b'*');
            if !dontsort && !ctx.all_keys_readable {
                return err("ERR BY option of SORT denied due to insufficient ACL permissions.");
            }
            j += 1;
        } else if eq_ic(a, "get") && left >= 1 {
            if !ctx.all_keys_readable {
                return err("ERR GET option of SORT denied due to insufficient ACL permissions.");
            }
            gets.push(&argv[j + 1]);
            j += 1;
        } else {
            return err(error::SYNTAX);
        }
        j += 1;
    }
    let (db, key) = (ctx.db, &argv[1]);
    enum Kind {
        List,
        Set,
        ZSet,
    }
    let kind = match ctx.ks.lookup_read(db, key).map(|e| e.val) {
        None => Kind::List,
        Some(Value::List(_)) => Kind::List,
        Some(Value::Set(_)) => Kind::Set,
        Some(Value::ZSet(z)) => {
            z.convert_to_skiplist();
            Kind::ZSet
        }
        Some(_) => return err(error::WRONGTYPE),
    };
    if dontsort && matches!(kind, Kind::Set) && (store.is_some() || ctx.from_script) {
        // Sets have no order of their own: make the stored result (and
        // what a script sees) stable.
        dontsort = false;
        alpha = true;
        sortby = None;
    }
    let val = ctx.ks.db(db).dict.get(key);
    let vectorlen = match val {
        Some(Value::List(l)) => l.len(),
        Some(Value::Set(s)) => s.len(),
        Some(Value::ZSet(z)) => z.len(),
        _ => 0,
    } as i64;
    let mut start = limit_start.max(0);
    let mut end = if limit_count < 0 {
        vectorlen - 1
    } else {
        start.saturating_add(limit_count) - 1
    };
    if start >= vectorlen {
        start = vectorlen - 1;
        end = vectorlen - 2;
    }
    if end >= vectorlen {
        end = vectorlen - 1;
    }
    let mut items: Vec<Item> = Vec::new();
    let item = |b: &[u8]| Item {
        obj: b.to_vec(),
        score: 0.0,
        cmp: None,
    };
    match val {
        Some(Value::List(l)) if dontsort && end >= start => {
            let n = (end - start + 1) as usize;
            let len = l.len();
            let all: Box<dyn Iterator<Item = _>> = if desc {
                Box::new(l.iter().collect::<Vec<_>>().into_iter().rev())
            } else {
                Box::new(l.iter())
            };
            items.extend(all.skip(start as usize).take(n.min(len)).map(|v| item(&v)));
            end -= start;
            start = 0;
        }
        Some(Value::ZSet(z)) if dontsort && end >= start => {
            let n = (end - start + 1) as usize;
            let len = z.len();
            let s = start as usize;
            let range = if desc {
                z.range(len.saturating_sub(s + n), len - s, true)
            } else {
                z.range(s, s + n, false)
            };
            items.extend(range.map(|(m, _)| item(&m)));
            end -= start;
            start = 0;
        }
        Some(Value::List(_)) | Some(Value::ZSet(_)) if dontsort => {}
        Some(Value::List(l)) => items.extend(l.iter().map(|v| item(&v))),
        Some(Value::Set(s)) => items.extend(s.iter().map(|v| item(&v))),
        Some(Value::ZSet(z)) => items.extend(z.iter().map(|(m, _)| item(&m))),
        _ => {}
    }
    let mut conversion_error = false;
    if !dontsort {
        for it in items.iter_mut() {
            let byval = match sortby {
                Some(p) => match lookup_by_pattern(ctx.ks, db, p, &it.obj) {
                    Some(v) => v,
                    None => continue,
                },
                None => {
                    if !alpha {
                        match sort_score(&it.obj) {
                            Some(s) => it.score = s,
                            None => conversion_error = true,
                        }
                    }
                    continue;
                }
            };
            if alpha {
                it.cmp = Some(byval);
            } else {
                match sort_score(&byval) {
                    Some(s) => it.score = s,
                    None => conversion_error = true,
                }
            }
        }
        let by_pattern = sortby.is_some();
        items.sort_by(|a, b| {
            let c = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.obj.cmp(&b.obj))
            } else if by_pattern {
                match (&a.cmp, &b.cmp) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => x.cmp(y),
                }
            } else {
                a.obj.cmp(&b.obj)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }
    if conversion_error {
        return err("ERR One or more scores can't be converted into double");
    }
    let range: &[Item] = if end >= start && start >= 0 {
        &items[start as usize..=(end as usize).min(items.len().saturating_sub(1))]
    } else {
        &[]
    };
    let outputlen = if gets.is_empty() {
        range.len()
    } else {
        gets.len() * range.len()
    };
    let Some(dst) = store else {
        ctx.out.array(outputlen);
        for it in range {
            if gets.is_empty() {
                ctx.out.bulk(&it.obj);
            }
            for g in &gets {
                match lookup_by_pattern(ctx.ks, db, g, &it.obj) {
                    Some(v) => ctx.out.bulk(&v),
                    None => ctx.out.null(),
                }
            }
        }
        return Ok(());
    };
    let lim = Limits::from_config(ctx.cfg);
    let mut list = List::new();
    for it in range {
        if gets.is_empty() {
            list.push_back(&it.obj, &lim);
        }
        for g in &gets {
            let v = lookup_by_pattern(ctx.ks, db, g, &it.obj).unwrap_or_default();
            list.push_back(&v, &lim);
        }
    }
    if outputlen > 0 {
        ctx.ks.set_key(db, dst, Value::List(list), false);
        ctx.notify(NOTIFY_LIST, "sortstore", dst);
        ctx.dirty += outputlen as u64;
    } else if ctx.ks.delete(db, dst) {
        ctx.written(dst, NOTIFY_GENERIC, "del");
    }
    ctx.out.int(outputlen as i64);
    Ok(())
}

pub fn sort(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    sort_generic(ctx, argv, false)
}

pub fn sort_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    sort_generic(ctx, argv, true)
}

const GROUP: &str = "generic";

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    spec("sort", Proc::Db(sort), -2, WRITE | DENYOOM, 1, 1, 1, GROUP),
    spec("sort_ro", Proc::Db(sort_ro), -2, READONLY, 1, 1, 1, GROUP),
];
