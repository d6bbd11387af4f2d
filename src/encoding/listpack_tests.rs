//! Listpack tests: reference bytes captured from redis-server 7.0.15
//! (DUMP payloads with rdbcompression off), round trips and fuzzing.

use super::*;
use crate::encoding::crc64::crc64;
use crate::encoding::TestRng;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn build(vals: &[&[u8]]) -> Listpack {
    let mut lp = Listpack::new();
    for v in vals {
        lp.push_back(v);
    }
    lp
}

const L1_VALS: &[&str] = &[
    "a",
    "1",
    "-1",
    "127",
    "128",
    "-4096",
    "4095",
    "4096",
    "-4097",
    "32767",
    "32768",
    "-32768",
    "-32769",
    "8388607",
    "8388608",
    "2147483647",
    "2147483648",
    "-9223372036854775808",
    "9223372036854775807",
    "",
    "007",
    "-0",
    "+1",
    " 1",
];

// RPUSH l <L1_VALS...>
const L1: &str = "7600000018008161020101dfff027f01c08002d00002cfff02f1001003f1ffef03f1ff7f03f200800004f1008003f2ff7fff04f2ffff7f04f30000800005f3ffffff7f05f4000000800000000009f4000000000000008009f4ffffffffffffff7f0980018330303704822d3003822b310382203103ff";
// HSET h name ferrodis age 7 neg -12 f 3.5
const H: &str =
    "2e0000000800846e616d650588666572726f6469730983616765040701836e656704dff40281660283332e3504ff";
// ZADD z 1.5 a 3 b -2.5 c 0.1 d -0 e (scores via d2string)
const Z: &str = "3a0000000a00816302842d322e3505816502000181640293302e31303030303030303030303030303030311481610283312e35048162020301ff";
// LPUSH lf c b a 5
const LF: &str = "1200000004000501816102816202816302ff";

#[test]
fn matches_redis_rpush() {
    let vals: Vec<&[u8]> = L1_VALS.iter().map(|s| s.as_bytes()).collect();
    let lp = build(&vals);
    assert_eq!(lp.as_bytes(), &unhex(L1)[..]);
    let got: Vec<Vec<u8>> = lp.iter().map(|v| v.to_vec()).collect();
    assert_eq!(got, vals.iter().map(|v| v.to_vec()).collect::<Vec<_>>());
    let back: Vec<Vec<u8>> = lp.iter().rev().map(|v| v.to_vec()).collect();
    assert_eq!(back.len(), vals.len());
    assert_eq!(back[0], b" 1");
    let parsed = Listpack::from_bytes(unhex(L1)).unwrap();
    assert_eq!(parsed, lp);
}

#[test]
fn matches_redis_hash_zset_lpush() {
    let h = build(&[
        b"name",
        b"ferrodis",
        b"age",
        b"7",
        b"neg",
        b"-12",
        b"f",
        b"3.5",
    ]);
    assert_eq!(h.as_bytes(), &unhex(H)[..]);
    assert_eq!(h.find(b"neg", 1), Some(4));
    assert_eq!(h.find(b"7", 1), None); // values are skipped
    assert_eq!(h.find(b"7", 0), Some(3));
    assert_eq!(h.get(5), Some(LpValue::Int(-12)));

    let mut z = Listpack::new();
    // Sorted by score, member then d2string(score).
    for (m, s) in [("c", -2.5), ("e", -0.0), ("d", 0.1), ("a", 1.5), ("b", 3.0)] {
        z.push_back(m.as_bytes());
        z.push_back(crate::encoding::numbers::d2string(s).as_bytes());
    }
    assert_eq!(z.as_bytes(), &unhex(Z)[..]);

    let mut l = Listpack::new();
    for v in [&b"c"[..], b"b", b"a", b"5"] {
        l.push_front(v);
    }
    assert_eq!(l.as_bytes(), &unhex(LF)[..]);
}

/// Length and CRC64 of listpacks Redis built, too large to embed.
#[test]
fn matches_redis_long_strings() {
    let cases: [(Vec<Vec<u8>>, usize, u64); 3] = [
        (
            vec![
                vec![b'x'; 63],
                vec![b'y'; 64],
                vec![b'z'; 125],
                vec![b'w'; 126],
                vec![b't'; 200],
                vec![b'v'; 4095],
            ],
            4700,
            0x730e_c27a_ed8a_e32c,
        ),
        (vec![vec![b'u'; 5000]], 5014, 0x88d3_ed5c_7930_f45b),
        (vec![vec![b's'; 16390]], 16405, 0x399a_2839_0c38_53f3),
    ];
    for (vals, len, crc) in cases {
        let mut lp = Listpack::new();
        for v in &vals {
            lp.push_back(v);
        }
        assert_eq!(lp.bytes_len(), len);
        assert_eq!(crc64(0, lp.as_bytes()), crc);
        let back: Vec<Vec<u8>> = lp.iter().rev().map(|v| v.to_vec()).collect();
        assert_eq!(back, vals.iter().rev().cloned().collect::<Vec<_>>());
        assert!(Listpack::from_bytes(lp.as_bytes().to_vec()).is_ok());
    }
}

#[test]
fn backlen_boundaries_roundtrip() {
    for n in [
        0usize, 60, 61, 62, 63, 64, 125, 126, 127, 16376, 16377, 16380, 16381, 16382, 16383, 70000,
    ] {
        let v = vec![b'q'; n];
        let mut lp = Listpack::new();
        lp.push_back(b"head");
        lp.push_back(&v);
        lp.push_back(b"tail");
        let lp2 = Listpack::from_bytes(lp.as_bytes().to_vec()).expect("valid");
        let back: Vec<Vec<u8>> = lp2.iter().rev().map(|x| x.to_vec()).collect();
        assert_eq!(
            back,
            vec![b"tail".to_vec(), v.clone(), b"head".to_vec()],
            "n={n}"
        );
        assert_eq!(lp2.get(-2).map(|x| x.to_vec()), Some(v));
    }
}

#[test]
fn int_encodings_roundtrip() {
    let mut r = TestRng::new(42);
    let mut vals: Vec<i64> = vec![
        0,
        127,
        128,
        -1,
        -4096,
        -4097,
        4095,
        4096,
        i64::MIN,
        i64::MAX,
    ];
    for _ in 0..500 {
        let bits = r.below(64) as u32;
        vals.push((r.next() as i64) >> bits);
    }
    let mut lp = Listpack::new();
    for &v in &vals {
        lp.push_back_int(v);
    }
    let lp = Listpack::from_bytes(lp.into_bytes()).unwrap();
    let got: Vec<i64> = lp.iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(got, vals);
    for (i, &v) in vals.iter().enumerate() {
        assert_eq!(
            lp.find(v.to_string().as_bytes(), 0),
            vals.iter().position(|&x| x == v)
        );
        assert_eq!(lp.get(i as isize), Some(LpValue::Int(v)));
    }
}

#[test]
fn edits_match_a_vec_model() {
    let mut r = TestRng::new(9);
    let mut lp = Listpack::new();
    let mut model: Vec<Vec<u8>> = Vec::new();
    for step in 0..3000 {
        let v: Vec<u8> = match r.below(4) {
            0 => (r.next() as i64 >> r.below(64)).to_string().into_bytes(),
            1 => vec![b'a' + (step % 26) as u8; r.below(200) as usize],
            2 => format!("f{}", r.below(50)).into_bytes(),
            _ => vec![b'z'; 4090 + r.below(20) as usize],
        };
        let len = model.len();
        match r.below(7) {
            0 => {
                lp.push_back(&v);
                model.push(v);
            }
            1 => {
                lp.push_front(&v);
                model.insert(0, v);
            }
            2 => {
                let i = r.below(len as u64 + 1) as usize;
                lp.insert(i, &v);
                model.insert(i.min(len), v);
            }
            3 if len > 0 => {
                let i = r.below(len as u64) as usize;
                lp.replace(i, &v);
                model[i] = v;
            }
            4 if len > 0 => {
                let i = r.below(len as u64) as usize;
                lp.remove(i);
                model.remove(i);
            }
            5 if len > 0 => {
                let i = r.below(len as u64) as usize;
                let n = r.below(5) as usize;
                lp.remove_range(i, n);
                model.drain(i..(i + n).min(len));
            }
            _ => {
                let want = model.iter().position(|m| *m == v);
                assert_eq!(lp.find(&v, 0), want);
            }
        }
        if step % 100 == 0 {
            let lp2 = Listpack::from_bytes(lp.as_bytes().to_vec()).expect("valid after edits");
            assert_eq!(lp2.len(), model.len());
        }
        assert_eq!(lp.len(), model.len());
    }
    let got: Vec<Vec<u8>> = lp.iter().map(|v| v.to_vec()).collect();
    assert_eq!(got, model);
    let mut back: Vec<Vec<u8>> = lp.iter().rev().map(|v| v.to_vec()).collect();
    back.reverse();
    assert_eq!(back, model);
}

#[test]
fn offsets_walk() {
    let lp = build(&[b"a", b"bb", b"300", b"dddd"]);
    let mut off = lp.first_offset();
    let mut seen = Vec::new();
    while let Some(o) = off {
        seen.push(lp.value_at(o).unwrap().to_vec());
        off = lp.next_offset(o);
    }
    assert_eq!(
        seen,
        vec![
            b"a".to_vec(),
            b"bb".to_vec(),
            b"300".to_vec(),
            b"dddd".to_vec()
        ]
    );
    let last = lp.last_offset().unwrap();
    assert_eq!(lp.value_at(last), Some(LpValue::Str(b"dddd")));
    assert_eq!(
        lp.value_at(lp.prev_offset(last).unwrap()),
        Some(LpValue::Int(300))
    );
    assert_eq!(lp.get(-5), None);
    assert_eq!(lp.get(4), None);
}

#[test]
fn header_count_saturates() {
    let mut lp = Listpack::new();
    for i in 0..65536 {
        lp.push_back_int(i % 100);
    }
    assert_eq!(&lp.as_bytes()[4..6], &[0xff, 0xff]);
    assert_eq!(lp.len(), 65536);
    let mut lp = Listpack::from_bytes(lp.into_bytes()).unwrap();
    assert_eq!(lp.len(), 65536);
    lp.remove_range(0, 2);
    assert_eq!(&lp.as_bytes()[4..6], &65534u16.to_le_bytes());
}

#[test]
fn rejects_malformed() {
    let good = unhex(L1);
    assert!(Listpack::from_bytes(vec![]).is_err());
    assert!(Listpack::from_bytes(vec![7, 0, 0, 0, 0, 0]).is_err());
    assert!(Listpack::from_bytes(vec![7, 0, 0, 0, 1, 0, 0xff]).is_err());
    let mut bad = good.clone();
    bad[4] = 3; // wrong count
    assert!(Listpack::from_bytes(bad).is_err());
    let mut bad = good.clone();
    bad[4] = 0xff;
    bad[5] = 0xff; // unknown count is fine
    assert!(Listpack::from_bytes(bad).is_ok());
    let mut bad = good.clone();
    bad.pop();
    assert!(Listpack::from_bytes(bad).is_err());
}

#[test]
fn fuzz_from_bytes_never_panics() {
    let mut r = TestRng::new(1234);
    let seeds = [unhex(L1), unhex(H), unhex(Z), unhex(LF)];
    for i in 0..20000 {
        let mut b = seeds[i % seeds.len()].clone();
        r.mutate(&mut b);
        if r.below(3) == 0 && b.len() >= 4 {
            // Keep the total-bytes field right so mutations reach entries.
            let n = b.len() as u32;
            b[..4].copy_from_slice(&n.to_le_bytes());
        }
        if let Ok(lp) = Listpack::from_bytes(b) {
            let n = lp.iter().count();
            assert_eq!(n, lp.len());
            assert_eq!(lp.iter().rev().count(), n);
            let _ = lp.find(b"x", 1);
            let _ = lp.get(-1);
        }
    }
    for _ in 0..2000 {
        let n = r.below(40) as usize;
        let b: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
        let _ = Listpack::from_bytes(b);
    }
}

#[test]
fn count_past_the_header_limit_is_walked_as_lplength() {
    // The header holds counts below 65535; at 65535 it says "unknown" and
    // the length is counted, as Redis's lpLength.
    let mut lp = Listpack::new();
    for i in 0..65_540 {
        lp.push_back_int(i % 100);
    }
    assert_eq!(lp.len(), 65_540);
    assert_eq!(&lp.as_bytes()[4..6], &[0xff, 0xff]);
    assert_eq!(lp.iter().count(), 65_540);
    assert!(matches!(lp.get(-1), Some(LpValue::Int(39))));
    lp.remove_range(0, 10);
    assert_eq!(lp.len(), 65_530);
    // Back below the limit: the header is exact again.
    assert_eq!(&lp.as_bytes()[4..6], &65_530u16.to_le_bytes());
    // A listpack saved with an unknown count loads with the exact one.
    let mut b = lp.as_bytes().to_vec();
    b[4..6].copy_from_slice(&[0xff, 0xff]);
    let lp2 = Listpack::from_bytes(b).unwrap();
    assert_eq!(lp2.len(), 65_530);
    assert!(!lp2.is_empty());
    assert!(Listpack::new().is_empty());
}

#[test]
fn decode_entry_sizes_agree_with_entry_len_for_every_encoding() {
    let mut lp = Listpack::new();
    let long = vec![b'x'; 70_000];
    let mid = vec![b'y'; 300];
    let vals: Vec<&[u8]> = vec![
        b"0",
        b"127",
        b"-1",
        b"4095",
        b"-4096",
        b"30000",
        b"-8000000",
        b"2000000000",
        b"-9223372036854775808",
        b"",
        b"short",
        &mid,
        &long,
    ];
    for v in &vals {
        lp.push_back(v);
    }
    let b = lp.as_bytes();
    let mut off = HDR;
    let mut n = 0;
    while b[off] != EOF {
        let (v, l) = decode_entry(b, off).expect("decodes");
        assert_eq!(Some(l), entry_len(b, off), "entry {n}");
        assert_eq!(v, decode(b, off).expect("decodes"));
        let mut want = [0u8; 5];
        assert_eq!(encode_backlen(&mut want, l), backlen_size(l));
        off += l + backlen_size(l);
        n += 1;
    }
    assert_eq!(n, vals.len());
    assert_eq!(lp.iter().count(), vals.len());
    assert_eq!(lp.iter().rev().count(), vals.len());
}
