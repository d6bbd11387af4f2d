//! Redis's geohash (geohash.c + geohash_helper.c): longitude/latitude
//! interleaved into a 52-bit integer (26 steps each) that is stored as a
//! sorted-set score, the 9 boxes (centre + neighbours) that cover a radius
//! or box search, and the Haversine distance on Redis's earth radius.
//! Pure arithmetic, done in the same order as Redis so that edge points fall
//! on the same side of every comparison.

/// Redis's latitude limits: Web Mercator (EPSG:900913) cannot go further.
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// 26 steps of 2 bits: the 52 bits a double holds exactly.
pub const STEP_MAX: u8 = 26;

/// Earth's quadratic mean radius for WGS-84, as Redis uses it.
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

#[inline]
fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

#[inline]
fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// A cell of the grid: `bits` interleaved, `step` bits per axis.
/// `bits == 0 && step == 0` is the "no cell" value (Redis's GZERO).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The 52-bit score of the cell's first point (geohashAlign52Bits).
    pub fn align52(&self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// The range of the 52-bit scores (WGS84 as Redis bounds it).
pub const LONG_RANGE: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
pub const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// Spreads the 32 bits of `x` over the even bits of a u64.
fn spread(x: u32) -> u64 {
    let mut x = u64::from(x);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bits of a u64 into 32 bits.
fn squash(x: u64) -> u32 {
    let mut x = x & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((x | (x >> 16)) & 0x0000_0000_FFFF_FFFF) as u32
}

/// Latitude bits on the even positions, longitude bits on the odd ones.
pub fn interleave(lat: u32, long: u32) -> u64 {
    spread(lat) | (spread(long) << 1)
}

/// (latitude part, longitude part) of interleaved bits.
pub fn deinterleave(bits: u64) -> (u32, u32) {
    (squash(bits), squash(bits >> 1))
}

/// geohashEncode: None outside the hard limits or the given ranges.
pub fn encode(
    long_range: Range,
    lat_range: Range,
    long: f64,
    lat: f64,
    step: u8,
) -> Option<HashBits> {
    if step == 0 || step > 32 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&long) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_range.min || lat > lat_range.max || long < long_range.min || long > long_range.max
    {
        return None;
    }
    let lat_offset = (lat - lat_range.min) / (lat_range.max - lat_range.min);
    let long_offset = (long - long_range.min) / (long_range.max - long_range.min);
    let scale = (1u64 << step) as f64;
    // C converts to uint32_t: truncation (values are within 0..=2^step).
    let bits = interleave((lat_offset * scale) as u32, (long_offset * scale) as u32);
    Some(HashBits { bits, step })
}

/// Encodes WGS84 coordinates at `step` precision.
pub fn encode_wgs84(long: f64, lat: f64, step: u8) -> Option<HashBits> {
    encode(LONG_RANGE, LAT_RANGE, long, lat, step)
}

/// geohashDecode: the cell's bounds (None for the zero cell).
pub fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let (ilato, ilono) = deinterleave(hash.bits);
    let div = (1u64 << hash.step) as f64;
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    // (ilato + 1) wraps as uint32_t arithmetic does in C.
    Some(Area {
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) / div) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) / div) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) / div) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) / div) * long_scale,
        },
    })
}

/// The centre of a cell, clamped to the limits: [longitude, latitude].
pub fn area_center(a: &Area) -> [f64; 2] {
    let long = ((a.longitude.min + a.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((a.latitude.min + a.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [long, lat]
}

/// C's `(uint64_t)double` as x86-64 compilers emit it, so that a score
/// that is no geohash (negative, huge) decodes to the same point as in
/// Redis.
fn score_to_bits(score: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    // cvttsd2si yields 0x8000000000000000 for NaN and out of range values.
    let cvt = |x: f64| -> u64 {
        if !(-TWO63..TWO63).contains(&x) {
            0x8000_0000_0000_0000
        } else {
            (x as i64) as u64
        }
    };
    if score < TWO63 {
        cvt(score)
    } else {
        cvt(score - TWO63) ^ 0x8000_0000_0000_0000
    }
}

/// decodeGeohash: a 52-bit score back to [longitude, latitude].
pub fn decode_score(score: f64) -> Option<[f64; 2]> {
    let hash = HashBits {
        bits: score_to_bits(score),
        step: STEP_MAX,
    };
    decode(LONG_RANGE, LAT_RANGE, hash).map(|a| area_center(&a))
}

/// The 52-bit score of a point (None outside the limits).
pub fn score_of(long: f64, lat: f64) -> Option<u64> {
    encode_wgs84(long, lat, STEP_MAX).map(|h| h.align52())
}

/// The standard 11-character base32 geohash of a stored score (GEOHASH):
/// re-encoded on the -90..90 latitude range, the last character is '0'.
pub fn geohash_string(score: f64) -> Option<[u8; 11]> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [long, lat] = decode_score(score)?;
    let world = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode(LONG_RANGE, world, long, lat, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    Some(out)
}

// ---- neighbours ----

fn move_x(h: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(h.step) * 2;
    let mut x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64.checked_shr(shift).unwrap_or(0);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64.checked_shr(shift).unwrap_or(0);
    h.bits = x | y;
}

fn move_y(h: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(h.step) * 2;
    let x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64.checked_shr(shift).unwrap_or(0);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64.checked_shr(shift).unwrap_or(0);
    h.bits = x | y;
}

fn moved(h: HashBits, dx: i8, dy: i8) -> HashBits {
    let mut n = h;
    move_x(&mut n, dx);
    move_y(&mut n, dy);
    n
}

/// The eight cells around one, each possibly zeroed when useless.
#[derive(Clone, Copy, Debug, Default)]
pub struct Neighbors {
    pub north: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub south: HashBits,
    pub north_east: HashBits,
    pub south_east: HashBits,
    pub north_west: HashBits,
    pub south_west: HashBits,
}

pub fn neighbors(h: HashBits) -> Neighbors {
    Neighbors {
        east: moved(h, 1, 0),
        west: moved(h, -1, 0),
        south: moved(h, 0, -1),
        north: moved(h, 0, 1),
        north_west: moved(h, -1, 1),
        north_east: moved(h, 1, 1),
        south_east: moved(h, 1, -1),
        south_west: moved(h, -1, -1),
    }
}

// ---- search areas ----

/// What a search covers: a circle of `radius` or a `width` x `height` box
/// (both in the unit; `conversion` is metres per unit) around `xy`.
#[derive(Clone, Copy, Debug)]
pub enum ShapeKind {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub xy: [f64; 2],
    pub conversion: f64,
    pub kind: ShapeKind,
}

/// geohashEstimateStepsByRadius: the precision whose cells are about the
/// size of the search, coarser near the poles.
pub fn estimate_steps_by_radius(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// [min_lon, min_lat, max_lon, max_lat] of the search (geohashBoundingBox).
pub fn bounding_box(shape: &Shape) -> [f64; 4] {
    let [long, lat] = shape.xy;
    let (half_h, half_w) = match shape.kind {
        ShapeKind::Circle { radius } => (radius, radius),
        ShapeKind::Box { width, height } => (height / 2.0, width / 2.0),
    };
    let height = shape.conversion * half_h;
    let width = shape.conversion * half_w;
    let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
    let long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat + lat_delta).cos());
    let long_delta_bottom =
        rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat - lat_delta).cos());
    // The box is widest on the side nearer the equator.
    let long_delta = if lat < 0.0 {
        long_delta_bottom
    } else {
        long_delta_top
    };
    [
        long - long_delta,
        lat - lat_delta,
        long + long_delta,
        lat + lat_delta,
    ]
}

/// The centre cell and its neighbours covering a search.
pub struct SearchArea {
    pub hash: HashBits,
    pub neighbors: Neighbors,
}

impl SearchArea {
    /// The cells in Redis's visiting order, zero cells included.
    pub fn cells(&self) -> [HashBits; 9] {
        let n = &self.neighbors;
        [
            self.hash,
            n.north,
            n.south,
            n.east,
            n.west,
            n.north_east,
            n.north_west,
            n.south_east,
            n.south_west,
        ]
    }
}

fn cell_at(long: f64, lat: f64, steps: u8) -> (HashBits, Neighbors, Option<Area>) {
    let hash = encode_wgs84(long, lat, steps).unwrap_or(HashBits {
        bits: 0,
        step: steps,
    });
    let area = decode(LONG_RANGE, LAT_RANGE, hash);
    (hash, neighbors(hash), area)
}

/// geohashCalculateAreasByShapeWGS84.
pub fn areas_by_shape(shape: &Shape) -> SearchArea {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let [long, lat] = shape.xy;
    let radius_meters = match shape.kind {
        ShapeKind::Circle { radius } => radius,
        ShapeKind::Box { width, height } => {
            ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
        }
    } * shape.conversion;
    let mut steps = estimate_steps_by_radius(radius_meters, lat);
    let (mut hash, mut nb, mut area) = cell_at(long, lat, steps);
    // A neighbour too near the search's edge: one step coarser.
    let dec = |h: HashBits| decode(LONG_RANGE, LAT_RANGE, h);
    let mut decrease = false;
    if let Some(n) = dec(nb.north) {
        decrease |= n.latitude.max < max_lat;
    }
    if let Some(s) = dec(nb.south) {
        decrease |= s.latitude.min > min_lat;
    }
    if let Some(e) = dec(nb.east) {
        decrease |= e.longitude.max < max_lon;
    }
    if let Some(w) = dec(nb.west) {
        decrease |= w.longitude.min > min_lon;
    }
    if steps > 1 && decrease {
        steps -= 1;
        (hash, nb, area) = cell_at(long, lat, steps);
    }
    if let (true, Some(area)) = (steps >= 2, area) {
        let z = HashBits::default();
        if area.latitude.min < min_lat {
            (nb.south, nb.south_west, nb.south_east) = (z, z, z);
        }
        if area.latitude.max > max_lat {
            (nb.north, nb.north_east, nb.north_west) = (z, z, z);
        }
        if area.longitude.min < min_lon {
            (nb.west, nb.south_west, nb.north_west) = (z, z, z);
        }
        if area.longitude.max > max_lon {
            (nb.east, nb.south_east, nb.north_east) = (z, z, z);
        }
    }
    SearchArea {
        hash,
        neighbors: nb,
    }
}

// ---- distances ----

/// Great-circle distance in metres (Haversine), Redis 7.0's formula.
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lat1r = deg_rad(lat1d);
    let lon1r = deg_rad(lon1d);
    let lat2r = deg_rad(lat2d);
    let lon2r = deg_rad(lon2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let v = ((lon2r - lon1r) / 2.0).sin();
    2.0 * EARTH_RADIUS_IN_METERS * (u * u + lat1r.cos() * lat2r.cos() * v * v).sqrt().asin()
}

/// The distance from the shape's centre to a point when the point is
/// inside the shape (all in metres).
pub fn distance_if_within(shape: &Shape, xy: [f64; 2]) -> Option<f64> {
    let [x1, y1] = shape.xy;
    let [x2, y2] = xy;
    match shape.kind {
        ShapeKind::Circle { radius } => {
            let d = distance(x1, y1, x2, y2);
            (d <= radius * shape.conversion).then_some(d)
        }
        ShapeKind::Box { width, height } => {
            let (width_m, height_m) = (width * shape.conversion, height * shape.conversion);
            let lon_distance = distance(x2, y2, x1, y2);
            let lat_distance = distance(x2, y2, x2, y1);
            if lon_distance > width_m / 2.0 || lat_distance > height_m / 2.0 {
                return None;
            }
            Some(distance(x1, y1, x2, y2))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_roundtrip() {
        for (a, b) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ff_ffff, 0x155_5555),
            (u32::MAX, 7),
        ] {
            assert_eq!(deinterleave(interleave(a, b)), (a, b));
        }
        assert_eq!(interleave(1, 0), 1);
        assert_eq!(interleave(0, 1), 2);
    }

    #[test]
    fn known_scores() {
        // GEOADD Sicily 13.361389 38.115556 "Palermo" -> ZSCORE 3479099956230698.
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(score_of(15.087269, 37.502669), Some(3479447370796909));
        assert_eq!(score_of(181.0, 0.0), None);
        assert_eq!(score_of(0.0, 85.06), None);
        let [x, y] = decode_score(3479099956230698.0).expect("decodes");
        assert!((x - 13.361389).abs() < 1e-5 && (y - 38.115556).abs() < 1e-5);
    }

    #[test]
    fn geohash_strings() {
        let s = score_of(13.361389, 38.115556).expect("in range") as f64;
        assert_eq!(&geohash_string(s).expect("valid"), b"sqc8b49rny0");
        let s = score_of(15.087269, 37.502669).expect("in range") as f64;
        assert_eq!(&geohash_string(s).expect("valid"), b"sqdtr74hyu0");
    }

    #[test]
    fn distances() {
        // GEODIST Sicily Palermo Catania: "166274.1516" (stored positions).
        let [x1, y1] = decode_score(3479099956230698.0).expect("decodes");
        let [x2, y2] = decode_score(3479447370796909.0).expect("decodes");
        assert_eq!(format!("{:.4}", distance(x1, y1, x2, y2)), "166274.1516");
    }

    #[test]
    fn steps() {
        assert_eq!(estimate_steps_by_radius(0.0, 0.0), 26);
        assert_eq!(estimate_steps_by_radius(1e9, 0.0), 1);
        assert!(estimate_steps_by_radius(1000.0, 0.0) > estimate_steps_by_radius(1000.0, 81.0));
    }

    #[test]
    fn odd_scores_decode_like_redis() {
        // (uint64_t) of a negative double wraps like an int64 on x86-64.
        assert_eq!(score_to_bits(-1.0), u64::MAX);
        assert_eq!(score_to_bits(f64::INFINITY), 0);
        assert_eq!(score_to_bits(f64::NEG_INFINITY), 1 << 63);
        assert_eq!(score_to_bits(1e19), 10_000_000_000_000_000_000);
    }
}
