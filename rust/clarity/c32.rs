//! c32check principals: Clarity's `'SP…`/`'ST…` address text form.
//!
//! An address is `S`, the c32 digit of its version, then the c32 encoding of the 20-byte
//! HASH160 followed by a 4-byte checksum (the first four bytes of SHA-256d over the version
//! byte and the hash). c32 is base 32 with the alphabet below, written most significant
//! digit first, with one extra `0` digit per leading zero byte.

use std::cell::RefCell;

use ahash::AHashMap as HashMap;
use sha2::{Digest, Sha256};

/// Entries kept in each per-thread memo below before it is emptied.
const MEMO_MAX: usize = 4096;

thread_local! {
    // Encoding or decoding an address costs two (decoding: four) SHA-256 runs for the
    // checksum; the same few principals (senders, contracts) recur in every transaction.
    static ENCODED: RefCell<HashMap<(u8, [u8; 20]), String>> = RefCell::new(HashMap::new());
    static DECODED: RefCell<HashMap<String, (u8, [u8; 20])>> = RefCell::new(HashMap::new());
}

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Mainnet single-signature version (`SP…`).
pub const VERSION_MAINNET: u8 = 22;
/// Testnet single-signature version (`ST…`).
pub const VERSION_TESTNET: u8 = 26;

fn digit(c: u8) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        b'O' => b'0',
        b'L' | b'I' => b'1',
        other => other,
    };
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u8)
}

/// c32 encoding of `data` (no checksum).
pub fn c32_encode(data: &[u8]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(data.len() * 8 / 5 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &byte in data.iter().rev() {
        acc |= u32::from(byte) << bits;
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[(acc & 31) as usize]);
            acc >>= 5;
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[(acc & 31) as usize]);
    }
    while out.last() == Some(&b'0') {
        out.pop();
    }
    let zeros = data.iter().take_while(|&&b| b == 0).count();
    out.extend(std::iter::repeat_n(b'0', zeros));
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Decodes c32 text (no checksum); `None` for a character outside the alphabet.
pub fn c32_decode(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().map(digit).collect::<Option<_>>()?;
    let zeros = digits.iter().take_while(|&&d| d == 0).count();
    let mut out: Vec<u8> = Vec::new();
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &d in digits.iter().rev() {
        acc |= u32::from(d) << bits;
        bits += 5;
        if bits >= 8 {
            out.push((acc & 0xff) as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 && acc != 0 {
        out.push(acc as u8);
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    out.extend(std::iter::repeat_n(0u8, zeros));
    out.reverse();
    Some(out)
}

fn checksum(version: u8, hash: &[u8]) -> [u8; 4] {
    let mut first = Sha256::new();
    first.update([version]);
    first.update(hash);
    let second = Sha256::digest(first.finalize());
    [second[0], second[1], second[2], second[3]]
}

/// `S` + version digit + c32(hash160 ‖ checksum). `version` must be below 32.
pub fn address_encode(version: u8, hash: &[u8; 20]) -> String {
    with_address(version, hash, str::to_string)
}

/// Runs `f` on the address text of (version, hash) without copying it out of the memo.
pub fn with_address<R>(version: u8, hash: &[u8; 20], f: impl FnOnce(&str) -> R) -> R {
    ENCODED.with(|m| {
        let mut m = m.borrow_mut();
        if let Some(s) = m.get(&(version, *hash)) {
            return f(s);
        }
        if m.len() >= MEMO_MAX {
            m.clear();
        }
        let s = m
            .entry((version, *hash))
            .or_insert_with(|| address_encode_uncached(version, hash));
        f(s)
    })
}

fn address_encode_uncached(version: u8, hash: &[u8; 20]) -> String {
    let mut payload = hash.to_vec();
    payload.extend_from_slice(&checksum(version, hash));
    let v = ALPHABET[(version & 31) as usize] as char;
    format!("S{v}{}", c32_encode(&payload))
}

/// Parses `S…` into (version, hash160), checking the checksum and canonical form.
pub fn address_decode(text: &str) -> Result<(u8, [u8; 20]), String> {
    if let Some(r) = DECODED.with(|m| m.borrow().get(text).copied()) {
        return Ok(r);
    }
    let r = address_decode_uncached(text)?;
    DECODED.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MEMO_MAX {
            m.clear();
        }
        m.insert(text.to_string(), r);
    });
    Ok(r)
}

fn address_decode_uncached(text: &str) -> Result<(u8, [u8; 20]), String> {
    let bad = || format!("invalid c32check address {text:?}");
    let bytes = text.as_bytes();
    if bytes.len() < 5 || bytes.len() > 52 || bytes[0] != b'S' {
        return Err(bad());
    }
    let version = digit(bytes[1]).ok_or_else(bad)?;
    let payload = c32_decode(&text[2..]).ok_or_else(bad)?;
    if payload.len() != 24 {
        return Err(bad());
    }
    let mut hash = [0u8; 20];
    hash.copy_from_slice(&payload[..20]);
    if payload[20..] != checksum(version, &hash) {
        return Err(format!("bad checksum in address {text:?}"));
    }
    if address_encode(version, &hash) != text.to_ascii_uppercase() {
        return Err(format!("non-canonical address {text:?}"));
    }
    Ok((version, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_address() {
        let hash: [u8; 20] = hex::decode("a46ff88886c2ef9762d970b4d2c63678835bd39d")
            .unwrap()
            .try_into()
            .unwrap();
        let text = address_encode(22, &hash);
        assert_eq!(text, "SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7");
        assert_eq!(address_decode(&text).unwrap(), (22, hash));
        assert!(address_decode("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM").is_ok());
        assert!(address_decode("SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ8").is_err());
        assert!(address_decode("SP").is_err());
        assert!(address_decode("SPé").is_err());
    }

    #[test]
    fn roundtrip_zeros() {
        for data in [
            vec![],
            vec![0],
            vec![0, 0, 1],
            vec![1, 2, 3, 255],
            vec![0; 24],
        ] {
            assert_eq!(c32_decode(&c32_encode(&data)).unwrap(), data);
        }
    }
}
