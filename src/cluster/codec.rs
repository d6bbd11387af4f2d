//! The cluster bus wire format, exactly as Redis 7.0 encodes it
//! (`clusterMsg` in cluster.h): a 2256-byte header in network byte order,
//! then a body by message type — gossip entries (104 bytes each) and ping
//! extensions for PING/PONG/MEET, a node name for FAIL, channel and message
//! for PUBLISH/PUBLISHSHARD, epoch + name + slot bitmap for UPDATE, module
//! payloads for MODULE, nothing for the failover messages and MFSTART.
//!
//! Pure and fuzzable: `frame_len` finds where a message ends in a receive
//! buffer, `decode` validates and parses one whole message (every length is
//! checked before it is used: a bad message is an `Err`, never a panic or a
//! large allocation), `encode` builds one. Redis 7.0 sends one extension,
//! the announced hostname (type 0); unknown extension types are skipped.

use super::slot::{Bitmap, SLOT_BYTES};

pub const SIG: &[u8; 4] = b"RCmb";
pub const PROTO_VER: u16 = 1;
pub const NAMELEN: usize = 40;
pub const IP_LEN: usize = 46;
/// Header size (CLUSTERMSG_MIN_LEN).
pub const HDR_LEN: usize = 2256;
pub const GOSSIP_LEN: usize = 104;
/// Largest message accepted (publish payloads are bounded elsewhere too).
pub const MAX_MSG_LEN: usize = 1 << 30;

/// Message types (CLUSTERMSG_TYPE_*).
pub mod ty {
    pub const PING: u16 = 0;
    pub const PONG: u16 = 1;
    pub const MEET: u16 = 2;
    pub const FAIL: u16 = 3;
    pub const PUBLISH: u16 = 4;
    pub const FAILOVER_AUTH_REQUEST: u16 = 5;
    pub const FAILOVER_AUTH_ACK: u16 = 6;
    pub const UPDATE: u16 = 7;
    pub const MFSTART: u16 = 8;
    pub const MODULE: u16 = 9;
    pub const PUBLISHSHARD: u16 = 10;
    pub const COUNT: usize = 11;
}

/// Names used by CLUSTER INFO's message statistics.
pub fn type_name(t: u16) -> &'static str {
    match t {
        ty::PING => "ping",
        ty::PONG => "pong",
        ty::MEET => "meet",
        ty::FAIL => "fail",
        ty::PUBLISH => "publish",
        ty::PUBLISHSHARD => "publishshard",
        ty::FAILOVER_AUTH_REQUEST => "auth-req",
        ty::FAILOVER_AUTH_ACK => "auth-ack",
        ty::UPDATE => "update",
        ty::MFSTART => "mfstart",
        ty::MODULE => "module",
        _ => "unknown",
    }
}

/// Node flags (CLUSTER_NODE_*), as carried in headers and gossip.
pub mod nflag {
    pub const MASTER: u16 = 1;
    pub const SLAVE: u16 = 2;
    pub const PFAIL: u16 = 4;
    pub const FAIL: u16 = 8;
    pub const MYSELF: u16 = 16;
    pub const HANDSHAKE: u16 = 32;
    pub const NOADDR: u16 = 64;
    pub const MEET: u16 = 128;
    pub const MIGRATE_TO: u16 = 256;
    pub const NOFAILOVER: u16 = 512;
}

/// Message flags, byte 0 (CLUSTERMSG_FLAG0_*).
pub mod mflag0 {
    pub const PAUSED: u8 = 1;
    pub const FORCEACK: u8 = 2;
    pub const EXT_DATA: u8 = 4;
}

/// Ping extension types (Redis 7.0 defines only the hostname).
pub const EXT_HOSTNAME: u16 = 0;

/// The fixed header of every message.
#[derive(Clone)]
pub struct Header {
    pub ty: u16,
    pub port: u16,
    pub current_epoch: u64,
    pub config_epoch: u64,
    pub offset: u64,
    pub sender: [u8; NAMELEN],
    pub myslots: Bitmap,
    /// All zero: the sender is a master.
    pub slaveof: [u8; NAMELEN],
    /// All zero: the receiver takes the address from the socket.
    pub myip: [u8; IP_LEN],
    pub pport: u16,
    pub cport: u16,
    pub flags: u16,
    pub state: u8,
    pub mflags: [u8; 3],
}

impl Header {
    pub fn new(ty: u16) -> Header {
        Header {
            ty,
            port: 0,
            current_epoch: 0,
            config_epoch: 0,
            offset: 0,
            sender: [0; NAMELEN],
            myslots: [0; SLOT_BYTES],
            slaveof: [0; NAMELEN],
            myip: [0; IP_LEN],
            pport: 0,
            cport: 0,
            flags: 0,
            state: 0,
            mflags: [0; 3],
        }
    }

    pub fn has_slaveof(&self) -> bool {
        self.slaveof.iter().any(|&b| b != 0)
    }
}

/// One gossip entry: what the sender knows about another node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gossip {
    pub nodename: [u8; NAMELEN],
    pub ping_sent: u32,
    pub pong_received: u32,
    pub ip: [u8; IP_LEN],
    pub port: u16,
    pub cport: u16,
    pub flags: u16,
    pub pport: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ext {
    Hostname(Vec<u8>),
    Unknown(u16),
}

#[derive(Clone)]
pub enum Body {
    /// PING, PONG, MEET.
    Ping {
        gossip: Vec<Gossip>,
        exts: Vec<Ext>,
    },
    Fail {
        about: [u8; NAMELEN],
    },
    /// PUBLISH and PUBLISHSHARD.
    Publish {
        channel: Vec<u8>,
        message: Vec<u8>,
    },
    Update {
        config_epoch: u64,
        nodename: [u8; NAMELEN],
        slots: Box<Bitmap>,
    },
    Module {
        module_id: u64,
        mtype: u8,
        payload: Vec<u8>,
    },
    /// FAILOVER_AUTH_REQUEST, FAILOVER_AUTH_ACK, MFSTART, unknown types.
    Empty,
}

pub struct Msg {
    pub hdr: Header,
    pub body: Body,
}

/// Why a message was refused; the text goes to the log.
#[derive(Debug, PartialEq, Eq)]
pub struct DecodeError(pub String);

/// The total length of the message at the start of `buf`: `Ok(None)` when
/// fewer than 8 bytes are there. A bad signature or length is an error (the
/// link must be closed).
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    if buf.len() < 8 {
        return Ok(None);
    }
    let totlen = be32(buf, 4) as usize;
    if &buf[0..4] != SIG || totlen < HDR_LEN {
        return Err(DecodeError(
            "Bad message length or signature received from Cluster bus.".into(),
        ));
    }
    if totlen > MAX_MSG_LEN {
        return Err(DecodeError(format!(
            "Cluster bus message of {totlen} bytes is too large"
        )));
    }
    Ok(Some(totlen))
}

/// The message type of a complete frame, for statistics (counted even when
/// the rest of the message is invalid, as Redis does).
pub fn peek_type(frame: &[u8]) -> Option<u16> {
    (frame.len() >= 14).then(|| be16(frame, 12))
}

#[inline]
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
#[inline]
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
#[inline]
fn be64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(x)
}

fn arr<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut x = [0u8; N];
    x.copy_from_slice(&b[at..at + N]);
    x
}

/// Decodes one whole message (`frame.len()` is its totlen).
pub fn decode(frame: &[u8]) -> Result<Msg, DecodeError> {
    let bad = |s: String| Err(DecodeError(s));
    if frame.len() < HDR_LEN || frame.len() < 8 || &frame[0..4] != SIG {
        return bad("Bad message length or signature received from Cluster bus.".into());
    }
    let totlen = be32(frame, 4) as usize;
    if totlen != frame.len() {
        return bad(format!(
            "Cluster bus message length {totlen} does not match the frame ({} bytes)",
            frame.len()
        ));
    }
    let ver = be16(frame, 8);
    if ver != PROTO_VER {
        return bad(format!(
            "Cluster bus message of unknown protocol version {ver}"
        ));
    }
    let t = be16(frame, 12);
    let count = be16(frame, 14) as usize;
    let hdr = Header {
        ty: t,
        port: be16(frame, 10),
        current_epoch: be64(frame, 16),
        config_epoch: be64(frame, 24),
        offset: be64(frame, 32),
        sender: arr(frame, 40),
        myslots: arr(frame, 80),
        slaveof: arr(frame, 2128),
        myip: arr(frame, 2168),
        pport: be16(frame, 2246),
        cport: be16(frame, 2248),
        flags: be16(frame, 2250),
        state: frame[2252],
        mflags: arr(frame, 2253),
    };
    let extensions = be16(frame, 2214) as usize;
    let name = type_name(t);
    let data = &frame[HDR_LEN..];
    let body = match t {
        ty::PING | ty::PONG | ty::MEET => {
            let glen = count * GOSSIP_LEN;
            if glen > data.len() {
                return bad(format!(
                    "Received invalid {name} packet of length {totlen} but expected length {}",
                    HDR_LEN + glen
                ));
            }
            let gossip = data[..glen]
                .chunks_exact(GOSSIP_LEN)
                .map(|g| Gossip {
                    nodename: arr(g, 0),
                    ping_sent: be32(g, 40),
                    pong_received: be32(g, 44),
                    ip: arr(g, 48),
                    port: be16(g, 94),
                    cport: be16(g, 96),
                    flags: be16(g, 98),
                    pport: be16(g, 100),
                })
                .collect();
            let mut rest = &data[glen..];
            let mut exts = Vec::new();
            if hdr.mflags[0] & mflag0::EXT_DATA != 0 {
                for _ in 0..extensions {
                    if rest.len() < 8 {
                        return bad(format!("Received invalid {name} packet with extension data that exceeds total packet length ({totlen})"));
                    }
                    let extlen = be32(rest, 0) as usize;
                    let et = be16(rest, 4);
                    if !extlen.is_multiple_of(8) || extlen < 8 {
                        return bad(format!(
                            "Received a {name} packet without proper padding ({extlen} bytes)"
                        ));
                    }
                    if extlen > rest.len() {
                        return bad(format!("Received invalid {name} packet with extension data that exceeds total packet length ({totlen})"));
                    }
                    let payload = &rest[8..extlen];
                    exts.push(match et {
                        EXT_HOSTNAME => {
                            let end = payload
                                .iter()
                                .position(|&b| b == 0)
                                .unwrap_or(payload.len());
                            Ext::Hostname(payload[..end].to_vec())
                        }
                        other => Ext::Unknown(other),
                    });
                    rest = &rest[extlen..];
                }
            }
            if !rest.is_empty() {
                return bad(format!(
                    "Received invalid {name} packet of length {totlen} but expected length {}",
                    totlen - rest.len()
                ));
            }
            Body::Ping { gossip, exts }
        }
        ty::FAIL => {
            expect_len(name, totlen, HDR_LEN + NAMELEN)?;
            Body::Fail {
                about: arr(data, 0),
            }
        }
        ty::PUBLISH | ty::PUBLISHSHARD => {
            if data.len() < 8 {
                return bad(format!("Received invalid {name} packet of length {totlen}"));
            }
            let clen = be32(data, 0) as usize;
            let mlen = be32(data, 4) as usize;
            expect_len(name, totlen, HDR_LEN + 8 + clen.saturating_add(mlen))?;
            Body::Publish {
                channel: data[8..8 + clen].to_vec(),
                message: data[8 + clen..8 + clen + mlen].to_vec(),
            }
        }
        ty::FAILOVER_AUTH_REQUEST | ty::FAILOVER_AUTH_ACK | ty::MFSTART => {
            expect_len(name, totlen, HDR_LEN)?;
            Body::Empty
        }
        ty::UPDATE => {
            expect_len(name, totlen, HDR_LEN + 8 + NAMELEN + SLOT_BYTES)?;
            Body::Update {
                config_epoch: be64(data, 0),
                nodename: arr(data, 8),
                slots: Box::new(arr(data, 8 + NAMELEN)),
            }
        }
        ty::MODULE => {
            if data.len() < 13 {
                return bad(format!("Received invalid {name} packet of length {totlen}"));
            }
            let len = be32(data, 8) as usize;
            expect_len(name, totlen, HDR_LEN + 13 + len)?;
            Body::Module {
                module_id: be64(data, 0),
                mtype: data[12],
                payload: data[13..13 + len].to_vec(),
            }
        }
        // Unknown types are assumed well formed, as Redis does.
        _ => Body::Empty,
    };
    Ok(Msg { hdr, body })
}

fn expect_len(name: &str, totlen: usize, explen: usize) -> Result<(), DecodeError> {
    if totlen != explen {
        return Err(DecodeError(format!(
            "Received invalid {name} packet of length {totlen} but expected length {explen}"
        )));
    }
    Ok(())
}

fn put16(o: &mut Vec<u8>, v: u16) {
    o.extend_from_slice(&v.to_be_bytes());
}
fn put32(o: &mut Vec<u8>, v: u32) {
    o.extend_from_slice(&v.to_be_bytes());
}
fn put64(o: &mut Vec<u8>, v: u64) {
    o.extend_from_slice(&v.to_be_bytes());
}

/// Appends the encoded message to `out`.
pub fn encode(msg: &Msg, out: &mut Vec<u8>) {
    let start = out.len();
    let h = &msg.hdr;
    let (count, extensions, mut mflags) = match &msg.body {
        Body::Ping { gossip, exts } => (gossip.len() as u16, exts.len() as u16, h.mflags),
        _ => (0, 0, h.mflags),
    };
    if extensions > 0 {
        mflags[0] |= mflag0::EXT_DATA;
    }
    out.extend_from_slice(SIG);
    put32(out, 0); // totlen, patched below
    put16(out, PROTO_VER);
    put16(out, h.port);
    put16(out, h.ty);
    put16(out, count);
    put64(out, h.current_epoch);
    put64(out, h.config_epoch);
    put64(out, h.offset);
    out.extend_from_slice(&h.sender);
    out.extend_from_slice(&h.myslots);
    out.extend_from_slice(&h.slaveof);
    out.extend_from_slice(&h.myip);
    put16(out, extensions);
    out.extend_from_slice(&[0u8; 30]);
    put16(out, h.pport);
    put16(out, h.cport);
    put16(out, h.flags);
    out.push(h.state);
    out.extend_from_slice(&mflags);
    match &msg.body {
        Body::Ping { gossip, exts } => {
            for g in gossip {
                out.extend_from_slice(&g.nodename);
                put32(out, g.ping_sent);
                put32(out, g.pong_received);
                out.extend_from_slice(&g.ip);
                put16(out, g.port);
                put16(out, g.cport);
                put16(out, g.flags);
                put16(out, g.pport);
                put16(out, 0);
            }
            for e in exts {
                match e {
                    Ext::Hostname(name) => {
                        // NUL-terminated, padded to 8 bytes.
                        let padded = (name.len() + 1).div_ceil(8) * 8;
                        put32(out, (8 + padded) as u32);
                        put16(out, EXT_HOSTNAME);
                        put16(out, 0);
                        out.extend_from_slice(name);
                        out.resize(out.len() + padded - name.len(), 0);
                    }
                    Ext::Unknown(t) => {
                        put32(out, 8);
                        put16(out, *t);
                        put16(out, 0);
                    }
                }
            }
        }
        Body::Fail { about } => out.extend_from_slice(about),
        Body::Publish { channel, message } => {
            put32(out, channel.len() as u32);
            put32(out, message.len() as u32);
            out.extend_from_slice(channel);
            out.extend_from_slice(message);
        }
        Body::Update {
            config_epoch,
            nodename,
            slots,
        } => {
            put64(out, *config_epoch);
            out.extend_from_slice(nodename);
            out.extend_from_slice(&slots[..]);
        }
        Body::Module {
            module_id,
            mtype,
            payload,
        } => {
            put64(out, *module_id);
            put32(out, payload.len() as u32);
            out.push(*mtype);
            out.extend_from_slice(payload);
        }
        Body::Empty => {}
    }
    let totlen = (out.len() - start) as u32;
    out[start + 4..start + 8].copy_from_slice(&totlen.to_be_bytes());
}

/// A NUL-padded fixed field as a string (up to the first NUL).
pub fn cstr(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    &b[..end]
}

/// Copies `s` into a NUL-padded fixed field (truncated to leave a NUL).
pub fn fixed<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut x = [0u8; N];
    let n = s.len().min(N - 1);
    x[..n].copy_from_slice(&s[..n]);
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A MEET sent by a real redis-server 7.0.15 (node 127.0.0.1:27001,
    /// hostname "host27001", one gossip entry), captured on the bus.
    const REDIS_MEET: &[u8] = include_bytes!("testdata/redis7_meet.bin");

    #[test]
    fn decodes_and_reencodes_a_real_redis_meet() {
        assert_eq!(frame_len(REDIS_MEET), Ok(Some(REDIS_MEET.len())));
        let m = decode(REDIS_MEET).expect("valid");
        assert_eq!(m.hdr.ty, ty::MEET);
        assert_eq!(m.hdr.port, 27001);
        assert_eq!(m.hdr.cport, 37001);
        assert_eq!(m.hdr.flags, nflag::MYSELF | nflag::MASTER);
        assert_eq!(&m.hdr.sender, b"34f74279e5706b7109850e1c68d2f5ac23dc1510");
        assert!(!m.hdr.has_slaveof());
        let Body::Ping { gossip, exts } = &m.body else {
            panic!("not a ping body")
        };
        assert_eq!(gossip.len(), 1);
        assert_eq!(cstr(&gossip[0].ip), b"127.0.0.1");
        assert_eq!(gossip[0].port, 27002);
        assert_eq!(exts, &vec![Ext::Hostname(b"host27001".to_vec())]);
        let mut again = Vec::new();
        encode(&m, &mut again);
        assert_eq!(&again[..], REDIS_MEET, "byte-exact round trip");
    }

    fn sample(t: u16, body: Body) -> Vec<u8> {
        let mut h = Header::new(t);
        h.sender = *b"0123456789012345678901234567890123456789";
        h.current_epoch = 7;
        h.myslots[3] = 0x81;
        let mut out = Vec::new();
        encode(&Msg { hdr: h, body }, &mut out);
        out
    }

    #[test]
    fn every_type_round_trips() {
        let bodies = vec![
            (
                ty::FAIL,
                Body::Fail {
                    about: [b'a'; NAMELEN],
                },
            ),
            (
                ty::PUBLISHSHARD,
                Body::Publish {
                    channel: b"ch".to_vec(),
                    message: b"hello".to_vec(),
                },
            ),
            (ty::FAILOVER_AUTH_REQUEST, Body::Empty),
            (ty::FAILOVER_AUTH_ACK, Body::Empty),
            (ty::MFSTART, Body::Empty),
            (
                ty::UPDATE,
                Body::Update {
                    config_epoch: 9,
                    nodename: [b'b'; NAMELEN],
                    slots: Box::new([0x55; SLOT_BYTES]),
                },
            ),
            (
                ty::MODULE,
                Body::Module {
                    module_id: 1,
                    mtype: 2,
                    payload: b"xyz".to_vec(),
                },
            ),
        ];
        for (t, b) in bodies {
            let wire = sample(t, b);
            let m = decode(&wire).expect("decodes");
            let mut again = Vec::new();
            encode(&m, &mut again);
            assert_eq!(again, wire, "type {t}");
        }
        let len = sample(
            ty::UPDATE,
            Body::Update {
                config_epoch: 1,
                nodename: [b'x'; 40],
                slots: Box::new([0; SLOT_BYTES]),
            },
        )
        .len();
        assert_eq!(len, HDR_LEN + 8 + 40 + 2048);
    }

    #[test]
    fn truncated_and_corrupt_messages_are_errors() {
        let wire = sample(
            ty::FAIL,
            Body::Fail {
                about: [b'a'; NAMELEN],
            },
        );
        for cut in [0, 7, 8, 100, HDR_LEN, wire.len() - 1] {
            let mut f = wire[..cut].to_vec();
            if f.len() >= 8 {
                let n = f.len() as u32;
                f[4..8].copy_from_slice(&n.to_be_bytes());
            }
            assert!(decode(&f).is_err(), "cut at {cut}");
        }
        let mut bad = wire.clone();
        bad[0] = b'X';
        assert!(frame_len(&bad).is_err());
        // A MEET announcing 100 gossip entries and many extensions it does
        // not carry (Redis's tests/unit/cluster/packet.tcl).
        let mut meet = sample(
            ty::MEET,
            Body::Ping {
                gossip: vec![],
                exts: vec![],
            },
        );
        meet[14..16].copy_from_slice(&100u16.to_be_bytes());
        meet[2214..2216].copy_from_slice(&0xFFFFu16.to_be_bytes());
        meet[2253] = mflag0::EXT_DATA;
        assert!(decode(&meet).is_err());
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = sample(
            ty::PING,
            Body::Ping {
                gossip: vec![],
                exts: vec![Ext::Hostname(b"h".to_vec())],
            },
        );
        for _ in 0..20_000 {
            let mut f = base.clone();
            let flips = (next() % 8) as usize;
            for _ in 0..flips {
                let i = (next() as usize) % f.len();
                f[i] = next() as u8;
            }
            let cut = (next() as usize) % (f.len() + 1);
            f.truncate(cut);
            let _ = frame_len(&f);
            let _ = decode(&f);
        }
    }
}
