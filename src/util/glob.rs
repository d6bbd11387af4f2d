//! Redis's glob matcher (`stringmatchlen` of util.c), the one used by every
//! pattern a client can send: KEYS, SCAN/HSCAN/SSCAN/ZSCAN MATCH, PSUBSCRIBE
//! (checked on every PUBLISH), PUBSUB CHANNELS, CONFIG GET, COMMAND LIST
//! FILTERBY PATTERN, config `include` wildcards.
//!
//! `*`, `?`, `[...]` (ranges, `^` negation, `\` escapes inside) and `\`
//! escapes; `nocase` folds ASCII case. Two guards keep a hostile pattern
//! from freezing the loop, as Redis 7.0.15 has them:
//! - the CVE-2022-36021 pruning: once the rest of the pattern after a `*`
//!   failed to match at every position of the rest of the string, no earlier
//!   `*` can help by matching more, so the whole match fails at once (this
//!   makes `a*a*a*...b` linear-ish instead of exponential);
//! - a nesting limit of 1000 `*` levels.
//!
//! Bytes past the end of the pattern read as NUL, which is what the C code
//! sees at the end of an sds string.

/// Redis's `stringmatchlen`: does `string` match the glob `pattern`?
pub fn string_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

#[inline]
fn fold(c: u8, nocase: bool) -> u8 {
    if nocase {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

fn match_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    // Protection against abusive patterns.
    if nesting > 1000 {
        return false;
    }
    let at = |i: usize| pat.get(i).copied().unwrap_or(0);
    let (mut p, mut i) = (0usize, 0usize);
    while p < pat.len() && i < s.len() {
        match pat[p] {
            b'*' => {
                while p < pat.len() && at(p + 1) == b'*' {
                    p += 1;
                }
                if p + 1 == pat.len() {
                    return true;
                }
                while i < s.len() {
                    if match_impl(&pat[p + 1..], &s[i..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    i += 1;
                }
                // The rest of the pattern matches nowhere in the rest of the
                // string: a longer match for any earlier `*` cannot help.
                *skip_longer = true;
                return false;
            }
            b'?' => i += 1,
            b'[' => {
                p += 1;
                let not = at(p) == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                loop {
                    let left = pat.len().saturating_sub(p);
                    if at(p) == b'\\' && left >= 2 {
                        p += 1;
                        if pat[p] == s[i] {
                            matched = true;
                        }
                    } else if at(p) == b']' {
                        break;
                    } else if left == 0 {
                        // Unterminated class: stand on its last byte.
                        p -= 1;
                        break;
                    } else if left >= 3 && pat[p + 1] == b'-' {
                        let (mut start, mut end) = (pat[p], pat[p + 2]);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        let (start, end, c) =
                            (fold(start, nocase), fold(end, nocase), fold(s[i], nocase));
                        p += 2;
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if fold(pat[p], nocase) == fold(s[i], nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                i += 1;
            }
            c => {
                let c = if c == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    pat[p]
                } else {
                    c
                };
                if fold(c, nocase) != fold(s[i], nocase) {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
        if i == s.len() {
            while at(p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= pat.len() && i == s.len()
}

#[cfg(test)]
mod tests {
    use super::string_match;

    #[test]
    fn basics() {
        assert!(string_match(b"*", b"anything", false));
        // As util.c: the loop never starts, so "*" does not match "" (KEYS
        // and SCAN special-case the lone "*" before matching).
        assert!(!string_match(b"*", b"", false));
        assert!(string_match(b"", b"", false));
        assert!(!string_match(b"", b"a", false));
        assert!(string_match(b"h?llo", b"hello", false));
        assert!(string_match(b"h[ae]llo", b"hallo", false));
        assert!(!string_match(b"h[^e]llo", b"hello", false));
        assert!(string_match(b"h[a-b]llo", b"hbllo", false));
        assert!(string_match(b"h[b-a]llo", b"hallo", false));
        assert!(string_match(b"key:*", b"key:1", false));
        assert!(!string_match(b"key:*", b"kez:1", false));
        assert!(string_match(b"a\\*b", b"a*b", false));
        assert!(!string_match(b"a\\*b", b"axb", false));
        assert!(string_match(b"[\\]]", b"]", false));
        assert!(string_match(
            b"*ziplist*",
            b"HASH-MAX-ZIPLIST-ENTRIES",
            true
        ));
        assert!(!string_match(
            b"*ziplist*",
            b"HASH-MAX-ZIPLIST-ENTRIES",
            false
        ));
        assert!(string_match(b"a*", b"a", false));
        assert!(string_match(b"a**", b"a", false));
        assert!(!string_match(b"a?", b"a", false));
        assert!(string_match(b"[^x]y", b"ay", false));
        assert!(!string_match(b"[^x]y", b"xy", false));
        assert!(string_match(b"*a*b", b"xxaxxb", false));
        assert!(!string_match(b"*a*b", b"xxaxxc", false));
        // A backslash at the very end matches itself.
        assert!(string_match(b"a\\", b"a\\", false));
    }

    #[test]
    fn malformed_classes_as_redis() {
        // Unterminated `[`: the class ends with the pattern (util.c).
        assert!(string_match(b"[abc", b"a", false));
        assert!(string_match(b"[abc", b"c", false));
        assert!(!string_match(b"[abc", b"d", false));
        assert!(!string_match(b"[", b"a", false));
        assert!(string_match(b"[^", b"a", false));
        assert!(string_match(b"x[a-", b"x-", false));
    }

    #[test]
    fn cve_2022_36021_pattern_is_fast() {
        // 20 stars against a 40-byte key that does not match: exponential
        // without the pruning, immediate with it.
        let pat = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let key = [b'a'; 40];
        let t = std::time::Instant::now();
        assert!(!string_match(pat, &key, false));
        assert!(t.elapsed() < std::time::Duration::from_millis(100));
        let mut key2 = key.to_vec();
        key2.push(b'b');
        assert!(string_match(pat, &key2, false));
    }

    #[test]
    fn nesting_limit() {
        let mut pat = Vec::new();
        for _ in 0..1100 {
            pat.extend_from_slice(b"a*");
        }
        let s = vec![b'a'; 1200];
        // Past 1000 nested stars the match gives up (as Redis).
        assert!(!string_match(&pat, &s, false));
        let mut short = Vec::new();
        for _ in 0..10 {
            short.extend_from_slice(b"a*");
        }
        assert!(string_match(&short, &s, false));
    }
}
