//! `ferrodis-server [configfile|-] [--directive value ...]`: the same command
//! line as redis-server.

use ferrodis::config::Config;
use ferrodis::server::listen;

fn usage() -> ! {
    eprintln!("Usage: ./ferrodis-server [/path/to/redis.conf] [options] [-]");
    eprintln!("       ./ferrodis-server - (read config from stdin)");
    eprintln!("       ./ferrodis-server -v or --version");
    eprintln!("       ./ferrodis-server -h or --help");
    eprintln!();
    eprintln!("Examples:");
    eprintln!("       ./ferrodis-server (run the server with default conf)");
    eprintln!("       ./ferrodis-server /etc/redis/6379.conf");
    eprintln!("       ./ferrodis-server --port 7777");
    eprintln!("       ./ferrodis-server --port 7777 --replicaof 127.0.0.1 8888");
    eprintln!("       ./ferrodis-server /etc/myredis.conf --loglevel verbose -");
    std::process::exit(1);
}

/// jemalloc (or the system allocator) with Redis-style accounting (INFO used_memory,
/// maxmemory): see `ferrodis::alloc`.
#[global_allocator]
static GLOBAL: ferrodis::alloc::Counting = ferrodis::alloc::Counting;

fn main() {
    ferrodis::alloc::activate();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(first) = args.first() {
        match first.as_str() {
            "-v" | "--version" => {
                println!(
                    "Redis server v={} sha=00000000:0 malloc={} bits=64 build=ferrodis-{}",
                    ferrodis::REDIS_VERSION,
                    ferrodis::alloc::allocator_name(),
                    env!("CARGO_PKG_VERSION")
                );
                return;
            }
            "-h" | "--help" => usage(),
            _ => {}
        }
    }
    // Sentinel mode: `--sentinel` anywhere, or started under a name like
    // ferrodis-sentinel / redis-sentinel (as redis-server decides).
    let exec_name = std::env::args().next().unwrap_or_default();
    let base = std::path::Path::new(&exec_name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sentinel = base.contains("-sentinel") || args.iter().any(|a| a == "--sentinel");
    let mut cfg = match Config::from_args_mode(&args, sentinel) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    // `dir` takes effect at once, as in Redis: the log file and every
    // relative path (scripts of a Sentinel included) are relative to it.
    if let Err(e) = std::env::set_current_dir(&cfg.dir) {
        eprintln!("Can't chdir to '{}': {e}", cfg.dir);
        std::process::exit(1);
    }
    if let Ok(cwd) = std::env::current_dir() {
        cfg.dir = cwd.display().to_string();
    }
    if let Err(e) = ferrodis::server::acl_cmd::validate_config_users(&cfg) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    if cfg.set_proc_title {
        ferrodis::util::proctitle::init(&exec_name);
    }
    let ready_pipe = if cfg.daemonize {
        listen::daemonize()
    } else {
        None
    };
    if cfg.sentinel_mode {
        ferrodis::logging::set_role(b'X');
    }
    ferrodis::logging::init(&cfg.logfile, cfg.loglevel_name());
    std::process::exit(ferrodis::server::start(cfg, ready_pipe));
}
