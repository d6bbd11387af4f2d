//! Logging in Redis's format: `pid:role dd Mon yyyy hh:mm:ss.mmm <c> message`,
//! to the logfile or stdout, through the `log` facade and env_logger.
//! The role character is 'M' (master), 'S' (replica), 'C' (forked child).

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

static ROLE: AtomicU8 = AtomicU8::new(b'M');

pub fn set_role(c: u8) {
    ROLE.store(c, Ordering::Relaxed);
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "25 Nov 2026 13:32:50.123" in UTC.
pub fn timestamp() -> String {
    let us = crate::util::ustime();
    let secs = us / 1_000_000;
    let ms = (us / 1000) % 1000;
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        d,
        MONTHS[(m - 1) as usize],
        y,
        tod / 3600,
        (tod / 60) % 60,
        tod % 60,
        ms
    )
}

/// ctime(3)'s "Thu Jan  1 00:00:00 1970" for unix seconds (UTC, like the
/// log timestamps).
pub fn ctime(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        tod / 3600,
        (tod / 60) % 60,
        tod % 60,
        y
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The log's file descriptor (stdout until a logfile is opened), for the
/// signal handlers that write to it directly (server/watchdog.rs).
static LOG_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(1);

pub fn log_fd() -> i32 {
    LOG_FD.load(Ordering::Relaxed)
}

/// Installs the logger (and a panic hook that logs the panic and where it
/// happened, instead of writing it to stderr). `level` is the redis.conf
/// loglevel name.
pub fn init(logfile: &str, level: &str) {
    std::panic::set_hook(Box::new(|info| {
        // Like Redis's bug report: where, and the stack that got there.
        let bt = std::backtrace::Backtrace::force_capture();
        log::error!("{info}\n------ STACK TRACE ------\n{bt}");
    }));
    let filter = match level {
        "debug" => log::LevelFilter::Trace,
        "verbose" => log::LevelFilter::Debug,
        "notice" => log::LevelFilter::Info,
        "warning" => log::LevelFilter::Warn,
        _ => log::LevelFilter::Off,
    };
    let mut b = env_logger::Builder::new();
    b.filter_level(filter);
    b.format(|buf, rec| {
        let c = match rec.level() {
            log::Level::Trace => '.',
            log::Level::Debug => '-',
            log::Level::Info => '*',
            log::Level::Warn | log::Level::Error => '#',
        };
        writeln!(
            buf,
            "{}:{} {} {} {}",
            std::process::id(),
            ROLE.load(Ordering::Relaxed) as char,
            timestamp(),
            c,
            rec.args()
        )
    });
    if !logfile.is_empty() {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logfile)
        {
            Ok(f) => {
                LOG_FD.store(std::os::fd::AsRawFd::as_raw_fd(&f), Ordering::Relaxed);
                b.target(env_logger::Target::Pipe(Box::new(f)));
            }
            Err(e) => {
                eprintln!("Can't open the log file: {e}");
                std::process::exit(1);
            }
        }
    } else {
        b.target(env_logger::Target::Stdout);
    }
    let _ = b.try_init();
}
