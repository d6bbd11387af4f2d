//! The keyspace: numbered databases of keys to values, with expiry.
//!
//! Owns `Value` (what a key holds), `Db` (one numbered database: a main dict
//! and an expires dict, as Redis) and `Keyspace` (all databases plus the
//! bookkeeping that writes leave for the server: keys deleted by expiry to
//! propagate as DEL, keys touched for WATCH, keys made ready for blocked
//! clients). The clock is passed in (`Keyspace::now_ms`), never read here.

use crate::dict::Dict;
use crate::encoding::numbers::ll2string;
use crate::encoding::numbers::string2ll;
use crate::sds::Sds;
use crate::types::{Hash, List, Set, Stream, ZSet};
use std::collections::HashMap;

/// What a key holds.
pub enum Value {
    /// A string; OBJECT ENCODING says embstr up to 44 bytes, raw above.
    Str(Sds),
    /// A string that was modified in place (APPEND, SETRANGE...): always raw.
    Raw(Sds),
    /// A string that is a decimal integer (encoding int).
    Int(i64),
    List(List),
    /// Hashes, sets and sorted sets are held inline (24 bytes each: a
    /// compact encoding's buffer, or the box of a big one's table), so a
    /// small collection costs one allocation beside its key's entry, as
    /// Redis's robj + listpack, not two.
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
    Stream(Box<Stream>),
}

/// Redis stores strings up to this length as embstr.
const EMBSTR_MAX: usize = 44;

impl Value {
    /// A string value from client bytes, integer-encoded when it can be,
    /// as Redis's tryObjectEncoding does.
    pub fn from_bytes(b: &[u8]) -> Value {
        if b.len() <= 20 {
            if let Some(n) = string2ll(b) {
                return Value::Int(n);
            }
        }
        Value::Str(Sds::new(b))
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) | Value::Raw(_) | Value::Int(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) if s.len() <= EMBSTR_MAX => "embstr",
            Value::Str(_) | Value::Raw(_) => "raw",
            Value::Int(_) => "int",
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::Str(_) | Value::Raw(_) | Value::Int(_))
    }

    /// The bytes of a string value (integers are formatted into `buf`);
    /// None for other types.
    pub fn str_bytes<'a>(&'a self, buf: &'a mut [u8; 20]) -> Option<&'a [u8]> {
        match self {
            Value::Str(s) | Value::Raw(s) => Some(s.as_bytes()),
            Value::Int(n) => Some(ll2string(*n, buf)),
            _ => None,
        }
    }
}

/// A keyspace entry out of the keyspace (being added, loaded, or taken
/// out by RENAME and MOVE): the value and its access clock (LRU seconds,
/// or LFU time and counter, as Redis's robj.lru). In the keyspace the
/// clock is the dict node's field, and in cluster mode the key's position
/// in its slot's index is the node's tail (`dict/node.rs`): a 10-byte
/// key's node is 55 bytes, not the 59 it took when the three were one
/// padded struct.
pub struct Entry {
    pub val: Value,
    pub lru: u32,
}

impl Entry {
    pub fn new(val: Value, lru: u32) -> Entry {
        Entry { val, lru }
    }
}

/// A keyspace entry in place: its value and access clock.
pub struct EntryMut<'a> {
    pub val: &'a mut Value,
    pub lru: &'a mut u32,
}

impl<'a> From<crate::dict::Fields<'a, Value, u32>> for EntryMut<'a> {
    fn from(f: crate::dict::Fields<'a, Value, u32>) -> Self {
        EntryMut {
            val: f.val,
            lru: f.meta,
        }
    }
}

/// Cluster mode's per-slot key index of db 0 (COUNTKEYSINSLOT,
/// GETKEYSINSLOT, deleting a lost slot's keys): each slot's keys, with each
/// entry remembering its position so removal is O(1) (swap-remove). Absent,
/// and costing nothing, when cluster mode is off.
pub struct SlotIndex {
    keys: Vec<Vec<Sds>>,
}

/// Redis's dictExpandAllowed for the keyspace tables (keys and expires):
/// the used_memory past which a table does not double while its fill is
/// still tolerable, so that a rehash never by itself pushes memory over
/// maxmemory and evicts keys. 0 = unbounded. The server sets it before each
/// command (maxmemory plus what maxmemory does not count).
static EXPAND_CEILING: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn set_expand_ceiling(bytes: u64) {
    EXPAND_CEILING.store(bytes, std::sync::atomic::Ordering::Relaxed);
}

/// How many bytes a keyspace table may take to grow (None: no bound).
fn expand_room() -> Option<u64> {
    match EXPAND_CEILING.load(std::sync::atomic::Ordering::Relaxed) {
        0 => None,
        c => Some(c.saturating_sub(crate::server::info::used_memory())),
    }
}

/// One numbered database.
#[derive(Default)]
pub struct Db {
    pub dict: Dict<Value, u32>,
    /// Absolute expiry times in unix milliseconds, for keys that have one.
    pub expires: Dict<i64>,
    /// Where the active expiry cycle resumes its scan of `expires`.
    pub expires_cursor: u64,
    pub avg_ttl: i64,
    /// Cluster mode only (db 0).
    pub slot_index: Option<Box<SlotIndex>>,
}

impl Db {
    pub fn len(&self) -> usize {
        self.dict.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    pub fn get_expire(&self, key: &[u8]) -> Option<i64> {
        if self.expires.is_empty() {
            return None;
        }
        self.expires.get(key).copied()
    }

    /// Sets an expiry on an existing key.
    pub fn set_expire(&mut self, key: &[u8], when_ms: i64) {
        if let Some(t) = self.expires.get_mut(key) {
            *t = when_ms;
        } else {
            self.expires.insert_new_within(key, when_ms, expand_room());
        }
    }

    pub fn remove_expire(&mut self, key: &[u8]) -> bool {
        self.expires.remove(key).is_some()
    }

    pub fn clear(&mut self) {
        self.dict.clear();
        self.expires.clear();
        self.expires_cursor = 0;
        self.avg_ttl = 0;
        if let Some(ix) = self.slot_index.as_deref_mut() {
            ix.keys.iter_mut().for_each(|v| *v = Vec::new());
        }
    }

    /// Records a new key in the slot index; returns its position (0 when
    /// there is no index).
    #[inline]
    fn index_push(&mut self, key: &[u8]) -> Option<u32> {
        let ix = self.slot_index.as_deref_mut()?;
        let v = &mut ix.keys[crate::cluster::key_hash_slot(key)];
        v.push(Sds::new(key));
        Some((v.len() - 1) as u32)
    }

    /// Forgets a removed key (its node said it was at `pos`).
    #[inline]
    fn index_remove(&mut self, key: &[u8], pos: Option<u32>) {
        let Some(ix) = self.slot_index.as_deref_mut() else {
            return;
        };
        let v = &mut ix.keys[crate::cluster::key_hash_slot(key)];
        // The node's position, unless it is stale; else a search.
        let at = |p: usize| v.get(p).is_some_and(|k| k.as_bytes() == key);
        let pos = match pos.map(|p| p as usize).filter(|&p| at(p)) {
            Some(p) => p,
            None => match v.iter().position(|k| k.as_bytes() == key) {
                Some(p) => p,
                None => return,
            },
        };
        v.swap_remove(pos);
        if let Some(moved) = v.get(pos) {
            if let Some(t) = self.dict.get_fields(moved.as_bytes()).and_then(|f| f.tail) {
                *t = (pos as u32).to_le_bytes();
            }
        }
    }

    /// Adds a loaded key (RDB); Err((key, entry)) when it already exists.
    pub fn insert_loaded(&mut self, key: Sds, entry: Entry) -> Result<(), (Sds, Entry)> {
        if self.dict.contains_key(key.as_bytes()) {
            return Err((key, entry));
        }
        let pos = self.index_push(key.as_bytes());
        self.dict
            .insert_node_within(&key, entry.val, entry.lru, pos, None);
        Ok(())
    }

    /// Builds the slot index from the keys present (cluster mode).
    pub fn enable_slot_index(&mut self) {
        if self.slot_index.is_some() {
            return;
        }
        self.slot_index = Some(Box::new(SlotIndex {
            keys: (0..crate::cluster::SLOTS).map(|_| Vec::new()).collect(),
        }));
        // Each node is made again, with its position as its tail.
        let keys: Vec<Sds> = self.dict.iter().map(|(k, _)| Sds::new(k)).collect();
        for k in keys {
            let h = crate::dict::hash_bytes(&k);
            if let Some((val, lru, _)) = self.dict.remove_parts_hashed(h, &k) {
                let pos = self.index_push(&k);
                self.dict.insert_node_hashed(h, &k, val, lru, pos, None);
            }
        }
    }

    pub fn count_keys_in_slot(&self, slot: usize) -> usize {
        self.slot_index.as_ref().map_or(0, |ix| ix.keys[slot].len())
    }

    /// Up to `max` keys of a slot.
    pub fn keys_in_slot(&self, slot: usize, max: usize) -> Vec<Sds> {
        self.slot_index.as_ref().map_or(Vec::new(), |ix| {
            ix.keys[slot].iter().take(max).cloned().collect()
        })
    }
}

/// How lookups treat keys whose time has passed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExpireMode {
    /// A master: expired keys are deleted on access and the delete propagated.
    Master,
    /// A replica serving a client: expired keys read as missing, not deleted
    /// (the master's DEL will come).
    Replica,
    /// A replica applying its master's stream: keys exist until the DEL comes.
    ApplyingMaster,
}

/// One client watching one key (Redis's watchedKey).
#[derive(Clone, Copy, Debug)]
pub struct Watcher {
    pub client_id: u64,
    /// The key was already logically expired when WATCHed: its deletion
    /// is no change, and EXEC ignores it being expired.
    pub expired: bool,
}

pub struct Keyspace {
    pub dbs: Vec<Db>,
    /// Values and databases being freed a little per loop pass.
    pub lazy: crate::lazyfree::LazyFree,
    /// lazyfree-lazy-expire: expired keys' values go to `lazy`.
    pub lazy_expire: bool,
    /// lazyfree-lazy-server-del: keys the server deletes or overwrites
    /// (not DEL, not eviction) go to `lazy`.
    pub lazy_server_del: bool,
    /// latency-monitor-threshold is on: each expired key's deletion is
    /// timed (Redis's `expire-del` event).
    pub time_expire_del: bool,
    /// The slowest such deletion (ms) since the server last sampled it.
    pub expire_del_ms: u64,
    /// The command's clock (unix ms), fixed for the whole command as Redis does.
    pub now_ms: i64,
    /// LRU clock in seconds (24 bits).
    pub lru_clock: u32,
    /// False while a child process saves: touching entries would copy pages.
    pub update_lru: bool,
    pub expire_mode: ExpireMode,
    /// Keys deleted because they expired: the server propagates each as DEL
    /// and emits the `expired` notification.
    pub expired: Vec<(usize, Sds)>,
    /// WATCHed keys: (db, key) -> the watching clients, in WATCH order.
    pub watched: HashMap<(usize, Sds), Vec<Watcher>>,
    /// Which of the keyspace-raised notification classes (`n` new key,
    /// `m` key miss, `x` expired) are enabled; kept in sync by the server.
    pub notify_classes: u32,
    /// Notifications raised by the keyspace itself during the running
    /// command: (class, event, db, key).
    pub key_events: Vec<(u32, &'static str, usize, Sds)>,
    /// Clients whose WATCHed keys were modified since (EXEC must fail).
    pub dirty_cas: Vec<u64>,
    /// Some client uses client-side caching: modified keys are queued in
    /// `modified` for invalidation (Redis's signalModifiedKey).
    pub tracking: bool,
    /// Keys modified while tracking, with whether a command (not expiry)
    /// changed them; drained by the server after each command.
    pub modified: Vec<(Sds, bool)>,
    /// A database was flushed or swapped while tracking: every client
    /// must drop its whole cache.
    pub flushed: bool,
    /// Keys some client is blocked on, with the number of blocked clients.
    pub blocking: HashMap<(usize, Sds), usize>,
    /// Keys that received data while clients were blocked on them.
    pub ready: Vec<(usize, Sds)>,
    pub stat_expired_keys: u64,
    pub stat_keyspace_hits: u64,
    pub stat_keyspace_misses: u64,
    /// LFU mode (an LFU maxmemory policy): `Entry::lru` holds minutes and a
    /// logarithmic counter instead of the LRU clock. (log_factor, decay_time)
    pub lfu: Option<(u32, u32)>,
    lfu_rand: u64,
    /// When Some, every key a command modifies is recorded here (a writable
    /// replica tracks the keys its own clients give a TTL).
    pub written_keys: Option<Vec<(usize, Sds)>>,
}

/// Initial LFU counter of a new key (Redis's LFU_INIT_VAL).
pub const LFU_INIT_VAL: u32 = 5;

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        Keyspace {
            dbs: (0..databases.max(1)).map(|_| Db::default()).collect(),
            lazy: Default::default(),
            lazy_expire: false,
            lazy_server_del: false,
            time_expire_del: false,
            expire_del_ms: 0,
            now_ms: 0,
            lru_clock: 0,
            update_lru: true,
            expire_mode: ExpireMode::Master,
            expired: Vec::new(),
            watched: HashMap::new(),
            notify_classes: 0,
            key_events: Vec::new(),
            dirty_cas: Vec::new(),
            tracking: false,
            modified: Vec::new(),
            flushed: false,
            blocking: HashMap::new(),
            ready: Vec::new(),
            stat_expired_keys: 0,
            stat_keyspace_hits: 0,
            stat_keyspace_misses: 0,
            lfu: None,
            lfu_rand: 0x9E3779B97F4A7C15,
            written_keys: None,
        }
    }

    /// The access-clock value a new or touched entry gets.
    fn access_stamp(&mut self, old: Option<u32>) -> u32 {
        let Some((log_factor, decay)) = self.lfu else {
            return self.lru_clock;
        };
        let minutes = ((self.now_ms / 60_000) & 0xffff) as u32;
        let Some(old) = old else {
            return (minutes << 8) | LFU_INIT_VAL;
        };
        let mut counter = lfu_decayed(old, minutes, decay);
        // Logarithmic increment: the higher the counter, the less likely.
        if counter < 255 {
            self.lfu_rand ^= self.lfu_rand << 13;
            self.lfu_rand ^= self.lfu_rand >> 7;
            self.lfu_rand ^= self.lfu_rand << 17;
            let r = (self.lfu_rand >> 11) as f64 / (1u64 << 53) as f64;
            let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
            if r < 1.0 / (base * log_factor as f64 + 1.0) {
                counter += 1;
            }
        }
        (minutes << 8) | counter
    }

    pub fn db(&self, id: usize) -> &Db {
        &self.dbs[id]
    }

    pub fn db_mut(&mut self, id: usize) -> &mut Db {
        &mut self.dbs[id]
    }

    /// Whether `key` is logically expired; on a master it is also deleted
    /// (and queued for propagation). Mirrors Redis's expireIfNeeded.
    pub fn expire_if_needed(&mut self, db: usize, key: &[u8]) -> bool {
        if self.dbs[db].expires.is_empty() {
            return false;
        }
        self.expire_if_needed_hashed(db, crate::dict::hash_bytes(key), key)
    }

    /// `expire_if_needed` for a key whose `hash_bytes` the caller has (the
    /// lookups hash a key once for the expires and the main dict).
    fn expire_if_needed_hashed(&mut self, db: usize, h: u64, key: &[u8]) -> bool {
        let d = &self.dbs[db];
        if d.expires.is_empty() {
            return false;
        }
        let Some(&when) = d.expires.get_hashed(h, key) else {
            return false;
        };
        if when > self.now_ms {
            return false;
        }
        match self.expire_mode {
            ExpireMode::ApplyingMaster => false,
            ExpireMode::Replica => true,
            ExpireMode::Master => {
                self.delete_expired(db, key);
                true
            }
        }
    }

    /// Deletes a key whose time has come and queues its propagation.
    pub fn delete_expired(&mut self, db: usize, key: &[u8]) {
        let start = self.time_expire_del.then(crate::util::monotonic_us);
        let d = &mut self.dbs[db];
        let h = crate::dict::hash_bytes(key);
        d.expires.remove_hashed(h, key);
        if let Some((val, _, pos)) = d.dict.remove_parts_hashed(h, key) {
            d.index_remove(key, pos);
            self.stat_expired_keys += 1;
            self.signal_modified(db, key);
            // Expiry, not a command, changed it (BCAST NOLOOP).
            if self.tracking {
                if let Some(last) = self.modified.last_mut() {
                    last.1 = false;
                }
            }
            if matches!(val, Value::Stream(_)) {
                self.signal_ready_if_blocked(db, key);
            }
            if self.lazy_expire {
                self.lazy.free_value(val);
            } else {
                drop(val);
            }
            if let Some(t) = start {
                let ms = (crate::util::monotonic_us() - t) / 1000;
                self.expire_del_ms = self.expire_del_ms.max(ms);
            }
            // Raised here so it precedes what the command notifies next.
            let k = Sds::new(key);
            if self.notify_classes & crate::config::NOTIFY_EXPIRED != 0 {
                self.key_events
                    .push((crate::config::NOTIFY_EXPIRED, "expired", db, k.clone()));
            }
            self.expired.push((db, k));
        }
    }

    /// Redis's dbAdd raises `new`.
    fn notify_new_key(&mut self, db: usize, key: &[u8]) {
        if self.notify_classes & crate::config::NOTIFY_NEW != 0 {
            self.key_events
                .push((crate::config::NOTIFY_NEW, "new", db, Sds::new(key)));
        }
    }

    /// A read lookup that found nothing: counted, and it raises `keymiss`
    /// unless `notify` is off (LOOKUP_NONOTIFY).
    fn key_miss(&mut self, db: usize, key: &[u8], notify: bool) {
        self.stat_keyspace_misses += 1;
        if notify && self.notify_classes & crate::config::NOTIFY_KEY_MISS != 0 {
            self.key_events
                .push((crate::config::NOTIFY_KEY_MISS, "keymiss", db, Sds::new(key)));
        }
    }

    /// Lookup for a read: counts hits and misses, refreshes the access clock.
    pub fn lookup_read(&mut self, db: usize, key: &[u8]) -> Option<EntryMut<'_>> {
        self.lookup_read_flags(db, key, true, true)
    }

    /// A read that is no access (TYPE, TTL, EXISTS: Redis's LOOKUP_NOTOUCH):
    /// expiry, hits and misses as `lookup_read`, the access clock untouched.
    pub fn lookup_read_notouch(&mut self, db: usize, key: &[u8]) -> Option<EntryMut<'_>> {
        self.lookup_read_flags(db, key, false, true)
    }

    /// OBJECT's lookup (Redis's objectCommandLookup: LOOKUP_NOTOUCH |
    /// LOOKUP_NONOTIFY): expiry, hits and misses as a read, the access
    /// clock untouched, and no `keymiss` event.
    pub fn lookup_object(&mut self, db: usize, key: &[u8]) -> Option<EntryMut<'_>> {
        self.lookup_read_flags(db, key, false, false)
    }

    fn lookup_read_flags(
        &mut self,
        db: usize,
        key: &[u8],
        touch: bool,
        notify: bool,
    ) -> Option<EntryMut<'_>> {
        // One hash for the expires dict and both walks of the main one's
        // chain (the first, for the old stamp and the miss, leaves the
        // node in cache for the second).
        let h = crate::dict::hash_bytes(key);
        if self.expire_if_needed_hashed(db, h, key) {
            self.key_miss(db, key, notify);
            return None;
        }
        let Some(old) = self.dbs[db].dict.get_node_hashed(h, key).map(|n| *n.meta()) else {
            self.key_miss(db, key, notify);
            return None;
        };
        let update = self.update_lru && touch;
        let stamp = if update {
            self.access_stamp(Some(old))
        } else {
            0
        };
        self.stat_keyspace_hits += 1;
        let e: EntryMut = self.dbs[db].dict.get_fields_hashed(h, key)?.into();
        if update {
            *e.lru = stamp;
        }
        Some(e)
    }

    /// Lookup for a write: no hit/miss accounting.
    pub fn lookup_write(&mut self, db: usize, key: &[u8]) -> Option<EntryMut<'_>> {
        // One hash for the expires dict and the main one.
        let h = crate::dict::hash_bytes(key);
        if self.expire_if_needed_hashed(db, h, key) {
            // A write on a writable replica deletes the expired key it
            // replaces (Redis's EXPIRE_FORCE_DELETE_EXPIRED).
            if self.expire_mode == ExpireMode::Replica {
                self.delete_expired(db, key);
            }
            return None;
        }
        let update = self.update_lru;
        if update && self.lfu.is_some() {
            let old = self.dbs[db].dict.get_node_hashed(h, key).map(|n| *n.meta());
            let stamp = self.access_stamp(old);
            let e: EntryMut = self.dbs[db].dict.get_fields_hashed(h, key)?.into();
            *e.lru = stamp;
            return Some(e);
        }
        let lru = self.lru_clock;
        let e: EntryMut = self.dbs[db].dict.get_fields_hashed(h, key)?.into();
        if update {
            *e.lru = lru;
        }
        Some(e)
    }

    /// Whether the key exists (without touching its access clock).
    pub fn exists(&mut self, db: usize, key: &[u8]) -> bool {
        !self.expire_if_needed(db, key) && self.dbs[db].dict.contains_key(key)
    }

    /// Adds a key that does not exist (the caller checked).
    pub fn add(&mut self, db: usize, key: &[u8], val: Value) {
        let lru = self.access_stamp(None);
        let d = &mut self.dbs[db];
        let pos = d.index_push(key);
        d.dict.insert_node_within(key, val, lru, pos, expand_room());
        self.signal_ready_if_blocked(db, key);
        self.notify_new_key(db, key);
    }

    /// Sets a key to a value, creating or overwriting it (Redis's setKey).
    /// The expiry is removed unless `keep_ttl`.
    /// SET's path: like `set_key` with `Value::from_bytes(bytes)`, but a
    /// string replaced by one of the same length and encoding is overwritten
    /// in place: no malloc/free, and during a fork a single page to copy.
    pub fn set_key_bytes(&mut self, db: usize, key: &[u8], bytes: &[u8], keep_ttl: bool) {
        self.set_key_with(db, key, keep_ttl, |old| {
            // Same-length heap strings are overwritten in place (no
            // allocation); anything else gets a new value.
            if let Some(Value::Str(s)) = old {
                if s.len() == bytes.len()
                    && s.heap_size() > 0
                    && (bytes.len() > 20 || crate::encoding::numbers::string2ll(bytes).is_none())
                {
                    s.as_bytes_mut().copy_from_slice(bytes);
                    return None;
                }
            }
            Some(Value::from_bytes(bytes))
        });
    }

    pub fn set_key(&mut self, db: usize, key: &[u8], val: Value, keep_ttl: bool) {
        let mut val = Some(val);
        self.set_key_with(db, key, keep_ttl, |_| val.take());
    }

    /// setKey with one lookup of the key: `make` sees the old value (None
    /// for a new key) and returns the new one, or None when it updated the
    /// old value in place (only offered for an existing key).
    fn set_key_with(
        &mut self,
        db: usize,
        key: &[u8],
        keep_ttl: bool,
        make: impl FnOnce(Option<&mut Value>) -> Option<Value>,
    ) {
        let lru = self.access_stamp(None);
        let update = self.update_lru;
        let d = &mut self.dbs[db];
        // One hash for the lookup, the expiry's removal and the insert.
        let h = crate::dict::hash_bytes(key);
        match d.dict.get_fields_hashed(h, key) {
            Some(e) => {
                let was_stream = matches!(e.val, Value::Stream(_));
                if let Some(v) = make(Some(&mut *e.val)) {
                    let old = std::mem::replace(e.val, v);
                    if self.lazy_server_del {
                        self.lazy.free_value(old);
                    }
                }
                // While a child saves, untouched fields stay unshared; LFU
                // keeps the counter across an overwrite.
                if update && self.lfu.is_none() {
                    *e.meta = lru;
                }
                if !keep_ttl && !d.expires.is_empty() {
                    d.expires.remove_hashed(h, key);
                }
                if was_stream {
                    // Overwriting a stream unblocks its XREADGROUP clients.
                    self.signal_ready_if_blocked(db, key);
                }
            }
            None => {
                let Some(val) = make(None) else {
                    return;
                };
                let pos = d.index_push(key);
                d.dict
                    .insert_node_hashed(h, key, val, lru, pos, expand_room());
                self.signal_ready_if_blocked(db, key);
                self.notify_new_key(db, key);
            }
        }
        self.signal_modified(db, key);
    }

    /// Removes a key the server deletes (dbDelete: an emptied collection,
    /// a RENAME or MOVE target...), lazily under lazyfree-lazy-server-del;
    /// true when it existed.
    pub fn delete(&mut self, db: usize, key: &[u8]) -> bool {
        if self.lazy_server_del {
            return self.delete_async(db, key);
        }
        self.delete_now(db, key)
    }

    /// Removes a key, freeing its value at once (dbSyncDelete); true when
    /// it existed.
    pub fn delete_now(&mut self, db: usize, key: &[u8]) -> bool {
        let existed = self.delete_unsignalled(db, key);
        if existed {
            self.signal_modified(db, key);
        }
        existed
    }

    /// Removes a key without signalling it (Redis's dbSyncDelete): the
    /// caller calls `signal_modified` (eviction measures what the deletion
    /// alone freed first).
    pub fn delete_unsignalled(&mut self, db: usize, key: &[u8]) -> bool {
        self.remove_value(db, key).is_some()
    }

    /// dbAsyncDelete: removes a key, leaving a value that is much work to
    /// free to the lazy-free queue; true when it existed.
    pub fn delete_async(&mut self, db: usize, key: &[u8]) -> bool {
        let Some(val) = self.remove_value(db, key) else {
            return false;
        };
        self.lazy.free_value(val);
        self.signal_modified(db, key);
        true
    }

    /// The removal both deletions share: the key, its expiry and its slot
    /// index entry go; XREADGROUP clients blocked on a stream get their
    /// error. The value is the caller's to free.
    fn remove_value(&mut self, db: usize, key: &[u8]) -> Option<Value> {
        let d = &mut self.dbs[db];
        let h = crate::dict::hash_bytes(key);
        if !d.expires.is_empty() {
            d.expires.remove_hashed(h, key);
        }
        let (val, _, pos) = d.dict.remove_parts_hashed(h, key)?;
        d.index_remove(key, pos);
        if matches!(val, Value::Stream(_)) {
            self.signal_ready_if_blocked(db, key);
        }
        Some(val)
    }

    /// emptyDbAsync: empties database `db`, its keys freed by the loop.
    pub fn flush_db_async(&mut self, db: usize) {
        let d = &mut self.dbs[db];
        let keys = d.dict.take();
        let expires = d.expires.take();
        d.clear();
        self.lazy.free_db(keys, expires);
    }

    /// Takes a key's value and expiry out (RENAME, MOVE).
    pub fn take(&mut self, db: usize, key: &[u8]) -> Option<(Entry, Option<i64>)> {
        let d = &mut self.dbs[db];
        let h = crate::dict::hash_bytes(key);
        let (val, lru, pos) = d.dict.remove_parts_hashed(h, key)?;
        d.index_remove(key, pos);
        let e = Entry { val, lru };
        let exp = if d.expires.is_empty() {
            None
        } else {
            d.expires.remove_hashed(h, key)
        };
        self.signal_modified(db, key);
        if matches!(e.val, Value::Stream(_)) {
            self.signal_ready_if_blocked(db, key);
        }
        Some((e, exp))
    }

    /// Whether a key has a TTL that passed (Redis's keyIsExpired), without
    /// deleting it.
    pub fn key_is_expired(&self, db: usize, key: &[u8]) -> bool {
        let d = &self.dbs[db];
        !d.expires.is_empty() && d.expires.get(key).is_some_and(|&when| when <= self.now_ms)
    }

    /// WATCH invalidation (Redis's touchWatchedKey): clients watching
    /// (db, key) get EXEC failure. A watcher that saw the key already
    /// expired only drops that mark when the key is now gone, and, as in
    /// Redis 7.0, stops the scan when the key is still there.
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        if let Some(w) = self.written_keys.as_mut() {
            w.push((db, Sds::new(key)));
        }
        if self.tracking {
            self.modified.push((Sds::new(key), true));
        }
        if self.watched.is_empty() {
            return;
        }
        let Some(watchers) = self.watched.get_mut(&(db, Sds::new(key))) else {
            return;
        };
        let gone = !self.dbs[db].dict.contains_key(key);
        for w in watchers.iter_mut() {
            if w.expired {
                if gone {
                    w.expired = false;
                    continue;
                }
                break;
            }
            self.dirty_cas.push(w.client_id);
        }
    }

    /// Every key of a database is about to change (FLUSHDB, FLUSHALL,
    /// loading a dataset): `None` means every database.
    pub fn signal_flushed(&mut self, db: Option<usize>) {
        if self.tracking {
            self.flushed = true;
        }
        for d in 0..self.dbs.len() {
            if db.is_none_or(|x| x == d) {
                self.touch_all_watched_in_db(d, None);
                self.signal_deleted_streams(d);
            }
        }
    }

    /// The streams of `db` some client is blocked on are about to go:
    /// their XREADGROUP clients must get an error (Redis's
    /// scanDatabaseForDeletedStreams).
    fn signal_deleted_streams(&mut self, db: usize) {
        if self.blocking.is_empty() {
            return;
        }
        let dict = &self.dbs[db].dict;
        let keys: Vec<Sds> = self
            .blocking
            .keys()
            .filter(|(d, k)| *d == db && matches!(dict.get(k), Some(Value::Stream(_))))
            .map(|(_, k)| k.clone())
            .collect();
        for k in keys {
            self.signal_ready_if_blocked(db, &k);
        }
    }

    /// Redis's touchAllWatchedKeysInDb: `emptied` loses its keys, replaced by
    /// those of `replaced_with` (SWAPDB). A watched key is invalidated when it
    /// exists in either, except when it stays (or becomes) logically expired.
    pub fn touch_all_watched_in_db(&mut self, emptied: usize, replaced_with: Option<usize>) {
        if self.watched.is_empty() {
            return;
        }
        let now = self.now_ms;
        let dbs = &self.dbs;
        let expired_in =
            |d: usize, key: &[u8]| dbs[d].expires.get(key).is_some_and(|&when| when <= now);
        for ((d, key), watchers) in self.watched.iter_mut() {
            if *d != emptied {
                continue;
            }
            let in_emptied = dbs[emptied].dict.contains_key(key);
            let in_other = replaced_with.is_some_and(|r| dbs[r].dict.contains_key(key));
            if !in_emptied && !in_other {
                continue;
            }
            let other_expired = replaced_with.is_some_and(|r| expired_in(r, key));
            for w in watchers.iter_mut() {
                if w.expired {
                    if !in_other {
                        w.expired = false;
                        continue;
                    } else if other_expired {
                        continue;
                    }
                } else if !in_emptied && other_expired {
                    w.expired = true;
                    continue;
                }
                self.dirty_cas.push(w.client_id);
            }
        }
    }

    /// Marks a key as ready when clients are blocked on it.
    pub fn signal_ready_if_blocked(&mut self, db: usize, key: &[u8]) {
        if self.blocking.is_empty() {
            return;
        }
        let k = (db, Sds::new(key));
        if self.blocking.contains_key(&k) && !self.ready.contains(&k) {
            self.ready.push(k);
        }
    }

    /// Cluster mode: index db 0's keys by slot.
    pub fn enable_slot_index(&mut self) {
        self.dbs[0].enable_slot_index();
    }

    pub fn has_slot_index(&self) -> bool {
        self.dbs[0].slot_index.is_some()
    }

    pub fn count_keys_in_slot(&self, slot: usize) -> usize {
        self.dbs[0].count_keys_in_slot(slot)
    }

    pub fn keys_in_slot(&self, slot: usize, max: usize) -> Vec<Sds> {
        self.dbs[0].keys_in_slot(slot, max)
    }

    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(|d| d.len()).sum()
    }
}

impl Value {
    /// A full copy (COPY, and DEBUG RELOAD-like paths).
    pub fn deep_clone(&self) -> Value {
        match self {
            Value::Str(s) => Value::Str(s.clone()),
            Value::Raw(s) => Value::Raw(s.clone()),
            Value::Int(n) => Value::Int(*n),
            Value::List(l) => Value::List(l.clone()),
            Value::Hash(h) => Value::Hash(h.clone()),
            Value::Set(s) => Value::Set(s.clone()),
            Value::ZSet(z) => Value::ZSet(z.clone()),
            Value::Stream(s) => Value::Stream(Box::new(s.dup())),
        }
    }
}

/// The LFU counter of `stamp` after decaying one step per `decay` minutes.
pub fn lfu_decayed(stamp: u32, now_minutes: u32, decay: u32) -> u32 {
    let last = stamp >> 8;
    let counter = stamp & 0xff;
    let elapsed = if now_minutes >= last {
        now_minutes - last
    } else {
        65535 - last + now_minutes
    };
    let periods = elapsed.checked_div(decay).unwrap_or(0);
    counter.saturating_sub(periods)
}

#[cfg(test)]
mod slot_index_tests {
    use super::*;
    use crate::cluster::key_hash_slot;

    #[test]
    fn slot_index_follows_every_add_and_remove() {
        let mut ks = Keyspace::new(1);
        ks.add(0, b"before", Value::Int(1));
        ks.enable_slot_index();
        assert_eq!(ks.count_keys_in_slot(key_hash_slot(b"before")), 1);
        let tag = key_hash_slot(b"{t}");
        for i in 0..100 {
            ks.set_key(0, format!("{{t}}{i}").as_bytes(), Value::Int(i), false);
        }
        assert_eq!(ks.count_keys_in_slot(tag), 100);
        // Overwrites do not add entries.
        ks.set_key(0, b"{t}5", Value::Int(0), false);
        assert_eq!(ks.count_keys_in_slot(tag), 100);
        // Removals from the middle, the end, by expiry and by take.
        for i in (0..100).step_by(3) {
            assert!(ks.delete(0, format!("{{t}}{i}").as_bytes()));
        }
        ks.dbs[0].set_expire(b"{t}1", 1);
        ks.now_ms = 10;
        assert!(ks.expire_if_needed(0, b"{t}1"));
        assert!(ks.take(0, b"{t}2").is_some());
        let left: Vec<Vec<u8>> = (0..100)
            .filter(|i| i % 3 != 0 && *i != 1 && *i != 2)
            .map(|i| format!("{{t}}{i}").into_bytes())
            .collect();
        assert_eq!(ks.count_keys_in_slot(tag), left.len());
        let mut listed: Vec<Vec<u8>> = ks
            .keys_in_slot(tag, usize::MAX)
            .into_iter()
            .map(|k| k.as_bytes().to_vec())
            .collect();
        listed.sort();
        let mut want = left.clone();
        want.sort();
        assert_eq!(listed, want);
        // Every remaining entry still knows its position.
        for k in &left {
            let pos = ks.dbs[0]
                .dict
                .get_node(k)
                .expect("present")
                .tail()
                .expect("indexed") as usize;
            assert_eq!(ks.keys_in_slot(tag, usize::MAX)[pos].as_bytes(), &k[..]);
        }
        assert_eq!(ks.keys_in_slot(tag, 3).len(), 3);
        ks.dbs[0].clear();
        assert_eq!(ks.count_keys_in_slot(tag), 0);
    }
}

#[cfg(test)]
mod layout_tests {
    /// A keyspace node is the dict's link (8 bytes), the value, the
    /// access clock, then the key: a 10-byte key's node is 55 bytes (a
    /// 56-byte mimalloc block, a 64-byte glibc chunk). Any growth of
    /// `Value` is paid once per key.
    #[test]
    fn a_ten_byte_key_node_is_55_bytes() {
        assert_eq!(std::mem::size_of::<super::Value>(), 32);
        assert_eq!(
            crate::dict::NodePtr::<super::Value, u32>::alloc_size(10),
            55
        );
    }
}
