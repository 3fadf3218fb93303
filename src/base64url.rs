//! Unpadded base64url decoding for the request path (token header, payload
//! and signature): four characters per step through four pre-shifted tables,
//! so a step is four loads and three ORs, with one validity check for the
//! whole input at the end instead of a branch per character.
//!
//! Accepts exactly what `base64`'s `URL_SAFE_NO_PAD` engine accepts: the
//! URL-safe alphabet, no padding, no length of the form `4n + 1`, and zero
//! bits after the last byte (one string per byte sequence, so a token cannot
//! be altered without changing its signing input).

/// Set in a table entry for a byte outside the alphabet; above the 24 data
/// bits of a quad, so it survives the ORs.
const INVALID: u32 = 1 << 24;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The six-bit value of each byte, shifted to its place in a quad.
const fn table(shift: u32) -> [u32; 256] {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = (i as u32) << shift;
        i += 1;
    }
    t
}

static FIRST: [u32; 256] = table(18);
static SECOND: [u32; 256] = table(12);
static THIRD: [u32; 256] = table(6);
static FOURTH: [u32; 256] = table(0);

/// The input is not canonical unpadded base64url, or the output is too small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid;

/// The decoded length of `len` characters; `None` for a length no unpadded
/// base64 has.
pub(crate) const fn decoded_len(len: usize) -> Option<usize> {
    match len % 4 {
        1 => None,
        0 => Some(len / 4 * 3),
        r => Some(len / 4 * 3 + r - 1),
    }
}

/// Four characters as 24 bits, with [`INVALID`] set if any is not in the
/// alphabet.
#[inline(always)]
fn quad(src: &[u8]) -> u32 {
    FIRST[usize::from(src[0])]
        | SECOND[usize::from(src[1])]
        | THIRD[usize::from(src[2])]
        | FOURTH[usize::from(src[3])]
}

/// Decodes `input` into the start of `out`, returning the decoded length.
/// On error `out` holds unspecified bytes.
pub(crate) fn decode_to(input: &[u8], out: &mut [u8]) -> Result<usize, Invalid> {
    let len = decoded_len(input.len()).ok_or(Invalid)?;
    let out = out.get_mut(..len).ok_or(Invalid)?;
    let mut seen = 0;
    // Eight characters per step into six bytes; whole steps in the input
    // are never more than whole six-byte chunks in the output.
    let mut octets = input.chunks_exact(8);
    let mut sextets = out.chunks_exact_mut(6);
    for (src, dst) in (&mut octets).zip(&mut sextets) {
        // Exact chunks: the compiler drops the bounds checks.
        let hi = quad(&src[..4]);
        let lo = quad(&src[4..]);
        seen |= hi | lo;
        let v = u64::from(hi) << 40 | u64::from(lo) << 16;
        dst.copy_from_slice(&v.to_be_bytes()[..6]);
    }
    let done = input.len() / 8;
    let out = out.get_mut(done * 6..).ok_or(Invalid)?;
    let mut quads = octets.remainder().chunks_exact(4);
    let mut triples = out.chunks_exact_mut(3);
    // Full quads and full triples are equally many: the output holds three
    // bytes per quad plus one less than the leftover characters.
    for (src, triple) in (&mut quads).zip(&mut triples) {
        let v = quad(src);
        seen |= v;
        let [_, a, b, c] = v.to_be_bytes();
        triple.copy_from_slice(&[a, b, c]);
    }
    let rest = quads.remainder();
    let last = triples.into_remainder();
    match (rest, last) {
        ([], []) => {}
        ([x, y], [a]) => {
            let v = FIRST[usize::from(*x)] | SECOND[usize::from(*y)];
            // Bits left over below the one byte must be zero.
            if v & 0xffff != 0 {
                return Err(Invalid);
            }
            seen |= v;
            *a = (v >> 16) as u8;
        }
        ([x, y, z], [a, b]) => {
            let v = FIRST[usize::from(*x)] | SECOND[usize::from(*y)] | THIRD[usize::from(*z)];
            if v & 0xff != 0 {
                return Err(Invalid);
            }
            seen |= v;
            *a = (v >> 16) as u8;
            *b = (v >> 8) as u8;
        }
        // Ruled out by `decoded_len`.
        _ => return Err(Invalid),
    }
    if seen & INVALID != 0 {
        return Err(Invalid);
    }
    Ok(len)
}

/// Decodes `input` into a new vector.
pub(crate) fn decode(input: &[u8]) -> Result<Vec<u8>, Invalid> {
    let mut out = vec![0; decoded_len(input.len()).ok_or(Invalid)?];
    decode_to(input, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use proptest::prelude::*;

    fn reference(input: &[u8]) -> Result<Vec<u8>, Invalid> {
        URL_SAFE_NO_PAD.decode(input).map_err(|_| Invalid)
    }

    #[test]
    fn round_trips_every_length() {
        for len in 0..100usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            assert_eq!(decode(text.as_bytes()), Ok(bytes), "len {len}");
        }
    }

    #[test]
    fn refuses_what_the_reference_refuses() {
        for bad in [
            &b"A"[..],
            b"AAAAA",
            b"AB",       // low bits of B set after one byte
            b"AAB",      // low bits of B set after two bytes
            b"AA==",     // padding
            b"AAA=",     // padding
            b"AA+A",     // standard alphabet
            b"AA/A",     // standard alphabet
            b"AA.A",     // a JWS separator
            b"AA A",     // space
            b"AA\0A",    // NUL
            b"AA\xffA",  // not ASCII
            b"AAAAAA\n", // trailing newline
        ] {
            assert_eq!(decode(bad), Err(Invalid), "{bad:?}");
            assert!(reference(bad).is_err(), "{bad:?}");
        }
        assert_eq!(decode(b""), Ok(Vec::new()));
        assert_eq!(decode(b"AA"), Ok(vec![0]));
        assert_eq!(decode(b"_-8"), Ok(vec![0xff, 0xef]));
    }

    #[test]
    fn an_invalid_byte_anywhere_is_refused() {
        let text = URL_SAFE_NO_PAD.encode([0x5au8; 40]);
        for at in 0..text.len() {
            for bad in [b'=', b'.', b'+', b'/', 0, 0x80, 0xff] {
                let mut input = text.clone().into_bytes();
                input[at] = bad;
                assert_eq!(decode(&input), Err(Invalid), "byte {bad} at {at}");
            }
        }
    }

    #[test]
    fn a_short_buffer_is_refused() {
        let mut out = [0u8; 2];
        assert_eq!(decode_to(b"AAAA", &mut out), Err(Invalid));
        let mut out = [0u8; 4];
        assert_eq!(decode_to(b"AQID", &mut out), Ok(3));
        assert_eq!(out, [1, 2, 3, 0]);
    }

    proptest! {
        #[test]
        fn agrees_with_the_reference_on_any_input(
            input in proptest::collection::vec(
                prop_oneof![
                    8 => proptest::sample::select(ALPHABET.to_vec()),
                    1 => any::<u8>(),
                ],
                0..80,
            )
        ) {
            prop_assert_eq!(decode(&input), reference(&input));
        }

        #[test]
        fn decodes_what_the_reference_encodes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert_eq!(decode(text.as_bytes()), Ok(bytes));
        }
    }
}
