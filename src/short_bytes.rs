//! Hashing and comparing short byte strings (path segments, kids, issuer
//! URLs) on the request path: whole 64-bit words instead of byte loops, and
//! fixed-size loads instead of calls to `memcpy` or `memcmp`, which cost more
//! than the work itself for keys this short.

const K: u64 = 0x9e37_79b9_7f4a_7c15;
/// One in every byte: times a byte, that byte in every lane.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// Each byte's high bit: where per-byte tests leave their flags.
pub(crate) const HIGHS: u64 = 0x8080_8080_8080_8080;

/// 64×64→128-bit multiply, halves folded: the mixing step of the hash.
#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let m = u128::from(a) * u128::from(b);
    (m as u64) ^ ((m >> 64) as u64)
}

/// The hash once every word is in: the length mixed last, so a segment can
/// be hashed while its end is still being looked for.
#[inline(always)]
fn finish(h: u64, len: usize) -> u64 {
    fold(h ^ len as u64, 0x2d35_8dcc_aa6c_78a5)
}

/// A fast string hash for short keys (kids, issuer URLs, path segments): the
/// bytes as little-endian 64-bit words, the last one zero-padded, each folded
/// in with a multiply. [`segment_hash`] computes the same value.
#[inline(always)]
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    let mut h = K;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        h = fold(h ^ word(chunk, 0), K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = fold(h ^ tail(rest), K);
    }
    finish(h, bytes.len())
}

/// The length of the segment at the start of `rest`: the bytes before the
/// first `sep` (not 0), found eight bytes at a time.
#[inline(always)]
// Unused since the route table is matchit's.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn segment_len(rest: &[u8], sep: u8) -> usize {
    let seps = ONES * u64::from(sep);
    let mut at = 0;
    while let Some(chunk) = rest.get(at..) {
        let w = if chunk.len() >= 8 {
            word(chunk, 0)
        } else {
            tail(chunk)
        };
        // Bytes equal to `sep` become zero; the lowest flagged byte is the
        // first zero byte (higher flags may be false positives, never lower).
        // Zero padding never matches a non-zero `sep`.
        let x = w ^ seps;
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        if chunk.len() <= 8 {
            return rest.len();
        }
        at += 8;
    }
    rest.len()
}

/// The position of the first `needle` in `hay`, or `hay.len()`: 32 bytes per
/// step (a loop the compiler turns into vector compares) for long inputs
/// such as a token's parts.
#[inline]
pub(crate) fn find_byte(hay: &[u8], needle: u8) -> usize {
    let mut at = 0;
    for block in hay.chunks_exact(32) {
        if block.iter().fold(false, |any, &b| any | (b == needle)) {
            break;
        }
        at += 32;
    }
    at + hay[at..]
        .iter()
        .position(|&b| b == needle)
        .unwrap_or(hay.len() - at)
}

/// The hash of a path segment: from its [`short_words`] when it has at most
/// sixteen bytes (the words a lookup compares anyway), else [`hash`].
#[inline(always)]
// Unused since the route table is matchit's.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn segment_hash(segment: &[u8]) -> u64 {
    if segment.len() <= 16 {
        words_hash(short_words(segment), segment.len())
    } else {
        hash(segment)
    }
}

/// [`segment_hash`] of a segment of `len` <= 16 bytes given its words: two
/// independent multiplies, so no input makes every key collide.
#[inline(always)]
// Unused since the route table is matchit's.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn words_hash(words: (u64, u64), len: usize) -> u64 {
    fold(words.0 ^ len as u64, K) ^ fold(words.1, 0x2d35_8dcc_aa6c_78a5)
}

/// Eight bytes at `at` as a little-endian word; `at + 8 <= bytes.len()`.
#[inline(always)]
fn word(bytes: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(src) = bytes.get(at..at + 8) {
        w.copy_from_slice(src);
    }
    u64::from_le_bytes(w)
}

/// Four bytes at `at` as a little-endian word; `at + 4 <= bytes.len()`.
#[inline(always)]
fn half_word(bytes: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 4];
    if let Some(src) = bytes.get(at..at + 4) {
        w.copy_from_slice(src);
    }
    u64::from(u32::from_le_bytes(w))
}

/// Up to eight bytes as a little-endian word, zero-padded: overlapping
/// fixed-size loads instead of a variable-length copy.
#[inline(always)]
pub(crate) fn tail(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    if len >= 8 {
        word(bytes, 0)
    } else if len >= 4 {
        // The two halves overlap on equal bytes, so OR joins them.
        half_word(bytes, 0) | half_word(bytes, len - 4) << (8 * (len - 4))
    } else {
        let b = |i: usize| bytes.get(i).map_or(0, |&b| u64::from(b));
        b(0) | b(1) << 8 | b(2) << 16
    }
}

/// Up to sixteen bytes as two words that, with the length, determine them.
#[inline(always)]
pub(crate) fn short_words(bytes: &[u8]) -> (u64, u64) {
    let len = bytes.len();
    if len >= 8 {
        (word(bytes, 0), word(bytes, len - 8))
    } else {
        (tail(bytes), 0)
    }
}

/// String equality without a call to `memcmp` for short keys, the common case
/// (kids, path segments), where the call costs more than the comparison.
#[inline(always)]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && if a.len() <= 16 {
            short_words(a) == short_words(b)
        } else {
            a == b
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_sees_every_byte() {
        for len in 0..40usize {
            let base: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            assert!(same(base.as_bytes(), base.clone().as_bytes()));
            for at in 0..len {
                let mut other = base.clone().into_bytes();
                other[at] = b'Z';
                let other = String::from_utf8(other).expect("ascii");
                assert!(
                    !same(base.as_bytes(), other.as_bytes()),
                    "len {len}, byte {at}"
                );
                assert_ne!(
                    hash(base.as_bytes()),
                    hash(other.as_bytes()),
                    "len {len}, byte {at}"
                );
            }
            assert!(!same(base.as_bytes(), format!("{base}a").as_bytes()));
        }
    }

    #[test]
    fn segment_len_finds_the_first_separator() {
        // Every length around the word size, bytes with the high bit set (the
        // borrow case of the byte search), then each kind of continuation.
        for len in 0..=40usize {
            let segment: Vec<u8> = (0..len)
                .map(|i| [b'a', 0x80, 0xff, b'.', 0x2e, 0x30][i % 6])
                .collect();
            assert_eq!(segment_len(&segment, b'/'), len, "len {len}");
            for tail in [&b"/"[..], b"/x", b"//", b"/abcdefghijk", b"/\xff"] {
                let mut path = segment.clone();
                path.extend_from_slice(tail);
                assert_eq!(segment_len(&path, b'/'), len, "len {len} + {tail:?}");
            }
        }
        assert_eq!(segment_len(b"", b'/'), 0);
        assert_eq!(segment_len(b"/a", b'/'), 0);
        assert_eq!(tail(b"abc"), u64::from_le_bytes(*b"abc\0\0\0\0\0"));
        assert_eq!(tail(b"abcdef"), u64::from_le_bytes(*b"abcdef\0\0"));
    }

    #[test]
    fn find_byte_finds_the_first_needle() {
        for len in 0..100usize {
            let hay: Vec<u8> = (0..len).map(|i| b"ab-_\xff\x00"[i % 6]).collect();
            assert_eq!(find_byte(&hay, b'.'), len);
            for at in 0..len {
                let mut with = hay.clone();
                with[at] = b'.';
                if at + 1 < len {
                    with[len - 1] = b'.';
                }
                assert_eq!(find_byte(&with, b'.'), at, "len {len}, at {at}");
            }
        }
    }

    #[test]
    fn segment_hashes_tell_short_keys_apart() {
        let keys: Vec<String> = (0..2_000)
            .map(|i| format!("svc{i}"))
            .chain(
                [
                    "",
                    "\0",
                    "a",
                    "a\0",
                    "abcdefghijklmnop",
                    "abcdefghijklmnopq",
                ]
                .map(String::from),
            )
            .collect();
        let mut hashes: Vec<u64> = keys.iter().map(|k| segment_hash(k.as_bytes())).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), keys.len());
        // The low bits pick the slot: they must spread too.
        let mut low: Vec<u64> = keys
            .iter()
            .map(|k| segment_hash(k.as_bytes()) & 0xfff)
            .collect();
        low.sort_unstable();
        low.dedup();
        assert!(
            low.len() > 1_500,
            "{} distinct of {}",
            low.len(),
            keys.len()
        );
    }
}
