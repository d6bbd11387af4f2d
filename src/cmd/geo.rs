//! GEO commands (Redis's geo.c): points are sorted-set members whose score
//! is their 52-bit geohash (`types::geohash`). GEOADD is a ZADD of those
//! scores (and propagates as that ZADD, as Redis does); the searches
//! (GEORADIUS[BYMEMBER][_RO], GEOSEARCH[STORE]) scan the score ranges of
//! the 9 cells covering the shape, keep the points inside it, then sort,
//! count and reply or store, in Redis's order and with Redis's errors.

use super::flag::*;
use super::t_zset::zget;
use super::{arg_i64, eq_ic, CommandSpec, Ctx, Proc};
use crate::cmd::table::spec;
use crate::config::{NOTIFY_GENERIC, NOTIFY_ZSET};
use crate::db::Value;
use crate::encoding::longdouble::LongDouble;
use crate::encoding::numbers::string2d;
use crate::error::{self, err, CmdError, CmdResult};
use crate::types::geohash::{self, Shape, ShapeKind};
use crate::types::zset::ScoreRange;
use crate::types::{Limits, ZSet};
use bytes::Bytes;
use std::cmp::Ordering;

use Proc::Db;

pub static COMMANDS: &[CommandSpec] = &[
    spec("geoadd", Db(geoadd), -5, WRITE | DENYOOM, 1, 1, 1, "geo"),
    spec("geodist", Db(geodist), -4, READONLY, 1, 1, 1, "geo"),
    spec("geohash", Db(geohash), -2, READONLY, 1, 1, 1, "geo"),
    spec("geopos", Db(geopos), -2, READONLY, 1, 1, 1, "geo"),
    spec(
        "georadius",
        Db(georadius),
        -6,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "geo",
    ),
    spec(
        "georadius_ro",
        Db(georadius_ro),
        -6,
        READONLY,
        1,
        1,
        1,
        "geo",
    ),
    spec(
        "georadiusbymember",
        Db(georadiusbymember),
        -5,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "geo",
    ),
    spec(
        "georadiusbymember_ro",
        Db(georadiusbymember_ro),
        -5,
        READONLY,
        1,
        1,
        1,
        "geo",
    ),
    spec("geosearch", Db(geosearch), -7, READONLY, 1, 1, 1, "geo"),
    spec(
        "geosearchstore",
        Db(geosearchstore),
        -8,
        WRITE | DENYOOM,
        1,
        2,
        1,
        "geo",
    ),
];

// ---- argument helpers ----

/// Metres per unit (extractUnitOrReply).
fn extract_unit(arg: &[u8]) -> Result<f64, CmdError> {
    if eq_ic(arg, "m") {
        Ok(1.0)
    } else if eq_ic(arg, "km") {
        Ok(1000.0)
    } else if eq_ic(arg, "ft") {
        Ok(0.3048)
    } else if eq_ic(arg, "mi") {
        Ok(1609.34)
    } else {
        err("ERR unsupported unit provided. please use M, KM, FT, MI")
    }
}

/// A float argument with the error text Redis gives for that argument.
fn float_or(arg: &[u8], msg: &'static str) -> Result<f64, CmdError> {
    string2d(arg).ok_or_else(|| msg.into())
}

/// [longitude, latitude] from two arguments (extractLongLatOrReply).
fn extract_long_lat(args: &[Bytes]) -> Result<[f64; 2], CmdError> {
    let long = float_or(&args[0], error::NOT_FLOAT)?;
    let lat = float_or(&args[1], error::NOT_FLOAT)?;
    if !(geohash::LONG_MIN..=geohash::LONG_MAX).contains(&long)
        || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&lat)
    {
        return Err(CmdError::msg(format!(
            "ERR invalid longitude,latitude pair {long:.6},{lat:.6}"
        )));
    }
    Ok([long, lat])
}

/// (radius, metres per unit) from `radius unit` (extractDistanceOrReply).
fn extract_distance(args: &[Bytes]) -> Result<(f64, f64), CmdError> {
    let radius = float_or(&args[0], "ERR need numeric radius")?;
    if radius < 0.0 {
        return err("ERR radius cannot be negative");
    }
    Ok((radius, extract_unit(&args[1])?))
}

/// (width, height, metres per unit) from `width height unit`.
fn extract_box(args: &[Bytes]) -> Result<(f64, f64, f64), CmdError> {
    let width = float_or(&args[0], "ERR need numeric width")?;
    let height = float_or(&args[1], "ERR need numeric height")?;
    if height < 0.0 || width < 0.0 {
        return err("ERR height or width cannot be negative");
    }
    Ok((width, height, extract_unit(&args[2])?))
}

/// The position of a member (longLatFromMember).
fn member_pos(z: &ZSet, member: &[u8]) -> Option<[f64; 2]> {
    geohash::decode_score(z.score(member)?)
}

/// GEOPOS/WITHCOORD coordinates: `%.17Lf` trimmed (a RESP3 double).
fn reply_coord(ctx: &mut Ctx<'_>, v: f64) {
    // Coordinates are finite: a long double holds them exactly.
    let s = LongDouble::from_f64(v).map_or_else(Vec::new, |ld| ld.to_human_string());
    if ctx.out.resp >= 3 {
        ctx.out.raw(b",");
        ctx.out.raw(&s);
        ctx.out.raw(b"\r\n");
    } else {
        ctx.out.bulk(&s);
    }
}

/// Distances are bulk strings with 4 decimals, in RESP3 too.
fn reply_distance(ctx: &mut Ctx<'_>, d: f64) {
    ctx.out.bulk(format!("{d:.4}").as_bytes());
}

// ---- GEOADD / GEODIST / GEOHASH / GEOPOS ----

/// GEOADD key [NX|XX] [CH] long lat member ...: the ZADD it stands for is
/// run and propagated.
pub fn geoadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (mut xx, mut nx) = (false, false);
    let mut longidx = 2;
    while longidx < argv.len() {
        let opt = &argv[longidx];
        if eq_ic(opt, "nx") {
            nx = true;
        } else if eq_ic(opt, "xx") {
            xx = true;
        } else if !eq_ic(opt, "ch") {
            break;
        }
        longidx += 1;
    }
    if !(argv.len() - longidx).is_multiple_of(3) || (xx && nx) {
        return err(error::SYNTAX);
    }
    let mut zargv = Vec::with_capacity(longidx + (argv.len() - longidx) / 3 * 2);
    zargv.push(Bytes::from_static(b"zadd"));
    zargv.extend_from_slice(&argv[1..longidx]);
    for triple in argv[longidx..].chunks(3) {
        let [long, lat] = extract_long_lat(triple)?;
        let score = geohash::score_of(long, lat).unwrap_or(0);
        zargv.push(Bytes::from(score.to_string()));
        zargv.push(triple[2].clone());
    }
    let dirty = ctx.dirty;
    super::t_zset::zadd(ctx, &zargv)?;
    if ctx.dirty > dirty {
        ctx.propagate_as(zargv);
    }
    Ok(())
}

/// GEODIST key member1 member2 [unit]
pub fn geodist(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let to_meter = match argv.len() {
        5 => extract_unit(&argv[4])?,
        n if n > 5 => return err(error::SYNTAX),
        _ => 1.0,
    };
    let Some(z) = zget(ctx.ks, ctx.db, &argv[1], false)? else {
        ctx.out.null();
        return Ok(());
    };
    let a = member_pos(z, &argv[2]);
    let b = member_pos(z, &argv[3]);
    match (a, b) {
        (Some([x1, y1]), Some([x2, y2])) => {
            reply_distance(ctx, geohash::distance(x1, y1, x2, y2) / to_meter)
        }
        _ => ctx.out.null(),
    }
    Ok(())
}

/// GEOHASH key member ...: standard 11-character geohashes.
pub fn geohash(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let z = zget(ctx.ks, ctx.db, &argv[1], false)?;
    ctx.out.array(argv.len() - 2);
    for m in &argv[2..] {
        match z
            .as_ref()
            .and_then(|z| z.score(m))
            .and_then(geohash::geohash_string)
        {
            Some(s) => ctx.out.bulk(&s),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// GEOPOS key member ...
pub fn geopos(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let z = zget(ctx.ks, ctx.db, &argv[1], false)?;
    let positions: Vec<Option<[f64; 2]>> = argv[2..]
        .iter()
        .map(|m| z.as_ref().and_then(|z| member_pos(z, m)))
        .collect();
    ctx.out.array(positions.len());
    for p in positions {
        match p {
            Some([long, lat]) => {
                ctx.out.array(2);
                reply_coord(ctx, long);
                reply_coord(ctx, lat);
            }
            None => ctx.out.null_array(),
        }
    }
    Ok(())
}

// ---- searches ----

const RADIUS_COORDS: u32 = 1;
const RADIUS_MEMBER: u32 = 2;
const RADIUS_NOSTORE: u32 = 4;
const GEOSEARCH: u32 = 8;
const GEOSEARCHSTORE: u32 = 16;

pub fn georadius(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, argv, 1, RADIUS_COORDS)
}

pub fn georadius_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, argv, 1, RADIUS_COORDS | RADIUS_NOSTORE)
}

pub fn georadiusbymember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, argv, 1, RADIUS_MEMBER)
}

pub fn georadiusbymember_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, argv, 1, RADIUS_MEMBER | RADIUS_NOSTORE)
}

pub fn geosearch(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, argv, 1, GEOSEARCH)
}

pub fn geosearchstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, argv, 2, GEOSEARCH | GEOSEARCHSTORE)
}

/// A point found by a search (Redis's geoPoint).
struct GeoPoint {
    long: f64,
    lat: f64,
    /// Metres until the reply divides it by the unit.
    dist: f64,
    score: f64,
    member: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// Everything the options of a search say.
struct Query {
    shape: Shape,
    storekey: Option<Bytes>,
    storedist: bool,
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    sort: Sort,
    any: bool,
    /// 0 = unlimited.
    count: i64,
}

/// Parses a search's arguments in Redis's order (errors come out as
/// Redis finds them). `z` is the source set, when it exists.
fn parse_query(z: Option<&ZSet>, argv: &[Bytes], flags: u32) -> Result<Query, CmdError> {
    let mut q = Query {
        shape: Shape {
            xy: [0.0, 0.0],
            conversion: 1.0,
            kind: ShapeKind::Circle { radius: 0.0 },
        },
        storekey: None,
        storedist: false,
        withdist: false,
        withhash: false,
        withcoord: false,
        sort: Sort::None,
        any: false,
        count: 0,
    };
    let base_args;
    if flags & RADIUS_COORDS != 0 {
        base_args = 6;
        q.shape.xy = extract_long_lat(&argv[2..4])?;
        let (radius, conversion) = extract_distance(&argv[4..6])?;
        q.shape.kind = ShapeKind::Circle { radius };
        q.shape.conversion = conversion;
    } else if flags & RADIUS_MEMBER != 0 {
        base_args = 5;
        // Without a source set, only the options are parsed (to pick the reply).
        if let Some(z) = z {
            q.shape.xy = member_pos(z, &argv[2])
                .ok_or(CmdError::from("ERR could not decode requested zset member"))?;
            let (radius, conversion) = extract_distance(&argv[3..5])?;
            q.shape.kind = ShapeKind::Circle { radius };
            q.shape.conversion = conversion;
        }
    } else {
        base_args = if flags & GEOSEARCHSTORE != 0 {
            q.storekey = Some(argv[1].clone());
            3
        } else {
            2
        };
    }
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let rest = &argv[base_args.min(argv.len())..];
    let remaining = rest.len();
    let search = flags & GEOSEARCH != 0;
    let may_store = flags & (RADIUS_NOSTORE | GEOSEARCH) == 0;
    let mut i = 0;
    while i < remaining {
        let arg = &rest[i][..];
        if eq_ic(arg, "withdist") {
            q.withdist = true;
        } else if eq_ic(arg, "withhash") {
            q.withhash = true;
        } else if eq_ic(arg, "withcoord") {
            q.withcoord = true;
        } else if eq_ic(arg, "any") {
            q.any = true;
        } else if eq_ic(arg, "asc") {
            q.sort = Sort::Asc;
        } else if eq_ic(arg, "desc") {
            q.sort = Sort::Desc;
        } else if eq_ic(arg, "count") && i + 1 < remaining {
            q.count = arg_i64(&rest[i + 1])?;
            if q.count <= 0 {
                return err("ERR COUNT must be > 0");
            }
            i += 1;
        } else if eq_ic(arg, "store") && i + 1 < remaining && may_store {
            q.storekey = Some(rest[i + 1].clone());
            q.storedist = false;
            i += 1;
        } else if eq_ic(arg, "storedist") && i + 1 < remaining && may_store {
            q.storekey = Some(rest[i + 1].clone());
            q.storedist = true;
            i += 1;
        } else if eq_ic(arg, "storedist") && search && flags & GEOSEARCHSTORE != 0 {
            q.storedist = true;
        } else if eq_ic(arg, "frommember") && i + 1 < remaining && search && !fromloc {
            if let Some(z) = z {
                q.shape.xy = member_pos(z, &rest[i + 1])
                    .ok_or(CmdError::from("ERR could not decode requested zset member"))?;
            }
            frommember = true;
            i += 1;
        } else if eq_ic(arg, "fromlonlat") && i + 2 < remaining && search && !frommember {
            q.shape.xy = extract_long_lat(&rest[i + 1..i + 3])?;
            fromloc = true;
            i += 2;
        } else if eq_ic(arg, "byradius") && i + 2 < remaining && search && !bybox {
            let (radius, conversion) = extract_distance(&rest[i + 1..i + 3])?;
            q.shape.kind = ShapeKind::Circle { radius };
            q.shape.conversion = conversion;
            byradius = true;
            i += 2;
        } else if eq_ic(arg, "bybox") && i + 3 < remaining && search && !byradius {
            let (width, height, conversion) = extract_box(&rest[i + 1..i + 4])?;
            q.shape.kind = ShapeKind::Box { width, height };
            q.shape.conversion = conversion;
            bybox = true;
            i += 3;
        } else {
            return err(error::SYNTAX);
        }
        i += 1;
    }
    if q.storekey.is_some() && (q.withdist || q.withhash || q.withcoord) {
        let what = if flags & GEOSEARCHSTORE != 0 {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(CmdError::msg(format!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = || String::from_utf8_lossy(&argv[0]).into_owned();
    if search && !(frommember || fromloc) {
        return Err(CmdError::msg(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
            name()
        )));
    }
    if search && !(byradius || bybox) {
        return Err(CmdError::msg(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {}",
            name()
        )));
    }
    if q.any && q.count == 0 {
        return err("ERR the ANY argument requires COUNT argument");
    }
    Ok(q)
}

/// The points of `z` inside the shape, cell by cell in Redis's order
/// (membersOfAllNeighbors); stops at `limit` points when non-zero.
fn members_of_all_neighbors(z: &ZSet, shape: &Shape, limit: usize) -> Vec<GeoPoint> {
    let cells = geohash::areas_by_shape(shape).cells();
    let mut found = Vec::new();
    let mut last_processed = 0;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // Huge radii make adjacent neighbours the same cell: skip repeats
        // (Redis compares with the last processed one, never the centre).
        if last_processed != 0 && *cell == cells[last_processed] {
            continue;
        }
        if limit != 0 && found.len() >= limit {
            break;
        }
        let mut next = *cell;
        next.bits += 1;
        let range = ScoreRange {
            min: cell.align52() as f64,
            max: next.align52() as f64,
            minex: false,
            maxex: true,
        };
        let (start, end) = z.score_ranks(&range);
        for (member, score) in z.range(start, end, false) {
            let Some(xy) = geohash::decode_score(score) else {
                continue;
            };
            if let Some(dist) = geohash::distance_if_within(shape, xy) {
                found.push(GeoPoint {
                    long: xy[0],
                    lat: xy[1],
                    dist,
                    score,
                    member: member.into_owned(),
                });
                if limit != 0 && found.len() >= limit {
                    break;
                }
            }
        }
        last_processed = i;
    }
    found
}

/// sort_gp_asc: a C comparator on the distance (NaN compares "less").
fn cmp_dist(a: &GeoPoint, b: &GeoPoint) -> Ordering {
    if a.dist > b.dist {
        Ordering::Greater
    } else if a.dist == b.dist {
        Ordering::Equal
    } else {
        Ordering::Less
    }
}

/// georadiusGeneric: every search command.
fn georadius_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], src: usize, flags: u32) -> CmdResult {
    let z = zget(ctx.ks, ctx.db, &argv[src], false)?.map(|z| &*z);
    let q = parse_query(z, argv, flags)?;
    let Some(z) = z else {
        match &q.storekey {
            Some(dst) => {
                if ctx.ks.delete(ctx.db, dst) {
                    ctx.written(dst, NOTIFY_GENERIC, "del");
                }
                ctx.out.int(0);
            }
            None => ctx.out.array(0),
        }
        return Ok(());
    };
    let mut sort = q.sort;
    // COUNT means "the nearest N" unless ANY says "any N".
    if q.count != 0 && sort == Sort::None && !q.any {
        sort = Sort::Asc;
    }
    let limit = if q.any { q.count as usize } else { 0 };
    let mut points = members_of_all_neighbors(z, &q.shape, limit);
    if points.is_empty() && q.storekey.is_none() {
        ctx.out.array(0);
        return Ok(());
    }
    let total = points.len();
    let returned = if q.count == 0 || (total as i64) < q.count {
        total
    } else {
        q.count as usize
    };
    if sort != Sort::None {
        let cmp = |a: &GeoPoint, b: &GeoPoint| {
            let o = cmp_dist(a, b);
            if sort == Sort::Desc {
                o.reverse()
            } else {
                o
            }
        };
        if returned == total {
            // glibc's qsort is a stable merge sort.
            points.sort_by(cmp);
        } else {
            crate::util::pqsort::pqsort(&mut points, &cmp, 0, returned - 1);
        }
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= q.shape.conversion;
    }
    match q.storekey {
        None => reply_points(ctx, &q, &points),
        Some(dst) => store_points(ctx, &dst, points, q.storedist, flags),
    }
    Ok(())
}

fn reply_points(ctx: &mut Ctx<'_>, q: &Query, points: &[GeoPoint]) {
    let options = usize::from(q.withdist) + usize::from(q.withhash) + usize::from(q.withcoord);
    ctx.out.array(points.len());
    for p in points {
        if options > 0 {
            ctx.out.array(options + 1);
        }
        ctx.out.bulk(&p.member);
        if q.withdist {
            reply_distance(ctx, p.dist);
        }
        if q.withhash {
            ctx.out.int(p.score as i64);
        }
        if q.withcoord {
            ctx.out.array(2);
            reply_coord(ctx, p.long);
            reply_coord(ctx, p.lat);
        }
    }
}

/// STORE / STOREDIST / GEOSEARCHSTORE: the results become a sorted set
/// (scores are geohashes or distances); no result deletes the target.
fn store_points(ctx: &mut Ctx<'_>, dst: &Bytes, points: Vec<GeoPoint>, dist: bool, flags: u32) {
    let n = points.len();
    if n == 0 {
        if ctx.ks.delete(ctx.db, dst) {
            ctx.written(dst, NOTIFY_GENERIC, "del");
        }
        ctx.out.int(0);
        return;
    }
    let lim = Limits::from_config(ctx.cfg);
    let mut zs = ZSet::new_skiplist();
    for p in points {
        zs.insert(&p.member, if dist { p.dist } else { p.score }, &lim);
    }
    zs.convert_to_listpack_if_needed(&lim);
    ctx.ks.set_key(ctx.db, dst, Value::ZSet(zs), false);
    let event = if flags & GEOSEARCH != 0 {
        "geosearchstore"
    } else {
        "georadiusstore"
    };
    ctx.notify(NOTIFY_ZSET, event, dst);
    ctx.dirty += n as u64;
    ctx.out.int(n as i64);
}
