//! Small text helpers shared by the parsers. All of them are total (no panics on any input).

/// Strips a UTF-8 BOM and surrounding whitespace.
pub(crate) fn clean(text: &str) -> &str {
    text.trim_start_matches('\u{feff}').trim()
}

/// Decodes the octal escapes the kernel uses in `/proc/mounts`, mountinfo and fstab fields
/// (`\040` space, `\011` tab, `\012` newline, `\134` backslash). Anything that is not a
/// three-digit octal escape is kept verbatim.
pub(crate) fn unescape_octal(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut bytes: Vec<u8> = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 3 < chars.len() {
            let digits = &chars[i + 1..i + 4];
            if digits.iter().all(|d| ('0'..='7').contains(d)) {
                let v = digits.iter().fold(0u32, |acc, d| acc * 8 + (*d as u32 - '0' as u32));
                if v <= 0xff {
                    bytes.push(v as u8);
                    i += 4;
                    continue;
                }
            }
        }
        let mut buf = [0u8; 4];
        bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Decodes `\xHH` escapes (lsblk `-P`/`-r` output). Other backslashes are kept.
pub(crate) fn unescape_hex(s: &str) -> String {
    if !s.contains("\\x") {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut bytes: Vec<u8> = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && chars.get(i + 1) == Some(&'x') {
            if let (Some(h), Some(l)) =
                (chars.get(i + 2).and_then(|c| c.to_digit(16)), chars.get(i + 3).and_then(|c| c.to_digit(16)))
            {
                bytes.push((h * 16 + l) as u8);
                i += 4;
                continue;
            }
        }
        let mut buf = [0u8; 4];
        bytes.extend_from_slice(chars[i].encode_utf8(&mut buf).as_bytes());
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Splits gluster's `host:/path` at the first `:/` (works for IPv6 hosts too, whose colons are
/// never followed by `/`).
pub(crate) fn split_host_path(s: &str) -> Option<(&str, &str)> {
    let idx = s.find(":/")?;
    let host = &s[..idx];
    let path = &s[idx + 1..];
    if host.is_empty() {
        return None;
    }
    Some((host, path))
}

/// `Some(s)` unless `s` is empty after trimming.
pub(crate) fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        Some(t.to_string())
    }
}

/// Splits a comma separated list (LVM tags), dropping empty items.
pub(crate) fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

/// Parses an unsigned integer, tolerating surrounding whitespace.
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    s.trim().parse::<u64>().ok()
}

pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    s.trim().parse::<u32>().ok()
}

/// A UUID-shaped string (8-4-4-4-12 hex, any case). Parsers do not require this — real
/// captures contain masked ids — but callers may want to check.
pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    parts.len() == 5
        && parts.iter().zip(lens).all(|(p, l)| p.len() == l && p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_escapes() {
        assert_eq!(unescape_octal(r"/mnt/a\040b"), "/mnt/a b");
        assert_eq!(unescape_octal(r"a\134b"), r"a\b");
        assert_eq!(unescape_octal(r"tab\011x"), "tab\tx");
        // not an escape: kept
        assert_eq!(unescape_octal(r"a\9zz"), r"a\9zz");
        assert_eq!(unescape_octal(r"end\04"), r"end\04");
        assert_eq!(unescape_octal("\\"), "\\");
    }

    #[test]
    fn hex_escapes() {
        assert_eq!(unescape_hex(r"/mnt/a\x20b"), "/mnt/a b");
        assert_eq!(unescape_hex(r"x\x2"), r"x\x2");
        assert_eq!(unescape_hex(r"\x"), r"\x");
    }

    #[test]
    fn host_path() {
        assert_eq!(split_host_path("h:/a/b"), Some(("h", "/a/b")));
        assert_eq!(split_host_path("fe80:::/b"), Some(("fe80::", "/b")));
        assert_eq!(split_host_path(":/b"), None);
        assert_eq!(split_host_path("nopath"), None);
    }

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("643e2ec8-d103-4239-9713-d85bfa843e7c"));
        assert!(!is_uuid("4673e3-5e95-4c02-b9bb-2823483e067bb3"));
        assert!(!is_uuid(""));
    }
}
