//! The unified social credit code (统一社会信用代码) of GB 32100-2015: 18 characters from a
//! 31-character alphabet (digits and capitals without I, O, S, V, Z); characters 3–8 are the
//! registering authority's administrative division code; the last is a check character.

/// The code's alphabet, in value order.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The weights of the first 17 characters (3^i mod 31).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn value(c: u8) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&a| a == c)
        .and_then(|p| u32::try_from(p).ok())
}

/// The check character of the first 17 characters, or `None` if one is not in the alphabet.
fn check_char(body: &[u8]) -> Option<u8> {
    let mut sum = 0;
    for (c, w) in body.iter().zip(WEIGHTS) {
        sum += value(*c)? * w;
    }
    let r = (31 - sum % 31) % 31;
    ALPHABET.get(usize::try_from(r).ok()?).copied()
}

/// Why a code is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Not 18 characters.
    Length,
    /// A character outside the alphabet.
    Character,
    /// Characters 3–8 are not digits.
    Division,
    /// The check character does not match.
    Checksum,
}

impl Invalid {
    /// What to tell the client.
    pub fn message(self) -> &'static str {
        match self {
            Invalid::Length => "must be 18 characters",
            Invalid::Character => {
                "may hold only digits and capital letters other than I, O, S, V and Z"
            }
            Invalid::Division => "characters 3 to 8 must be an administrative division code",
            Invalid::Checksum => "the check character does not match (GB 32100-2015)",
        }
    }
}

/// Normalises (trims, upper-cases) and verifies a code; returns the normalised code.
pub fn verify(raw: &str) -> Result<String, Invalid> {
    let code = raw.trim().to_ascii_uppercase();
    let bytes = code.as_bytes();
    if code.chars().count() != 18 || bytes.len() != 18 {
        return Err(Invalid::Length);
    }
    if bytes.iter().any(|&c| value(c).is_none()) {
        return Err(Invalid::Character);
    }
    if !bytes[2..8].iter().all(u8::is_ascii_digit) {
        return Err(Invalid::Division);
    }
    if check_char(&bytes[..17]) != Some(bytes[17]) {
        return Err(Invalid::Checksum);
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_codes_verify() {
        for code in [
            "91350100M000100Y43",
            "91110000600037341L",
            "91371502MA3C123457",
        ] {
            assert_eq!(verify(code).as_deref(), Ok(code), "{code}");
        }
    }

    #[test]
    fn lower_case_and_spaces_are_normalised() {
        assert_eq!(
            verify(" 91110000600037341l ").as_deref(),
            Ok("91110000600037341L")
        );
    }

    #[test]
    fn every_single_character_change_is_caught() {
        let good = b"91371502MA3C123457";
        for i in 0..18 {
            for &c in ALPHABET {
                if c == good[i] {
                    continue;
                }
                let mut bad = *good;
                bad[i] = c;
                let bad = String::from_utf8(bad.to_vec()).unwrap_or_default();
                assert!(verify(&bad).is_err(), "{bad} passed");
            }
        }
    }

    #[test]
    fn reasons() {
        assert_eq!(verify("9137150"), Err(Invalid::Length));
        assert_eq!(verify("91371502MA3C12345I"), Err(Invalid::Character));
        assert_eq!(verify("91AB1502MA3C123457"), Err(Invalid::Division));
        assert_eq!(verify("91371502MA3C123458"), Err(Invalid::Checksum));
        assert_eq!(
            verify("９１３７１５０２ＭＡ３Ｃ１２３４５７"),
            Err(Invalid::Length)
        );
    }
}
