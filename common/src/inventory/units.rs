//! Byte sizes as printed by LVM, lsblk and gluster-block.
//!
//! LVM prints sizes in the unit chosen with `--units` (lower case = powers of 1024, upper case =
//! powers of 1000, `b` bytes, `s` 512-byte sectors), with a suffix unless `--nosuffix`, with two
//! decimals, possibly with a `<` prefix (lvm2 ≥ 2.02.177: "the real value is a bit larger") and
//! trailing spaces (`"0 "`). Only byte-exact output (`--units b`, or `--units k`/`s`, whose two
//! decimals resolve single sectors) gives exact sizes; human units are kept but flagged
//! [`ByteSize::approximate`].

use serde::{Deserialize, Serialize};

/// A size in bytes, and whether the printed value was rounded (so comparisons need a tolerance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ByteSize {
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "is_false")]
    pub approximate: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ByteSize {
    /// An exact size.
    pub const fn exact(bytes: u64) -> Self {
        ByteSize { bytes, approximate: false }
    }

    /// Whole KiB (heketi stores sizes in KiB), rounded down.
    pub const fn kib(self) -> u64 {
        self.bytes / 1024
    }
}

/// The unit assumed for numbers printed without a suffix (`--nosuffix`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LvmUnit {
    /// `--units b` (what the agent uses)
    #[default]
    Bytes,
    /// `--units s`
    Sectors,
    /// `--units k` (KiB)
    Kib,
    /// `--units m` (MiB)
    Mib,
    /// `--units g` (GiB)
    Gib,
    /// `--units t` (TiB)
    Tib,
    /// `--units K` (1000 bytes)
    Kb,
    /// `--units M`
    Mb,
    /// `--units G`
    Gb,
    /// `--units T`
    Tb,
}

impl LvmUnit {
    /// Bytes per unit.
    pub const fn bytes(self) -> u64 {
        match self {
            LvmUnit::Bytes => 1,
            LvmUnit::Sectors => 512,
            LvmUnit::Kib => 1 << 10,
            LvmUnit::Mib => 1 << 20,
            LvmUnit::Gib => 1 << 30,
            LvmUnit::Tib => 1 << 40,
            LvmUnit::Kb => 1_000,
            LvmUnit::Mb => 1_000_000,
            LvmUnit::Gb => 1_000_000_000,
            LvmUnit::Tb => 1_000_000_000_000,
        }
    }
}

/// Bytes for an LVM unit suffix character.
fn lvm_suffix_bytes(c: char) -> Option<u128> {
    let p = |n: u32| 1024u128.pow(n);
    let d = |n: u32| 1000u128.pow(n);
    Some(match c {
        'b' | 'B' => 1,
        's' | 'S' => 512,
        'k' => p(1),
        'm' => p(2),
        'g' => p(3),
        't' => p(4),
        'p' => p(5),
        'e' => p(6),
        'K' => d(1),
        'M' => d(2),
        'G' => d(3),
        'T' => d(4),
        'P' => d(5),
        'E' => d(6),
        _ => return None,
    })
}

/// lsblk / gluster-block human sizes: `K M G T P E` (any case, optional `i`/`iB`/`B`) are
/// powers of 1024.
fn binary_suffix_bytes(suffix: &str) -> Option<u128> {
    let s = suffix.trim();
    let s = s
        .strip_suffix("iB")
        .or_else(|| s.strip_suffix("ib"))
        .or_else(|| s.strip_suffix('B').filter(|r| !r.is_empty()))
        .or_else(|| s.strip_suffix('i'))
        .unwrap_or(s);
    let p = |n: u32| 1024u128.pow(n);
    Some(match s {
        "" | "B" | "b" => 1,
        "K" | "k" => p(1),
        "M" | "m" => p(2),
        "G" | "g" => p(3),
        "T" | "t" => p(4),
        "P" | "p" => p(5),
        "E" | "e" => p(6),
        _ => return None,
    })
}

/// Splits `"<12.50"` style numbers into (mantissa digits as integer, number of decimals).
fn parse_decimal(num: &str) -> Option<(u128, u32)> {
    let num = num.trim();
    if num.is_empty() || num.len() > 30 {
        return None;
    }
    // Locales with a decimal comma (LVM honours LC_NUMERIC).
    let (int_part, frac_part) = match num.find(['.', ',']) {
        Some(i) => (&num[..i], &num[i + 1..]),
        None => (num, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.chars().all(|c| c.is_ascii_digit()) || !frac_part.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut mantissa: u128 = 0;
    for c in int_part.chars().chain(frac_part.chars()) {
        mantissa = mantissa.checked_mul(10)?.checked_add(c.to_digit(10)? as u128)?;
    }
    Some((mantissa, frac_part.len() as u32))
}

/// mantissa × unit / 10^decimals, rounded to the nearest byte; approximate when the printed
/// precision cannot resolve a 512-byte sector.
fn scale(mantissa: u128, decimals: u32, unit: u128, mut approximate: bool) -> Option<ByteSize> {
    let div = 10u128.checked_pow(decimals)?;
    let product = mantissa.checked_mul(unit)?;
    let bytes = (product + div / 2) / div;
    if mantissa != 0 && unit > 1 && unit > 512u128.checked_mul(div)? {
        approximate = true;
    }
    if product % div != 0 && unit <= 1 {
        approximate = true;
    }
    Some(ByteSize { bytes: u64::try_from(bytes).ok()?, approximate })
}

/// Parses one LVM size field (`"536870912000"`, `"26214400.00k"`, `"<379.93g"`, `"0 "`).
/// Numbers without a suffix are taken in `default_unit`. Returns `None` for anything else
/// (empty fields included).
pub fn parse_lvm_size(s: &str, default_unit: LvmUnit) -> Option<ByteSize> {
    let s = s.trim();
    let (approx_prefix, s) = match s.strip_prefix('<') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, s),
    };
    let (num, unit) = match s.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => (&s[..s.len() - 1], lvm_suffix_bytes(c)?),
        Some(_) => (s, default_unit.bytes() as u128),
        None => return None,
    };
    let (mantissa, decimals) = parse_decimal(num)?;
    scale(mantissa, decimals, unit, approx_prefix)
}

/// Parses lsblk/gluster-block human sizes (`"223.6G"`, `"1K"`, `"1.0 GiB"`, `"53687091200"`).
pub fn parse_human_size(s: &str) -> Option<ByteSize> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',')).unwrap_or(s.len());
    let (num, suffix) = (&s[..split], &s[split..]);
    let unit = binary_suffix_bytes(suffix)?;
    let (mantissa, decimals) = parse_decimal(num)?;
    scale(mantissa, decimals, unit, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lvm_bytes_nosuffix() {
        assert_eq!(parse_lvm_size("2199014866944", LvmUnit::Bytes), Some(ByteSize::exact(2199014866944)));
        assert_eq!(parse_lvm_size("0 ", LvmUnit::Bytes), Some(ByteSize::exact(0)));
        assert_eq!(parse_lvm_size("4096B", LvmUnit::Kib), Some(ByteSize::exact(4096)));
    }

    #[test]
    fn lvm_kib_is_exact() {
        let s = parse_lvm_size("524152832.00k", LvmUnit::Bytes).unwrap();
        assert_eq!(s, ByteSize::exact(524152832 * 1024));
        assert_eq!(parse_lvm_size("0.50k", LvmUnit::Bytes), Some(ByteSize::exact(512)));
        // --units k --nosuffix
        assert_eq!(parse_lvm_size("4096.00", LvmUnit::Kib), Some(ByteSize::exact(4 << 20)));
    }

    #[test]
    fn lvm_human_is_approximate() {
        let s = parse_lvm_size("<379.93g", LvmUnit::Bytes).unwrap();
        assert!(s.approximate);
        assert_eq!(s.bytes, 407_946_731_192); // 379.93 * 2^30, rounded
        let s = parse_lvm_size("499.87g", LvmUnit::Bytes).unwrap();
        assert!(s.approximate, "two decimals of GiB cannot resolve sectors");
        let s = parse_lvm_size("<4.37t", LvmUnit::Bytes).unwrap();
        assert!(s.approximate);
        assert_eq!(parse_lvm_size("4.00m", LvmUnit::Bytes).unwrap().bytes, 4 << 20);
        // SI units
        assert_eq!(parse_lvm_size("1.50K", LvmUnit::Bytes).unwrap().bytes, 1500);
        // decimal comma
        assert_eq!(parse_lvm_size("4,00m", LvmUnit::Bytes).unwrap().bytes, 4 << 20);
    }

    #[test]
    fn lvm_rejects_garbage() {
        for bad in [
            "",
            " ",
            "<",
            "abc",
            "1.2.3g",
            "12x",
            "-5",
            "1e5",
            ".",
            "<k",
            "99999999999999999999999999999999t",
        ] {
            assert_eq!(parse_lvm_size(bad, LvmUnit::Bytes), None, "{bad:?}");
        }
        // overflow of u64
        assert_eq!(parse_lvm_size("99999999e", LvmUnit::Bytes), None);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(parse_human_size("512G").unwrap().bytes, 512 << 30);
        let s = parse_human_size("223.6G").unwrap();
        assert!(s.approximate);
        assert_eq!(s.bytes, 240_088_671_846); // 223.6 * 2^30, rounded
        let s = parse_human_size("1.0 GiB").unwrap();
        assert_eq!((s.bytes, s.approximate), (1 << 30, true));
        assert_eq!(parse_human_size("53687091200"), Some(ByteSize::exact(53687091200)));
        assert_eq!(parse_human_size("4K").unwrap().bytes, 4096);
        assert_eq!(parse_human_size("0B"), Some(ByteSize::exact(0)));
        assert_eq!(parse_human_size("12Q"), None);
        assert_eq!(parse_human_size(""), None);
    }
}
