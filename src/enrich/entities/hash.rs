//! Stable 64-bit hashing of feature parts and token sequences.
//!
//! The model file and the compiled gazetteer store these hashes, so the function must never
//! change without retraining. Must not: depend on the platform, the process or a random seed.

/// Mixes `value` into `state` (a multiply-xorshift step, then a finaliser at the end).
#[inline]
pub(crate) fn mix(state: u64, value: u64) -> u64 {
    let x = (state ^ value).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 29)
}

/// Final avalanche (splitmix64), so the low bits can index a table.
#[inline]
pub(crate) fn finish(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xorshift64*: advances `state` (never 0) and returns the next pseudo-random value. The
/// training's shuffles and draws use it, so trained models stay reproducible.
#[inline]
pub(crate) fn xorshift64_star(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// Hash of a byte string, seeded.
pub(crate) fn bytes(seed: u64, data: &[u8]) -> u64 {
    let mut h = mix(seed, data.len() as u64);
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        h = mix(h, u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = mix(h, u64::from_le_bytes(word));
    }
    finish(h)
}

/// Hash of a string, seeded.
pub(crate) fn str(seed: u64, s: &str) -> u64 {
    bytes(seed, s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_and_distinguish_inputs() {
        assert_eq!(str(1, "Kerry"), str(1, "Kerry"));
        assert_ne!(str(1, "Kerry"), str(2, "Kerry"));
        assert_ne!(str(1, "Kerry"), str(1, "kerry"));
        assert_ne!(str(1, "abcdefgh"), str(1, "abcdefgh\0"));
        // Pinned: the model file depends on this value.
        assert_eq!(str(0, ""), finish(mix(0, 0)));
    }
}
