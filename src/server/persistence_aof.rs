//! Server side of the AOF (Redis 7.0 multi-part): feeding propagated
//! commands, the fsync policy, BGREWRITEAOF through the fork path, turning
//! the AOF on and off at runtime, loading at startup, INFO aof_* fields.

use super::Server;
use crate::cmd::{Ctx, Effect, Proc};
use crate::config::AppendFsync;
use crate::db::{ExpireMode, Value};
use crate::error::CmdError;
use crate::persist::aof::{aof_dir, cat_command, Aof, AofState, Manifest};
use crate::persist::fork::{ChildExit, ChildKind};
use crate::persist::{rdb, RdbAux};
use crate::types::Limits;
use bytes::Bytes;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

type R = Result<(), CmdError>;

/// How loading one AOF file went (Redis's AOF_OK, AOF_EMPTY...).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum AofLoad {
    Ok,
    Empty,
    Truncated,
    Failed,
}

/// Why the command loop over an AOF file stopped.
enum AofEnd {
    Done,
    Short,
    Format,
    Failed,
}

/// Writes the rewrite of the dataset as commands (aof-use-rdb-preamble no).
fn write_aof_commands(
    ks: &crate::db::Keyspace,
    functions: &[Bytes],
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::with_capacity(64 * 1024, out);
    let mut buf = Vec::new();
    let b = |s: &[u8]| Bytes::copy_from_slice(s);
    // The libraries first, as Redis's rewriteFunctions.
    for code in functions {
        cat_command(&mut buf, &[b(b"FUNCTION"), b(b"LOAD"), code.clone()]);
    }
    for (i, db) in ks.dbs.iter().enumerate() {
        if db.dict.is_empty() {
            continue;
        }
        cat_command(&mut buf, &[b(b"SELECT"), Bytes::from(i.to_string())]);
        for (k, e) in db.dict.iter() {
            let key = b(k);
            let mut argv: Vec<Bytes> = Vec::new();
            let mut ibuf = [0u8; 20];
            match e {
                v @ (Value::Str(_) | Value::Raw(_) | Value::Int(_)) => {
                    argv.extend([
                        b(b"SET"),
                        key.clone(),
                        b(v.str_bytes(&mut ibuf).unwrap_or(b"")),
                    ]);
                }
                Value::List(l) => {
                    argv.extend([b(b"RPUSH"), key.clone()]);
                    argv.extend(l.iter().map(|x| b(&x)));
                }
                Value::Set(s) => {
                    argv.extend([b(b"SADD"), key.clone()]);
                    argv.extend(s.iter().map(|x| b(&x)));
                }
                Value::ZSet(z) => {
                    argv.extend([b(b"ZADD"), key.clone()]);
                    for (m, sc) in z.iter() {
                        argv.push(Bytes::from(crate::encoding::numbers::fmt_g(sc, 17)));
                        argv.push(b(&m));
                    }
                }
                Value::Hash(h) => {
                    argv.extend([b(b"HSET"), key.clone()]);
                    for (f, v) in h.iter() {
                        argv.push(b(&f));
                        argv.push(b(&v));
                    }
                }
                Value::Stream(s) => {
                    for cmd in crate::persist::rdb_type_stream::aof_commands(&key, s) {
                        cat_command(&mut buf, &cmd);
                    }
                }
            }
            if !argv.is_empty() {
                cat_command(&mut buf, &argv);
            }
            if let Some(when) = db.expires.get(k) {
                cat_command(
                    &mut buf,
                    &[b(b"PEXPIREAT"), key, Bytes::from(when.to_string())],
                );
            }
            if buf.len() > 32 * 1024 {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
    }
    w.write_all(&buf)?;
    w.flush()
}

/// Writes a new base file at `path` (RDB preamble or commands), fsynced.
fn write_base(
    ks: &crate::db::Keyspace,
    path: &Path,
    preamble: bool,
    aux: &RdbAux,
    fill: i64,
    timestamp: Option<i64>,
) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    if let Some(ts) = timestamp {
        // A rewrite starts with its time (Redis's rewriteAppendOnlyFileRio).
        if !preamble {
            f.write_all(format!("#TS:{ts}\r\n").as_bytes())?;
        }
    }
    if preamble {
        rdb::write_rdb_with(ks, &mut f, aux, fill, &mut |_| {})?;
    } else {
        write_aof_commands(ks, &aux.functions, &mut f)?;
    }
    f.sync_all()
}

impl Server {
    fn aof_dir(&self) -> PathBuf {
        aof_dir(&self.cfg.dir, &self.cfg.appenddirname)
    }

    fn aof_temp_incr(&self) -> PathBuf {
        self.aof_dir()
            .join(format!("temp-{}.incr", self.cfg.appendfilename))
    }

    fn aof_file_size(&self, name: &str) -> u64 {
        std::fs::metadata(self.aof_dir().join(name)).map_or(0, |m| m.len())
    }

    // ---- loading ----

    /// The manifest on disk (an empty one when there is none: no AOF
    /// directory, or no manifest in it). A manifest that does not parse is
    /// fatal, as in Redis (aofLoadManifestFromDisk).
    fn aof_manifest_from_disk(&self) -> Manifest {
        let dir = self.aof_dir();
        if !dir.is_dir() {
            log::info!("The AOF directory {} doesn't exist", self.cfg.appenddirname);
            return Manifest::default();
        }
        let name = format!("{}.manifest", self.cfg.appendfilename);
        match std::fs::read_to_string(dir.join(&name)) {
            Ok(text) => Manifest::parse(&text).unwrap_or_else(|e| {
                log::warn!("{e}");
                std::process::exit(1);
            }),
            Err(_) => {
                log::info!("The AOF manifest file {name} doesn't exist");
                Manifest::default()
            }
        }
    }

    /// The AOF directory must exist: a server that cannot create it
    /// exits, as Redis.
    fn aof_create_dir_or_exit(&self, dir: &Path) {
        if let Err(e) = std::fs::create_dir_all(dir) {
            log::warn!(
                "Can't open or create append-only dir {}: {}",
                self.cfg.appenddirname,
                crate::config::os_err(&e)
            );
            std::process::exit(1);
        }
    }

    /// An AOF of Redis < 7.0 (`appendfilename` in the server directory) is
    /// moved into the AOF directory as the base of a new manifest when
    /// there is no AOF directory, no manifest, or a manifest naming only
    /// that file as its base while the directory lacks it (an upgrade
    /// interrupted before the move): Redis's aofUpgradePrepare.
    fn aof_upgrade_if_needed(&self, manifest: &mut Manifest) {
        let prefix = &self.cfg.appendfilename;
        let old = Path::new(&self.cfg.dir).join(prefix);
        let dir = self.aof_dir();
        if !old.is_file() {
            return;
        }
        let empty = manifest.base.is_none() && manifest.incrs.is_empty();
        let interrupted = manifest.incrs.is_empty()
            && manifest.base.as_ref().is_some_and(|b| &b.name == prefix)
            && !dir.join(prefix).exists();
        if dir.is_dir() && !empty && !interrupted {
            return;
        }
        self.aof_create_dir_or_exit(&dir);
        manifest.adopt_old_style(prefix);
        if let Err(e) = manifest.persist(&dir, prefix) {
            log::warn!(
                "Can't persist the AOF manifest: {}",
                crate::config::os_err(&e)
            );
            std::process::exit(1);
        }
        if let Err(e) = std::fs::rename(&old, dir.join(prefix)) {
            log::warn!(
                "Error trying to rename the existing AOF to dir {}: {}",
                self.cfg.appenddirname,
                crate::config::os_err(&e)
            );
            std::process::exit(1);
        }
        log::info!(
            "Successfully migrated an old-style AOF into the AOF directory {}.",
            self.cfg.appenddirname
        );
    }

    /// appendonly yes at startup (Redis's aofLoadManifestFromDisk,
    /// loadAppendOnlyFiles, aofOpenIfNeededOnServerStart,
    /// aofDelHistoryFiles): load manifest, base and incr files, then make
    /// sure a base exists and open the last incr file for appending.
    pub fn aof_load_on_startup(&mut self) {
        self.aof_timestamps_changed();
        let start = std::time::Instant::now();
        let dir = self.aof_dir();
        let prefix = self.cfg.appendfilename.clone();
        let mut manifest = self.aof_manifest_from_disk();
        self.aof_upgrade_if_needed(&mut manifest);
        match self.aof_load_files(&manifest) {
            Err(()) => std::process::exit(1),
            Ok(true) => log::info!(
                "DB loaded from append only file: {:.3} seconds",
                start.elapsed().as_secs_f64()
            ),
            Ok(false) => {}
        }
        self.aof_create_dir_or_exit(&dir);
        if manifest.base.is_none() && manifest.incrs.is_empty() {
            let name = manifest.new_base(&prefix, self.cfg.aof_use_rdb_preamble);
            let aux = RdbAux {
                aof_base: true,
                key_save_delay_us: 0,
                ..self.rdb_aux()
            };
            if let Err(e) = write_base(
                &self.ks,
                &dir.join(&name),
                self.cfg.aof_use_rdb_preamble,
                &aux,
                self.cfg.list_max_listpack_size,
                self.persist.aof.timestamps.then_some(self.ks.now_ms / 1000),
            ) {
                log::warn!("Can't write the AOF base file {name}: {e}");
                std::process::exit(1);
            }
            log::info!("Creating AOF base file {name} on server start");
        }
        let opening = !manifest.incrs.is_empty();
        let incr = match manifest.incrs.last() {
            Some(f) => f.name.clone(),
            None => manifest.new_incr(&prefix),
        };
        match Aof::open_append(&dir.join(&incr)) {
            Ok(f) => self.persist.aof.file = Some(f),
            Err(e) => {
                log::warn!(
                    "Can't open the append-only file {incr}: {}",
                    crate::config::os_err(&e)
                );
                std::process::exit(1);
            }
        }
        if let Err(e) = manifest.persist(&dir, &prefix) {
            log::warn!(
                "Can't persist the AOF manifest: {}",
                crate::config::os_err(&e)
            );
            std::process::exit(1);
        }
        if opening {
            log::info!("Opening AOF incr file {incr} on server start");
        } else {
            log::info!("Creating AOF incr file {incr} on server start");
        }
        let base_size = manifest
            .base
            .as_ref()
            .map_or(0, |b| self.aof_file_size(&b.name));
        let incr_size: u64 = manifest
            .incrs
            .iter()
            .map(|f| self.aof_file_size(&f.name))
            .sum();
        let a = &mut self.persist.aof;
        a.manifest = manifest;
        a.state = AofState::On;
        a.seldb = None;
        a.base_size = base_size + incr_size;
        a.current_size = base_size + incr_size;
        self.dirty = 0;
        self.aof_del_history_files();
    }

    /// Deletes the history files the manifest lists, unless
    /// aof-disable-auto-gc (Redis's aofDelHistoryFiles).
    pub fn aof_del_history_files(&mut self) {
        let a = &mut self.persist.aof;
        if a.manifest.history.is_empty() || self.cfg.extra_value("aof-disable-auto-gc") == "yes" {
            return;
        }
        let dir = aof_dir(&self.cfg.dir, &self.cfg.appenddirname);
        a.manifest.delete_history(&dir);
        if let Err(e) = a.manifest.persist(&dir, &self.cfg.appendfilename) {
            log::warn!(
                "Can't persist the AOF manifest: {}",
                crate::config::os_err(&e)
            );
        }
    }

    /// Redis's loadAppendOnlyFiles: the base then every incr file of the
    /// manifest. Ok(false) when it lists no file, Ok(true) when loaded
    /// (possibly empty, or with a truncated last file), Err after logging
    /// why loading failed.
    fn aof_load_files(&mut self, manifest: &Manifest) -> Result<bool, ()> {
        let dir = self.aof_dir();
        let files: Vec<(String, bool)> = manifest
            .base
            .iter()
            .map(|f| (f.name.clone(), true))
            .chain(manifest.incrs.iter().map(|f| (f.name.clone(), false)))
            .collect();
        if files.is_empty() {
            return Ok(false);
        }
        // Every listed file must exist, whatever its place (Redis's
        // getBaseAndIncrAppendOnlyFilesSize); nothing to load when all
        // are empty.
        let mut total = 0u64;
        for (name, _) in &files {
            match std::fs::metadata(dir.join(name)) {
                Ok(m) => total += m.len(),
                Err(e) => {
                    log::warn!(
                        "Unable to obtain the AOF file {name} length. stat: {}",
                        crate::config::os_err(&e)
                    );
                    return Err(());
                }
            }
        }
        if total == 0 {
            return Ok(true);
        }
        self.persist.loading = true;
        let n = files.len();
        let mut result = Ok(true);
        for (i, (name, base)) in files.iter().enumerate() {
            let last = i + 1 == n;
            let start = std::time::Instant::now();
            let r = self.aof_load_file(&dir, name);
            let kind = if *base { "base" } else { "incr" };
            if r == AofLoad::Ok || (r == AofLoad::Truncated && last) {
                log::info!(
                    "DB loaded from {kind} file {name}: {:.3} seconds",
                    start.elapsed().as_secs_f64()
                );
            }
            if r == AofLoad::Truncated && !last {
                log::warn!("Fatal error: the truncated file is not the last file");
                result = Err(());
                break;
            }
            if r == AofLoad::Failed {
                result = Err(());
                break;
            }
        }
        self.persist.loading = false;
        result
    }

    /// Redis's loadSingleAppendOnlyFile: an optional RDB preamble, then
    /// commands (`#` annotations skipped, MULTI..EXEC applied at EXEC). A
    /// truncated file, or one ending inside MULTI, is cut back to its last
    /// complete command (or transaction) when aof-load-truncated is on.
    /// Errors are logged with Redis's words.
    fn aof_load_file(&mut self, dir: &Path, name: &str) -> AofLoad {
        let path = dir.join(name);
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                log::warn!(
                    "The append log file {name} doesn't exist: {}",
                    crate::config::os_err(&e)
                );
                return AofLoad::Failed;
            }
            Err(e) => {
                log::warn!(
                    "Fatal error: can't open the append log file {name} for reading: {}",
                    crate::config::os_err(&e)
                );
                return AofLoad::Failed;
            }
        };
        if data.is_empty() {
            return AofLoad::Empty;
        }
        let total = data.len();
        let mut rest: &[u8] = &data;
        if data.starts_with(b"REDIS") {
            let old_style = name == self.cfg.appendfilename;
            if old_style {
                log::info!("Reading RDB preamble from AOF file...");
            } else {
                log::info!("Reading RDB base file on AOF loading...");
            }
            let lim = Limits::from_config(&self.cfg);
            let mut r = crate::persist::rdb_load::RdbReader::new(&mut rest);
            let Ok(info) = crate::persist::rdb_load::load_from(&mut r, &mut self.ks, &lim, true)
            else {
                if old_style {
                    log::warn!("Error reading the RDB preamble of the AOF file {name}, AOF loading aborted");
                } else {
                    log::warn!("Error reading the RDB base file {name}, AOF loading aborted");
                }
                return AofLoad::Failed;
            };
            if let Err(e) = self.functions_load_rdb(info.functions) {
                log::warn!("Failed loading library: {e}");
                return AofLoad::Failed;
            }
            if old_style {
                log::info!("Reading the remaining AOF tail...");
            }
        }
        let mut valid_up_to = total - rest.len();
        let mut db = 0usize;
        let mode = self.ks.expire_mode;
        self.ks.expire_mode = ExpireMode::ApplyingMaster;
        let mut spans = Vec::new();
        let limits = crate::resp::Limits {
            proto_max_bulk_len: u64::MAX,
            authenticated: true,
        };
        // Commands of an open MULTI, and where the file was valid before it.
        let mut multi: Option<Vec<Vec<Bytes>>> = None;
        let mut valid_before_multi = valid_up_to;
        let end = loop {
            if rest.is_empty() {
                if multi.is_some() {
                    log::warn!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
                    valid_up_to = valid_before_multi;
                    break AofEnd::Short;
                }
                break AofEnd::Done;
            }
            if rest[0] == b'#' {
                // An annotation line (timestamps): skipped.
                let line = rest
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(rest.len(), |p| p + 1);
                rest = &rest[line..];
                continue;
            }
            if rest[0] != b'*' {
                break AofEnd::Format;
            }
            let argv: Vec<Bytes> = match crate::resp::parse_request(rest, limits, &mut spans) {
                Ok(crate::resp::Parsed::Request { consumed }) if !spans.is_empty() => {
                    let argv = spans
                        .iter()
                        .map(|&(a, b)| Bytes::copy_from_slice(&rest[a..b]))
                        .collect();
                    rest = &rest[consumed..];
                    argv
                }
                Ok(crate::resp::Parsed::Incomplete { .. }) => break AofEnd::Short,
                _ => break AofEnd::Format,
            };
            let Some(cmd) = crate::cmd::lookup(&argv[0]) else {
                log::warn!(
                    "Unknown command '{}' reading the append only file {name}",
                    String::from_utf8_lossy(&argv[0])
                );
                break AofEnd::Failed;
            };
            match cmd.proc {
                Proc::Srv(crate::cmd::Srv::Multi) => {
                    valid_before_multi = valid_up_to;
                    multi.get_or_insert_with(Vec::new);
                }
                Proc::Srv(crate::cmd::Srv::Exec) => {
                    for queued in multi.take().unwrap_or_default() {
                        self.aof_apply(&mut db, &queued);
                    }
                }
                _ => match multi.as_mut() {
                    Some(q) => q.push(argv),
                    None => self.aof_apply(&mut db, &argv),
                },
            }
            valid_up_to = total - rest.len();
        };
        self.ks.expire_mode = mode;
        match end {
            AofEnd::Done => AofLoad::Ok,
            AofEnd::Failed => AofLoad::Failed,
            AofEnd::Format => {
                log::warn!("Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>");
                AofLoad::Failed
            }
            AofEnd::Short => {
                if self.cfg.aof_load_truncated {
                    log::warn!("!!! Warning: short read while loading the AOF file {name}!!!");
                    log::warn!("!!! Truncating the AOF {name} at offset {valid_up_to} !!!");
                    let truncated = std::fs::OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .and_then(|f| f.set_len(valid_up_to as u64));
                    match truncated {
                        Ok(()) => {
                            log::warn!(
                                "AOF {name} loaded anyway because aof-load-truncated is enabled"
                            );
                            return AofLoad::Truncated;
                        }
                        Err(e) => log::warn!("Error truncating the AOF file {name}: {e}"),
                    }
                }
                log::warn!("Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.");
                AofLoad::Failed
            }
        }
    }

    /// DEBUG LOADAOF: writes out the AOF buffer, empties the data set and
    /// loads it again from the AOF files. As in Redis, a failure to load
    /// ends the process. Deviation: with no AOF at all Redis 7.0 exits too
    /// (after emptying the data); here that is an error and nothing changes.
    pub fn debug_loadaof(&mut self, key: usize) -> R {
        if self.persist.aof.state == AofState::On {
            let now = self.ks.now_ms;
            self.persist.aof.flush(true, now);
        }
        let manifest = self.aof_manifest_from_disk();
        if manifest.base.is_none() && manifest.incrs.is_empty() {
            return Err("ERR There is no append only file to load".into());
        }
        self.ks.signal_flushed(None);
        for d in &mut self.ks.dbs {
            d.clear();
        }
        // The manifest on disk becomes the server's (its sequence numbers
        // included), as Redis's DEBUG LOADAOF does.
        self.persist.aof.manifest = manifest;
        self.aof_del_history_files();
        let manifest = self.persist.aof.manifest.clone();
        if self.aof_load_files(&manifest) != Ok(true) {
            log::warn!("DEBUG LOADAOF: the append only file could not be loaded, exiting");
            std::process::exit(1);
        }
        self.dirty = 0;
        log::info!("Append Only File loaded by DEBUG LOADAOF");
        self.reply_ok(key);
        Ok(())
    }

    /// Runs a script read from the AOF (an AOF written by Redis before 7.0
    /// holds EVAL lines) as Redis's AOF client does: a client of its own
    /// for the script to run as (its reply is dropped), whose writes obey
    /// as a master's do (AOF_CLIENT_ID). The script may SELECT.
    fn aof_run_script(&mut self, db: &mut usize, tag: crate::cmd::Srv, argv: &[Bytes]) {
        let Ok((a, _b)) = mio::net::UnixStream::pair() else {
            log::warn!("Can't create the client to run a script from the append only file");
            return;
        };
        let mut c = crate::net::Client::new(
            super::AOF_CLIENT_ID,
            crate::net::Stream::Unix(a),
            String::new(),
            String::new(),
            self.ks.now_ms,
        );
        c.db = *db;
        let key = self.clients.insert(c);
        self.run_srv(key, tag, argv);
        if let Some(c) = self.clients.get(key) {
            *db = c.db;
        }
        self.free_client(key);
    }

    /// Applies one command read from the AOF (no client, no reply).
    fn aof_apply(&mut self, db: &mut usize, argv: &[Bytes]) {
        let Some(cmd) = crate::cmd::lookup(&argv[0]) else {
            log::warn!(
                "Unknown command '{}' reading the append only file",
                String::from_utf8_lossy(&argv[0])
            );
            return;
        };
        if !cmd.arity_ok(argv.len()) {
            return;
        }
        self.update_clock();
        match cmd.proc {
            Proc::Db(handler) => {
                let mut sink = Vec::new();
                let mut events = Vec::new();
                let mut ctx = Ctx {
                    ks: &mut self.ks,
                    cfg: &self.cfg,
                    db: *db,
                    out: crate::resp::Out::new(&mut sink, 2),
                    client_id: 0,
                    dirty: 0,
                    rewritten: Vec::new(),
                    events: &mut events,
                    effect: Effect::None,
                    no_block: true,
                    must_obey: true,
                    serve: None,
                    all_keys_readable: true,
                    from_script: false,
                    direct_ok: false,
                    direct_bulk: false,
                };
                let _ = handler(&mut ctx, argv);
                *db = ctx.db;
            }
            Proc::Srv(tag) => {
                use crate::cmd::Srv;
                match tag {
                    Srv::Select => {
                        if let Some(n) = crate::encoding::numbers::string2ll(&argv[1]) {
                            if n >= 0 && (n as usize) < self.ks.dbs.len() {
                                *db = n as usize;
                            }
                        }
                    }
                    Srv::FlushAll => self.ks.dbs.iter_mut().for_each(|d| d.clear()),
                    Srv::FlushDb => self.ks.dbs[*db].clear(),
                    Srv::SwapDb => {
                        let a = crate::encoding::numbers::string2ll(&argv[1]).unwrap_or(-1);
                        let b = crate::encoding::numbers::string2ll(&argv[2]).unwrap_or(-1);
                        let n = self.ks.dbs.len() as i64;
                        if (0..n).contains(&a) && (0..n).contains(&b) {
                            self.ks.dbs.swap(a as usize, b as usize);
                        }
                    }
                    Srv::Function => self.function_apply_from_aof(argv),
                    Srv::Eval | Srv::EvalSha | Srv::Fcall | Srv::Script => {
                        self.aof_run_script(db, tag, argv)
                    }
                    // MULTI/EXEC: the commands inside are applied one by one.
                    _ => {}
                }
            }
        }
        self.ks.expired.clear();
        self.ks.dirty_cas.clear();
        self.ks.ready.clear();
    }

    // ---- feeding ----

    pub fn persist_feed_aof(&mut self, db: usize, argv: &[Bytes]) {
        // Switched on at runtime, the AOF gathers writes only once its
        // first rewrite runs (they go to the temp incr file meanwhile).
        match self.persist.aof.state {
            AofState::Off => return,
            AofState::WaitRewrite if self.persist.child_kind() != Some(ChildKind::Aof) => return,
            _ => {}
        }
        let now_s = self.ks.now_ms / 1000;
        self.persist.aof.feed(db, argv, now_s);
    }

    /// Writes the AOF buffer before replies go out (fsync when `always`).
    pub fn persist_before_sleep(&mut self) {
        let a = &mut self.persist.aof;
        if a.state == AofState::Off || a.buf.is_empty() {
            return;
        }
        let always = self.cfg.appendfsync == AppendFsync::Always;
        a.flush(always, self.ks.now_ms);
    }

    pub fn aof_cron(&mut self) {
        let now = crate::util::mstime();
        let everysec = self.cfg.appendfsync == AppendFsync::EverySec;
        let a = &mut self.persist.aof;
        if a.state != AofState::Off {
            a.flush(everysec && now - a.last_fsync_ms >= 1000, now);
        }
        if self.persist.child.is_some() {
            return;
        }
        if self.persist.aof.rewrite_scheduled {
            let _ = self.aof_rewrite_background();
            return;
        }
        let a = &self.persist.aof;
        let perc = self.cfg.auto_aof_rewrite_percentage;
        if a.state == AofState::On
            && perc > 0
            && a.current_size > self.cfg.auto_aof_rewrite_min_size
        {
            let base = a.base_size.max(1);
            let growth = (a.current_size * 100 / base) as i64 - 100;
            let now_s = self.ks.now_ms / 1000;
            if growth >= perc as i64 && !self.persist.aof.rewrite_limited(now_s) {
                log::info!("Starting automatic rewriting of AOF on {growth}% growth");
                let _ = self.aof_rewrite_background();
            }
        }
    }

    pub fn persist_flush_aof_on_shutdown(&mut self) {
        if self.persist.aof.state == AofState::Off {
            return;
        }
        log::info!("Calling fsync() on the AOF file.");
        let now = self.ks.now_ms;
        self.persist.aof.flush(true, now);
    }

    // ---- rewrite ----

    /// BGREWRITEAOF (rewriteAppendOnlyFileBackground): flush, open a new
    /// incr file for the writes that follow, fork a child writing the base.
    pub fn aof_rewrite_background(&mut self) -> Result<(), String> {
        if self.persist.child.is_some() {
            return Err("child active".into());
        }
        let dir = self.aof_dir();
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let now = self.ks.now_ms;
        self.persist.aof.flush(true, now);
        let prefix = self.cfg.appendfilename.clone();
        // New writes go to a new incr file from now on.
        if self.persist.aof.state == AofState::On {
            let mut m = self.persist.aof.manifest.clone();
            let name = m.new_incr(&prefix);
            let f = Aof::open_append(&dir.join(&name)).map_err(|e| e.to_string())?;
            m.persist(&dir, &prefix).map_err(|e| e.to_string())?;
            self.persist.aof.manifest = m;
            self.persist.aof.file = Some(f);
        } else if self.persist.aof.state == AofState::WaitRewrite {
            let f = std::fs::File::create(self.aof_temp_incr()).map_err(|e| e.to_string())?;
            self.persist.aof.file = Some(f);
        }
        self.persist.aof.seldb = None;
        self.persist.aof.rewrite_scheduled = false;
        let preamble = self.cfg.aof_use_rdb_preamble;
        let aux = RdbAux {
            aof_base: true,
            ..self.rdb_aux()
        };
        let fill = self.cfg.list_max_listpack_size;
        let ts = self.persist.aof.timestamps.then_some(self.ks.now_ms / 1000);
        let r = self.start_child(ChildKind::Aof, move |s| {
            let tmp = dir.join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
            match write_base(&s.ks, &tmp, preamble, &aux, fill, ts) {
                Ok(()) => {
                    log::info!(
                        "Successfully created the temporary AOF base file {}",
                        tmp.file_name().map_or("".into(), |n| n.to_string_lossy())
                    );
                    0
                }
                Err(e) => {
                    log::warn!("Error writing the AOF rewrite: {e}");
                    1
                }
            }
        });
        match r {
            Ok(pid) => {
                log::info!("Background append only file rewriting started by pid {pid}");
                Ok(())
            }
            Err(e) => {
                log::warn!("Can't rewrite append only file in background: fork: {e}");
                self.persist.aof.last_rewrite_ok = false;
                Err(e)
            }
        }
    }

    /// backgroundRewriteDoneHandler: install the new base, switch the
    /// manifest, drop what the base now covers.
    pub fn aof_rewrite_done(&mut self, pid: i32, exit: ChildExit, cow: u64) {
        let dir = self.aof_dir();
        let tmp = dir.join(format!("temp-rewriteaof-bg-{pid}.aof"));
        self.persist.aof_last_cow_size = cow;
        // With the AOF off the rewrite still installs a base and the
        // manifest (what DEBUG LOADAOF then loads), as Redis 7.0 does.
        if !exit.ok() {
            match exit {
                ChildExit::Signal(s) => {
                    log::warn!("Background AOF rewrite terminated by signal {s}")
                }
                _ => log::warn!("Background AOF rewrite terminated with error"),
            }
            let _ = std::fs::remove_file(&tmp);
            if !matches!(exit, ChildExit::Signal(libc::SIGUSR1)) {
                self.persist.aof.last_rewrite_ok = false;
                self.persist.aof.consecutive_failures += 1;
            }
            self.aof_rewrite_failed_while_waiting();
            return;
        }
        let prefix = self.cfg.appendfilename.clone();
        let mut m = self.persist.aof.manifest.clone();
        let base = m.new_base(&prefix, self.cfg.aof_use_rdb_preamble);
        let mut r = std::fs::rename(&tmp, dir.join(&base));
        if r.is_ok() && self.persist.aof.state == AofState::WaitRewrite {
            let incr = m.new_incr(&prefix);
            r = std::fs::rename(self.aof_temp_incr(), dir.join(&incr));
        }
        // With the AOF off no incr file is being written: the new base
        // covers them all.
        m.mark_rewritten_incrs_as_history(self.persist.aof.file.is_some());
        let r = r.and_then(|_| m.persist(&dir, &prefix));
        if let Err(e) = r {
            log::warn!("Error trying to install the rewritten AOF: {e}");
            let _ = std::fs::remove_file(&tmp);
            self.persist.aof.last_rewrite_ok = false;
            self.persist.aof.consecutive_failures += 1;
            self.aof_rewrite_failed_while_waiting();
            return;
        }
        let size = self.aof_file_size(&base)
            + m.incrs
                .iter()
                .map(|f| self.aof_file_size(&f.name))
                .sum::<u64>();
        let a = &mut self.persist.aof;
        a.manifest = m;
        log::info!("Background AOF rewrite terminated with success");
        if a.state == AofState::WaitRewrite {
            a.state = AofState::On;
        }
        a.base_size = size;
        a.current_size = size;
        a.last_rewrite_ok = true;
        a.consecutive_failures = 0;
        a.rewrites += 1;
        self.aof_del_history_files();
        log::info!("Background AOF rewrite finished successfully");
    }

    /// AOF switched on at runtime but its first rewrite failed: what was
    /// gathered for the temp incr file is dropped and a new rewrite is
    /// scheduled (the cleanup of Redis's backgroundRewriteDoneHandler).
    fn aof_rewrite_failed_while_waiting(&mut self) {
        if self.persist.aof.state != AofState::WaitRewrite {
            return;
        }
        let a = &mut self.persist.aof;
        a.buf.clear();
        a.file = None;
        a.rewrite_scheduled = true;
        let temp = self.aof_temp_incr();
        log::info!(
            "Removing the temp incr aof file {} in the background",
            temp.file_name()
                .map_or(std::borrow::Cow::Borrowed(""), |n| n.to_string_lossy())
        );
        let _ = std::fs::remove_file(temp);
    }

    pub fn cmd_bgrewriteaof(&mut self, key: usize) -> R {
        let in_exec = self.in_exec();
        match self.persist.child_kind() {
            Some(ChildKind::Aof) => Err("ERR Background append only file rewriting already in progress".into()),
            // Inside EXEC nothing forks: the rewrite starts from cron.
            Some(_) => self.schedule_aof_rewrite(key),
            None if in_exec => self.schedule_aof_rewrite(key),
            None => match self.aof_rewrite_background() {
                Ok(()) => {
                    self.reply(key, |o| o.simple("Background append only file rewriting started"));
                    Ok(())
                }
                Err(_) => Err("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.".into()),
            },
        }
    }

    fn schedule_aof_rewrite(&mut self, key: usize) -> R {
        self.persist.aof.rewrite_scheduled = true;
        self.reply(key, |o| {
            o.simple("Background append only file rewriting scheduled")
        });
        Ok(())
    }

    /// aof-timestamp-enabled, read once per change, not per write.
    pub fn aof_timestamps_changed(&mut self) {
        self.persist.aof.timestamps = self.cfg.extra_value("aof-timestamp-enabled") == "yes";
    }

    /// CONFIG SET appendonly: start (through a rewrite) or stop the AOF.
    pub fn persist_appendonly_changed(&mut self) {
        self.aof_timestamps_changed();
        let on = self.cfg.appendonly;
        let state = self.persist.aof.state;
        if on && state == AofState::Off {
            self.persist.aof.state = AofState::WaitRewrite;
            if self
                .persist
                .child_kind()
                .is_some_and(|k| k != ChildKind::Aof)
            {
                self.persist.aof.rewrite_scheduled = true;
                log::warn!("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
            } else if self.in_exec() {
                self.persist.aof.rewrite_scheduled = true;
                log::warn!("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
            } else {
                // A rewrite running with the AOF off gathers nothing: it
                // cannot be the first one.
                if self.persist.child_kind() == Some(ChildKind::Aof) {
                    log::warn!("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
                    self.aof_kill_child();
                }
                if self.aof_rewrite_background().is_ok() {
                    return;
                }
                self.persist.aof.state = AofState::Off;
                log::warn!("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
            }
        } else if !on && state != AofState::Off {
            let now = self.ks.now_ms;
            self.persist.aof.flush(true, now);
            self.aof_kill_child();
            let a = &mut self.persist.aof;
            a.file = None;
            a.state = AofState::Off;
            a.rewrite_scheduled = false;
            a.buf.clear();
            let _ = std::fs::remove_file(self.aof_temp_incr());
        }
    }

    pub fn info_aof(&self, o: &mut String, current: Option<i64>) {
        let a = &self.persist.aof;
        let _ = write!(
            o,
            "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\naof_last_cow_size:{}\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
            u8::from(a.state != AofState::Off),
            u8::from(current.is_some()),
            u8::from(a.rewrite_scheduled),
            a.last_rewrite_time_sec,
            current.unwrap_or(-1),
            if a.last_rewrite_ok { "ok" } else { "err" },
            a.rewrites,
            a.consecutive_failures,
            if a.last_write_ok { "ok" } else { "err" },
            self.persist.aof_last_cow_size,
        );
        if a.state != AofState::Off {
            let _ = write!(
                o,
                "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:{}\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\n",
                a.current_size,
                a.base_size,
                u8::from(a.rewrite_scheduled),
                a.buf.len()
            );
        }
    }
}
