//! The JSON `heketi db export` writes, byte for byte: Go's `json.MarshalIndent(db, "", "    ")`
//! plus a trailing newline. serde_json produces the structure; [`GoFormatter`] reproduces the
//! details where Go's encoder differs from serde_json's (HTML-safe escapes, `\u0008`-style control
//! escapes, float formatting).

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, PrettyFormatter};

use super::model::Db;

/// Serialise `db` as heketi's export JSON.
///
/// Like heketi, pending operations are written only when the `DB_HAS_PENDING_OPS_BUCKET`
/// attribute says `yes` (spec §3.2); otherwise `pendingoperations` is `{}`.
pub fn to_export_json(db: &Db) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 << 16);
    write_export_json(db, &mut out).expect("writing to a Vec cannot fail and the model always serialises");
    out
}

/// Like [`to_export_json`], into any writer (unbuffered: hand it a `BufWriter` for files).
pub fn write_export_json<W: io::Write>(db: &Db, mut w: W) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut w, GoFormatter::new());
    if db.pending_ops.is_empty() || db.exports_pending_ops() {
        db.serialize(&mut ser)
    } else {
        Db { pending_ops: Default::default(), ..db.clone() }.serialize(&mut ser)
    }
    .map_err(io::Error::other)?;
    io::Write::write_all(&mut w, b"\n")?;
    io::Write::flush(&mut w)
}

/// serde_json formatter matching Go's `encoding/json` with `MarshalIndent(v, "", "    ")`.
pub struct GoFormatter {
    pretty: PrettyFormatter<'static>,
}

impl GoFormatter {
    pub fn new() -> Self {
        GoFormatter { pretty: PrettyFormatter::with_indent(b"    ") }
    }
}

impl Default for GoFormatter {
    fn default() -> Self {
        Self::new()
    }
}

/// Go's float encoding: shortest round-trip digits, `%f` style unless the magnitude is below
/// 1e-6 or at least 1e21, where it uses an exponent with a sign and at least one digit.
pub fn go_float(f: f64, bits32: bool) -> String {
    if !f.is_finite() {
        // Go refuses to encode these; heketi never stores them. `null` keeps the JSON valid.
        return "null".to_owned();
    }
    let abs = f.abs();
    let exp = abs != 0.0
        && if bits32 {
            let a = abs as f32;
            !(1e-6..1e21).contains(&a)
        } else {
            !(1e-6..1e21).contains(&abs)
        };
    if !exp {
        return if bits32 { format!("{}", f as f32) } else { format!("{f}") };
    }
    let s = if bits32 { format!("{:e}", f as f32) } else { format!("{f:e}") };
    // Rust writes `1e21` / `1.5e-7`; Go writes `1e+21` / `1.5e-07`, then trims `e-07` to `e-7`.
    match s.split_once('e') {
        Some((mant, e)) if !e.starts_with('-') => format!("{mant}e+{e}"),
        _ => s,
    }
}

impl Formatter for GoFormatter {
    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f32) -> io::Result<()> {
        w.write_all(go_float(f64::from(v), true).as_bytes())
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f64) -> io::Result<()> {
        w.write_all(go_float(v, false).as_bytes())
    }

    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        // serde_json hands us runs without quote/backslash/control characters; Go additionally
        // escapes <, >, & (HTML safety) and U+2028/U+2029 (UTF-8 E2 80 A8/A9). Almost every
        // string has none of them: one byte scan, one write.
        let bytes = fragment.as_bytes();
        if memchr::memchr3(b'<', b'>', b'&', bytes).is_none() && memchr::memchr(0xe2, bytes).is_none() {
            return w.write_all(bytes);
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let esc: &[u8] = match c {
                '<' => b"\\u003c",
                '>' => b"\\u003e",
                '&' => b"\\u0026",
                '\u{2028}' => b"\\u2028",
                '\u{2029}' => b"\\u2029",
                _ => continue,
            };
            w.write_all(&bytes[start..i])?;
            w.write_all(esc)?;
            start = i + c.len_utf8();
        }
        w.write_all(&bytes[start..])
    }

    fn write_char_escape<W: ?Sized + io::Write>(&mut self, w: &mut W, escape: CharEscape) -> io::Result<()> {
        let s: &[u8] = match escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"/",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            // Go (as used by heketi) has no short forms for \b and \f.
            CharEscape::Backspace => b"\\u0008",
            CharEscape::FormFeed => b"\\u000c",
            CharEscape::AsciiControl(b) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let buf = [b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]];
                return w.write_all(&buf);
            }
        };
        w.write_all(s)
    }

    // Structure and indentation: delegate to serde_json's pretty printer (same layout as Go's
    // MarshalIndent, including `{}` / `[]` for empty containers).
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.pretty.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_go() {
        assert_eq!(go_float(1.0, true), "1");
        assert_eq!(go_float(f64::from(1.2f32), true), "1.2");
        assert_eq!(go_float(1.5, true), "1.5");
        assert_eq!(go_float(0.0, false), "0");
        assert_eq!(go_float(1e21, false), "1e+21");
        assert_eq!(go_float(1.5e-7, false), "1.5e-7");
        assert_eq!(go_float(123456789.0, false), "123456789");
    }

    #[test]
    fn strings_like_go() {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter::new());
        "a<b>&c\u{8}\u{c}\u{1}\n\"\\/\u{2028}é".serialize(&mut ser).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\u003cb\u003e\u0026c\u0008\u000c\u0001\n\"\\/\u2028é""#
        );
    }
}
