//! Config-only text helpers: the memory-unit parser (`memtoull`), the
//! REWRITE memory formatter and `strerror`-style messages. Splitting and
//! quoting are `util::splitargs`, globs `util::glob`, integers
//! `encoding::numbers`.

/// Redis `memtoull`: digits followed by an optional unit b, k, kb, m, mb, g, gb
/// (case-insensitive; k = 1000, kb = 1024).
pub fn memtoull(s: &str) -> Option<u64> {
    if s.starts_with('-') {
        return None;
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    // strtoull("") yields 0 without error, so "mb" alone is 0.
    let val: u64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    val.checked_mul(mul)
}

/// Format bytes as REWRITE does: gb/mb/kb suffix when exactly divisible.
pub fn format_memory(bytes: i64) -> String {
    const KB: i64 = 1024;
    const MB: i64 = 1024 * 1024;
    const GB: i64 = 1024 * 1024 * 1024;
    if bytes != 0 && bytes % GB == 0 {
        format!("{}gb", bytes / GB)
    } else if bytes != 0 && bytes % MB == 0 {
        format!("{}mb", bytes / MB)
    } else if bytes != 0 && bytes % KB == 0 {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

/// `strerror`-style text of an I/O error (without Rust's " (os error N)").
pub fn os_err(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
