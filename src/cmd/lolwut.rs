//! LOLWUT (Redis's lolwut.c, lolwut5.c, lolwut6.c) and the table entries of
//! the other commands of issue 8 that belong to no data-type family
//! (MODULE, carried out by `server::module`).
//!
//! LOLWUT without VERSION answers as 7.0 does ("Redis ver. 7.0.15");
//! VERSION 5 draws Georg Nees' "Schotter" in Braille characters, VERSION 6
//! a skyline in the terminal's four grays, with the same geometry and
//! arithmetic (single-precision floats included) as Redis; only the random
//! numbers differ.

use super::flag::*;
use super::table::{spec, Srv};
use super::{arg_i64, eq_ic, CommandSpec, Ctx, Proc};
use crate::error::CmdResult;
use crate::util::Rng;
use bytes::Bytes;

pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "lolwut",
        Proc::Db(lolwut),
        -1,
        READONLY | FAST,
        0,
        0,
        0,
        "server",
    ),
    spec("module", Proc::Srv(Srv::Module), -2, 0, 0, 0, 0, "server")
        .with_subs(super::subcommands::MODULE_SUBS),
];

/// C's RAND_MAX and a `rand()` over our generator.
const RAND_MAX: u32 = 0x7fff_ffff;

fn rand(rng: &mut Rng) -> u32 {
    (rng.next_u64() >> 33) as u32
}

/// A grid of pixels, each a color index (lwCanvas).
struct Canvas {
    width: i32,
    height: i32,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: i32, height: i32, bg: u8) -> Canvas {
        Canvas {
            width,
            height,
            pixels: vec![bg; (width.max(0) as usize) * (height.max(0) as usize)],
        }
    }

    fn draw(&mut self, x: i32, y: i32, color: u8) {
        if x < 0 || x >= self.width || y < 0 || y >= self.height {
            return;
        }
        self.pixels[(x + y * self.width) as usize] = color;
    }

    fn get(&self, x: i32, y: i32) -> u8 {
        if x < 0 || x >= self.width || y < 0 || y >= self.height {
            return 0;
        }
        self.pixels[(x + y * self.width) as usize]
    }

    /// Bresenham, as lwDrawLine.
    fn line(&mut self, mut x1: i32, mut y1: i32, x2: i32, y2: i32, color: u8) {
        let dx = (x2 - x1).abs();
        let dy = (y2 - y1).abs();
        let sx = if x1 < x2 { 1 } else { -1 };
        let sy = if y1 < y2 { 1 } else { -1 };
        let mut err = dx - dy;
        loop {
            self.draw(x1, y1, color);
            if x1 == x2 && y1 == y2 {
                break;
            }
            let e2 = err * 2;
            if e2 > -dy {
                err -= dy;
                x1 += sx;
            }
            if e2 < dx {
                err += dx;
                y1 += sy;
            }
        }
    }

    /// A square of side `size` centred on x,y, rotated by `angle`
    /// (lwDrawSquare: its corners on a circle).
    fn square(&mut self, x: i32, y: i32, size: f32, angle: f32, color: u8) {
        // Redis's literal, not SQRT_2: the last digits matter to rounding.
        #[allow(clippy::approx_constant)]
        let size = ((f64::from(size) / 1.4142135623) as f32).round();
        let mut k = (std::f64::consts::PI / 4.0 + f64::from(angle)) as f32;
        let mut px = [0i32; 4];
        let mut py = [0i32; 4];
        for j in 0..4 {
            px[j] = (f64::from(k).sin() * f64::from(size) + f64::from(x)).round() as i32;
            py[j] = (f64::from(k).cos() * f64::from(size) + f64::from(y)).round() as i32;
            k = (f64::from(k) + std::f64::consts::PI / 2.0) as f32;
        }
        for j in 0..4 {
            self.line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color);
        }
    }
}

/// lwDrawSchotter: rows of squares, more and more displaced going down.
fn schotter(rng: &mut Rng, cols: i32, per_row: i32, per_col: i32) -> Canvas {
    let width = cols * 2;
    let padding = if width > 4 { 2 } else { 0 };
    let side = (width - padding * 2) as f32 / per_row as f32;
    let height = (side * per_col as f32 + (padding * 2) as f32) as i32;
    let mut canvas = Canvas::new(width, height, 0);
    let r = |rng: &mut Rng, y: i32| rand(rng) as f32 / RAND_MAX as f32 / per_col as f32 * y as f32;
    for y in 0..per_col {
        for x in 0..per_row {
            let mut sx = (x as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut sy = (y as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut angle = 0.0f32;
            if y > 1 {
                let mut r1 = r(rng, y);
                let mut r2 = r(rng, y);
                let mut r3 = r(rng, y);
                if rand(rng) % 2 == 1 {
                    r1 = -r1;
                }
                if rand(rng) % 2 == 1 {
                    r2 = -r2;
                }
                if rand(rng) % 2 == 1 {
                    r3 = -r3;
                }
                angle = r1;
                sx = (sx as f32 + r2 * side / 3.0) as i32;
                sy = (sy as f32 + r3 * side / 3.0) as i32;
            }
            canvas.square(sx, sy, side, angle, 1);
        }
    }
    canvas
}

/// Each 2x4 block of pixels is one Braille character.
fn render_braille(c: &Canvas) -> Vec<u8> {
    let mut out = Vec::new();
    let mut y = 0;
    while y < c.height {
        let mut x = 0;
        while x < c.width {
            let bits = [
                (0, 0, 0),
                (0, 1, 1),
                (0, 2, 2),
                (1, 0, 3),
                (1, 1, 4),
                (1, 2, 5),
                (0, 3, 6),
                (1, 3, 7),
            ];
            let byte = bits
                .iter()
                .filter(|(dx, dy, _)| c.get(x + dx, y + dy) != 0)
                .fold(0u32, |b, (_, _, bit)| b | (1 << bit));
            let code = 0x2800 + byte;
            out.push(0xE0 | (code >> 12) as u8);
            out.push(0x80 | ((code >> 6) & 0x3F) as u8);
            out.push(0x80 | (code & 0x3F) as u8);
            x += 2;
        }
        if y != c.height - 1 {
            out.push(b'\n');
        }
        y += 4;
    }
    out
}

/// One building of the skyline (lolwut6's struct skyscraper).
struct Skyscraper {
    xoff: i32,
    width: i32,
    height: i32,
    windows: bool,
    color: u8,
}

fn draw_skyscraper(rng: &mut Rng, c: &mut Canvas, s: &Skyscraper) {
    let starty = c.height - 1;
    let endy = starty - s.height + 1;
    let mut y = starty;
    while y >= endy {
        for x in s.xoff..s.xoff + s.width {
            // The roof is four pixels narrower.
            if y == endy && (x <= s.xoff + 1 || x >= s.xoff + s.width - 2) {
                continue;
            }
            let mut color = s.color;
            if s.windows
                && x > s.xoff + 1
                && x < s.xoff + s.width - 2
                && y > endy + 1
                && y < starty - 1
            {
                let relx = x - (s.xoff + 1);
                let rely = y - (endy + 1);
                // Windows two pixels wide, one tall (terminal cells are tall).
                if (relx / 2) % 2 != 0 && rely % 2 != 0 {
                    loop {
                        color = 1 + (rand(rng) % 2) as u8;
                        if color != s.color {
                            break;
                        }
                    }
                    if relx % 2 != 0 {
                        color = c.get(x - 1, y);
                    }
                }
            }
            c.draw(x, y, color);
        }
        y -= 1;
    }
}

/// generateSkyline: two background layers, then the lit foreground.
fn skyline(rng: &mut Rng, c: &mut Canvas) {
    for color in [2u8, 1] {
        let mut offset = -10;
        while offset < c.width {
            offset += (rand(rng) % 8) as i32;
            let width = 10 + (rand(rng) % 9) as i32;
            let height = if color == 2 {
                c.height / 2 + (rand(rng) % c.height as u32) as i32 / 2
            } else {
                c.height / 2 + (rand(rng) % c.height as u32) as i32 / 3
            };
            let s = Skyscraper {
                xoff: offset,
                width,
                height,
                windows: false,
                color,
            };
            draw_skyscraper(rng, c, &s);
            offset += if color == 2 { width / 2 } else { width + 1 };
        }
    }
    let mut offset = -10;
    while offset < c.width {
        offset += (rand(rng) % 8) as i32;
        let mut width = 5 + (rand(rng) % 14) as i32;
        if width % 4 != 0 {
            width += width % 3;
        }
        let height = c.height / 3 + (rand(rng) % c.height as u32) as i32 / 2;
        let s = Skyscraper {
            xoff: offset,
            width,
            height,
            windows: true,
            color: 0,
        };
        draw_skyscraper(rng, c, &s);
        offset += width + 5;
    }
}

/// Each pixel a space with its gray as foreground and background.
fn render_grays(c: &Canvas) -> Vec<u8> {
    let mut out = Vec::new();
    for y in 0..c.height {
        for x in 0..c.width {
            let ce: &[u8] = match c.get(x, y) {
                1 => b"0;90;100m",
                2 => b"0;37;47m",
                3 => b"0;97;107m",
                _ => b"0;30;40m",
            };
            out.extend_from_slice(b"\x1b[");
            out.extend_from_slice(ce);
            out.extend_from_slice(b" \x1b[0m");
        }
        if y != c.height - 1 {
            out.push(b'\n');
        }
    }
    out
}

/// The optional numeric arguments of a LOLWUT version, clamped.
fn numeric_args(
    args: &[Bytes],
    defaults: &[i64],
    max: &[i64],
) -> Result<Vec<i32>, crate::error::CmdError> {
    let mut v: Vec<i64> = defaults.to_vec();
    for (slot, a) in v.iter_mut().zip(args) {
        *slot = arg_i64(a)?;
    }
    Ok(v.iter()
        .zip(max)
        .map(|(&x, &m)| x.clamp(1, m) as i32)
        .collect())
}

/// LOLWUT [VERSION version] [version-specific arguments]
pub fn lolwut(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut version = crate::REDIS_VERSION.to_string();
    let mut args = &argv[1..];
    if argv.len() >= 3 && eq_ic(&argv[1], "version") {
        let v = arg_i64(&argv[2])?;
        version = format!("{}.0.0", v as u32);
        args = &argv[3..];
    }
    let b = version.as_bytes();
    // lolwutCommand's test of the version string: "5.x" but "5.9" is 6.
    let (c0, c1, c2) = (b[0], b[1], b.get(2).copied().unwrap_or(0));
    let minor9 = c1 == b'.' && c2 == b'9';
    let is = |major: u8| c0 == major && c1 == b'.' && c2 != b'9';
    let mut rng = Rng::new();
    let mut text;
    if is(b'5') || (c0 == b'4' && minor9) {
        let a = numeric_args(args, &[66, 8, 12], &[1000, 200, 200])?;
        let canvas = schotter(&mut rng, a[0], a[1], a[2]);
        text = render_braille(&canvas);
        text.extend_from_slice(b"\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ");
    } else if is(b'6') || (c0 == b'5' && minor9) {
        let a = numeric_args(args, &[80, 20], &[1000, 1000])?;
        let mut canvas = Canvas::new(a[0], a[1], 3);
        skyline(&mut rng, &mut canvas);
        text = render_grays(&canvas);
        text.extend_from_slice(b"\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. ");
    } else {
        text = b"Redis ver. ".to_vec();
    }
    text.extend_from_slice(crate::REDIS_VERSION.as_bytes());
    text.push(b'\n');
    ctx.out.verbatim(&text);
    Ok(())
}
