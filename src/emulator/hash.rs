//! Stable pseudo-random identifiers derived from resource ids, for values a service assigns
//! when it creates a resource (seeded resources keep them across restarts and reloads).

/// `len` lower-case hex digits derived from `input` (FNV-1a, re-seeded per 16 digits).
pub fn stable_hex(input: &str, len: usize) -> String {
    let mut out = String::with_capacity(len + 16);
    let mut round: u64 = 0;
    while out.len() < len {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ round;
        for b in input.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
        round += 1;
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_input_gives_the_same_digits_and_others_differ() {
        assert_eq!(stable_hex("a", 40), stable_hex("a", 40));
        assert_eq!(stable_hex("a", 40).len(), 40);
        assert_ne!(stable_hex("a", 32), stable_hex("b", 32));
        assert_ne!(stable_hex("a", 32)[..16], stable_hex("a", 32)[16..]);
    }
}
