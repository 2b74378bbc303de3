use std::sync::Arc;

use super::value::{Struct, Value};
use super::wire::{self, TypeRegistry, WireType};
use super::GobError;

/// A struct type's fields: name and type id, in declaration order.
type StructFields = Vec<(Arc<str>, i64)>;

/// Deeper nesting than this is not something heketi writes; it protects the stack from crafted
/// or corrupted input.
const MAX_DEPTH: usize = 64;

/// A slice/array/map length is only checked against the bytes left (each element takes at least
/// one byte); pre-allocating `n` values of ~40 bytes each would turn a damaged length in a
/// multi-megabyte value into gigabytes. Larger collections grow as their elements are decoded.
const PREALLOC_LIMIT: usize = 1024;

/// Most collection elements one value may hold. Heketi's largest values (a cluster listing its
/// volumes) have thousands; a run of zero bytes read through a damaged length could otherwise
/// decode as millions of empty strings.
const MAX_ELEMENTS: usize = 1 << 20;

/// The result of decoding one gob stream: its top-level value, the wire name of the value's type
/// (e.g. `VolumeEntry`) and the registry of type definitions the stream carried.
#[derive(Debug, Clone)]
pub struct Decoded<'a> {
    pub type_name: Arc<str>,
    pub value: Value<'a>,
    pub types: TypeRegistry,
}

/// Decode the first value of a self-contained gob stream (type definitions followed by a value),
/// as heketi writes one per bolt value.
pub fn decode(data: &[u8]) -> Result<Decoded<'_>, GobError> {
    decode_with(data, &mut TypeCache::default())
}

/// Like [`decode`], reusing type definitions parsed from earlier streams. All values of one
/// bucket written by one heketi process start with the same type-definition messages, so
/// recognising those bytes saves re-parsing (and re-allocating) a dozen definitions per value.
pub fn decode_with<'a>(data: &'a [u8], cache: &mut TypeCache) -> Result<Decoded<'a>, GobError> {
    let mut d = Decoder { data, pos: 0, msg_end: 0, types: TypeRegistry::default(), elements: 0 };
    let prefix = definitions_prefix(data);
    if prefix > 0 {
        if let Some(types) = cache.get(&data[..prefix]) {
            d.types = types.clone();
            d.pos = prefix;
            d.msg_end = prefix;
        }
    }
    let id = d.type_sequence(false)?;
    if prefix > 0 && d.pos > prefix && !cache.contains(&data[..prefix]) {
        // Only definitions were parsed up to `prefix` (the value message starts there).
        cache.insert(&data[..prefix], d.types.clone());
    }
    let (type_name, value) = d.top_level_value(id, 0)?;
    Ok(Decoded { type_name, value, types: d.types })
}

/// Length of the leading run of whole type-definition messages (0 when there is none or the
/// framing is damaged: the normal decoder then reports the problem).
fn definitions_prefix(data: &[u8]) -> usize {
    let mut pos = 0;
    loop {
        let mut d = Decoder { data, pos, msg_end: data.len(), types: TypeRegistry::default(), elements: 0 };
        let Ok(len) = d.uint("message length") else { return pos };
        let body = d.pos;
        let Some(end) =
            usize::try_from(len).ok().and_then(|l| body.checked_add(l)).filter(|e| *e <= data.len())
        else {
            return pos;
        };
        d.msg_end = end;
        match d.int("type id") {
            Ok(id) if id < 0 => pos = end,
            _ => return pos,
        }
    }
}

/// Type registries keyed by the exact bytes of the definition messages that produced them.
#[derive(Debug, Default)]
pub struct TypeCache {
    entries: Vec<(Box<[u8]>, TypeRegistry)>,
}

impl TypeCache {
    /// Heketi values come in at most a handful of shapes per bucket; a small bound keeps a
    /// stream of garbage (salvage) from growing the cache.
    const MAX_ENTRIES: usize = 64;

    fn get(&self, prefix: &[u8]) -> Option<&TypeRegistry> {
        self.entries.iter().find(|(p, _)| **p == *prefix).map(|(_, t)| t)
    }

    fn contains(&self, prefix: &[u8]) -> bool {
        self.get(prefix).is_some()
    }

    fn insert(&mut self, prefix: &[u8], types: TypeRegistry) {
        if self.entries.len() < Self::MAX_ENTRIES {
            self.entries.push((prefix.into(), types));
        }
    }
}

struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
    /// End of the current message; reads never cross it.
    msg_end: usize,
    types: TypeRegistry,
    /// Collection elements decoded so far (bounded by [`MAX_ELEMENTS`]).
    elements: usize,
}

impl<'a> Decoder<'a> {
    fn byte(&mut self, what: &'static str) -> Result<u8, GobError> {
        if self.pos >= self.msg_end {
            return Err(GobError::Truncated { offset: self.pos, what });
        }
        let b = self.data[self.pos];
        self.pos += 1;
        Ok(b)
    }

    fn remaining(&self) -> usize {
        self.msg_end - self.pos
    }

    fn bytes(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], GobError> {
        if n > self.remaining() as u64 {
            return Err(GobError::LengthTooLarge { offset: self.pos, len: n, available: self.remaining() });
        }
        let n = n as usize;
        let s = &self.data[self.pos..self.pos + n];
        let _ = what;
        self.pos += n;
        Ok(s)
    }

    fn uint(&mut self, what: &'static str) -> Result<u64, GobError> {
        let start = self.pos;
        let b = self.byte(what)?;
        if b < 0x80 {
            return Ok(u64::from(b));
        }
        let n = (!b).wrapping_add(1) as usize; // 256 - b
        if n == 0 || n > 8 {
            return Err(GobError::BadInteger { offset: start, what });
        }
        let mut v: u64 = 0;
        for _ in 0..n {
            v = (v << 8) | u64::from(self.byte(what)?);
        }
        Ok(v)
    }

    fn int(&mut self, what: &'static str) -> Result<i64, GobError> {
        let u = self.uint(what)?;
        Ok(if u & 1 == 1 { !(u >> 1) as i64 } else { (u >> 1) as i64 })
    }

    fn string(&mut self, what: &'static str) -> Result<&'a [u8], GobError> {
        let n = self.uint(what)?;
        self.bytes(n, what)
    }

    /// A count that is about to drive an allocation or loop: every element occupies at least one
    /// byte, so a count larger than the bytes left is corrupt.
    fn count(&mut self, what: &'static str) -> Result<usize, GobError> {
        let offset = self.pos;
        let n = self.uint(what)?;
        if n > self.remaining() as u64 {
            return Err(GobError::LengthTooLarge { offset, len: n, available: self.remaining() });
        }
        Ok(n as usize)
    }

    /// Start the next message (`uint length` + body). Only legal once the current one is used up.
    fn next_message(&mut self) -> Result<bool, GobError> {
        debug_assert!(self.pos >= self.msg_end);
        if self.pos >= self.data.len() {
            return Ok(false);
        }
        self.msg_end = self.data.len(); // the length prefix itself may be read
        let offset = self.pos;
        let len = self.uint("message length")?;
        let available = self.data.len() - self.pos;
        if len > available as u64 {
            return Err(GobError::MessageTooLong { offset, len, available });
        }
        if len == 0 {
            return Err(GobError::Corrupt { offset, what: "zero-length message" });
        }
        self.msg_end = self.pos + len as usize;
        Ok(true)
    }

    /// Go's `decodeTypeSequence`: read type definitions until a value's type id arrives.
    fn type_sequence(&mut self, in_interface: bool) -> Result<i64, GobError> {
        loop {
            if self.pos >= self.msg_end && !self.next_message()? {
                return Err(GobError::NoValue);
            }
            let offset = self.pos;
            let id = self.int("type id")?;
            if id >= 0 {
                return Ok(id);
            }
            let id = id.checked_neg().ok_or(GobError::BadInteger { offset, what: "type id" })?;
            if id < wire::FIRST_USER_ID {
                return Err(GobError::BadTypeDefinition { offset, id, what: "redefines a predefined type" });
            }
            let t = self.wire_type(id)?;
            self.types.insert(id, Arc::new(t));
            if self.pos < self.msg_end {
                if !in_interface {
                    return Err(GobError::Corrupt {
                        offset: self.pos,
                        what: "extra data after type definition",
                    });
                }
                // Inside an interface the delimited value's byte count follows; skip it.
                self.uint("interface value byte count")?;
            }
        }
    }

    /// Decode a `wireType` struct (the type definition body).
    fn wire_type(&mut self, id: i64) -> Result<WireType, GobError> {
        let offset = self.pos;
        let bad = |what| GobError::BadTypeDefinition { offset, id, what };
        let mut field: i64 = -1;
        let mut result = None;
        loop {
            let delta = self.uint("wireType field")?;
            if delta == 0 {
                break;
            }
            field = field.saturating_add(delta as i64);
            let t = match field {
                0 => {
                    let (name, elem, len) = self.array_type()?;
                    WireType::Array { name, elem, len }
                }
                1 => {
                    let (name, elem) = self.slice_type()?;
                    WireType::Slice { name, elem }
                }
                2 => {
                    let (name, fields) = self.struct_type()?;
                    WireType::Struct { name, fields }
                }
                3 => {
                    let (name, key, elem) = self.map_type()?;
                    WireType::Map { name, key, elem }
                }
                4..=6 => {
                    let (name, _) = self.common_type_struct()?;
                    WireType::Opaque { name }
                }
                _ => return Err(bad("unknown wireType field")),
            };
            if result.replace(t).is_some() {
                return Err(bad("more than one kind set"));
            }
        }
        result.ok_or_else(|| bad("no kind set"))
    }

    /// `CommonType { Name string; Id int }` as an embedded struct value.
    fn common_type_struct(&mut self) -> Result<(Arc<str>, i64), GobError> {
        let mut name: Arc<str> = Arc::from("");
        let mut id = 0;
        let mut field: i64 = -1;
        loop {
            let delta = self.uint("CommonType field")?;
            if delta == 0 {
                break;
            }
            field = field.saturating_add(delta as i64);
            match field {
                0 => name = Arc::from(String::from_utf8_lossy(self.string("type name")?)),
                1 => id = self.int("type id")?,
                _ => return Err(GobError::Corrupt { offset: self.pos, what: "unknown CommonType field" }),
            }
        }
        Ok((name, id))
    }

    /// Generic loop for the small type-definition structs: field 0 is CommonType, the rest are
    /// handled by `f`.
    fn def_struct(
        &mut self,
        mut f: impl FnMut(&mut Self, i64) -> Result<(), GobError>,
    ) -> Result<Arc<str>, GobError> {
        let mut name: Arc<str> = Arc::from("");
        let mut field: i64 = -1;
        loop {
            let delta = self.uint("type definition field")?;
            if delta == 0 {
                break;
            }
            field = field.saturating_add(delta as i64);
            if field == 0 {
                name = self.common_type_struct()?.0;
            } else {
                f(self, field)?;
            }
        }
        Ok(name)
    }

    fn array_type(&mut self) -> Result<(Arc<str>, i64, u64), GobError> {
        let (mut elem, mut len) = (0, 0u64);
        let name = self.def_struct(|d, field| {
            match field {
                1 => elem = d.int("array elem")?,
                2 => len = d.int("array len")?.max(0) as u64,
                _ => return Err(GobError::Corrupt { offset: d.pos, what: "unknown arrayType field" }),
            }
            Ok(())
        })?;
        Ok((name, elem, len))
    }

    fn slice_type(&mut self) -> Result<(Arc<str>, i64), GobError> {
        let mut elem = 0;
        let name = self.def_struct(|d, field| {
            match field {
                1 => elem = d.int("slice elem")?,
                _ => return Err(GobError::Corrupt { offset: d.pos, what: "unknown sliceType field" }),
            }
            Ok(())
        })?;
        Ok((name, elem))
    }

    fn map_type(&mut self) -> Result<(Arc<str>, i64, i64), GobError> {
        let (mut key, mut elem) = (0, 0);
        let name = self.def_struct(|d, field| {
            match field {
                1 => key = d.int("map key")?,
                2 => elem = d.int("map elem")?,
                _ => return Err(GobError::Corrupt { offset: d.pos, what: "unknown mapType field" }),
            }
            Ok(())
        })?;
        Ok((name, key, elem))
    }

    fn struct_type(&mut self) -> Result<(Arc<str>, StructFields), GobError> {
        let mut fields = Vec::new();
        let name = self.def_struct(|d, field| {
            if field != 1 {
                return Err(GobError::Corrupt { offset: d.pos, what: "unknown structType field" });
            }
            let n = d.count("field count")?;
            fields.reserve(n);
            for _ in 0..n {
                // fieldType { Name string; Id int }
                let mut fname: Arc<str> = Arc::from("");
                let mut fid = 0;
                let mut f: i64 = -1;
                loop {
                    let delta = d.uint("fieldType field")?;
                    if delta == 0 {
                        break;
                    }
                    f = f.saturating_add(delta as i64);
                    match f {
                        0 => fname = Arc::from(String::from_utf8_lossy(d.string("field name")?)),
                        1 => fid = d.int("field type id")?,
                        _ => {
                            return Err(GobError::Corrupt { offset: d.pos, what: "unknown fieldType field" })
                        }
                    }
                }
                fields.push((fname, fid));
            }
            Ok(())
        })?;
        Ok((name, fields))
    }

    /// A top-level value (or the concrete value inside an interface): structs are encoded
    /// directly, anything else as a "singleton" behind a zero field delta.
    fn top_level_value(&mut self, id: i64, depth: usize) -> Result<(Arc<str>, Value<'a>), GobError> {
        if let Some(WireType::Struct { name, .. }) = self.types.get(id).map(|t| &**t) {
            let name = name.clone();
            return Ok((name, self.value(id, depth)?));
        }
        let offset = self.pos;
        if self.uint("singleton delta")? != 0 {
            return Err(GobError::Corrupt { offset, what: "non-zero delta for singleton" });
        }
        let name: Arc<str> = match self.types.get(id) {
            Some(t) => Arc::from(t.name()),
            None => Arc::from(basic_name(id)),
        };
        Ok((name, self.value(id, depth)?))
    }

    fn value(&mut self, id: i64, depth: usize) -> Result<Value<'a>, GobError> {
        if depth > MAX_DEPTH {
            return Err(GobError::TooDeep { offset: self.pos, limit: MAX_DEPTH });
        }
        Ok(match id {
            wire::BOOL => match self.uint("bool")? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                _ => return Err(GobError::Corrupt { offset: self.pos, what: "invalid bool" }),
            },
            wire::INT => Value::Int(self.int("int")?),
            wire::UINT => Value::Uint(self.uint("uint")?),
            wire::FLOAT => Value::Float(self.float()?),
            wire::BYTES => Value::Bytes(self.string("bytes")?),
            wire::STRING => Value::String(self.string("string")?),
            wire::COMPLEX => Value::Complex(self.float()?, self.float()?),
            wire::INTERFACE => self.interface(depth)?,
            _ => {
                let t = match self.types.get(id) {
                    Some(t) => t.clone(),
                    None => return Err(GobError::UnknownType { offset: self.pos, id }),
                };
                match &*t {
                    WireType::Struct { .. } => self.struct_value(&t, depth)?,
                    &WireType::Slice { elem, .. } => {
                        let n = self.count("slice length")?;
                        let mut v = Vec::with_capacity(n.min(PREALLOC_LIMIT));
                        self.take_elements(n)?;
                        for _ in 0..n {
                            v.push(self.value(elem, depth + 1)?);
                        }
                        Value::Slice(v)
                    }
                    &WireType::Array { elem, len, .. } => {
                        let offset = self.pos;
                        let n = self.count("array length")?;
                        if n as u64 != len {
                            return Err(GobError::Corrupt {
                                offset,
                                what: "array length differs from its type",
                            });
                        }
                        let mut v = Vec::with_capacity(n.min(PREALLOC_LIMIT));
                        self.take_elements(n)?;
                        for _ in 0..n {
                            v.push(self.value(elem, depth + 1)?);
                        }
                        Value::Array(v)
                    }
                    &WireType::Map { key, elem, .. } => {
                        let n = self.count("map length")?;
                        let mut v = Vec::with_capacity(n.min(PREALLOC_LIMIT));
                        self.take_elements(n)?;
                        for _ in 0..n {
                            let k = self.value(key, depth + 1)?;
                            let e = self.value(elem, depth + 1)?;
                            v.push((k, e));
                        }
                        Value::Map(v)
                    }
                    WireType::Opaque { .. } => Value::Opaque(self.string("opaque value")?),
                }
            }
        })
    }

    /// Charges `n` collection elements against [`MAX_ELEMENTS`].
    fn take_elements(&mut self, n: usize) -> Result<(), GobError> {
        self.elements = self.elements.saturating_add(n);
        if self.elements > MAX_ELEMENTS {
            return Err(GobError::Corrupt {
                offset: self.pos,
                what: "more than 2^20 collection elements in one value",
            });
        }
        Ok(())
    }

    fn float(&mut self) -> Result<f64, GobError> {
        let u = self.uint("float")?;
        Ok(f64::from_bits(u.swap_bytes()))
    }

    fn struct_value(&mut self, ty: &Arc<WireType>, depth: usize) -> Result<Value<'a>, GobError> {
        let WireType::Struct { fields, .. } = &**ty else {
            return Err(GobError::Corrupt { offset: self.pos, what: "struct value of a non-struct type" });
        };
        let mut out = Vec::new();
        let mut field: i64 = -1;
        loop {
            let offset = self.pos;
            let delta = self.uint("struct field delta")?;
            if delta == 0 {
                break;
            }
            field = field.saturating_add(delta.min(i64::MAX as u64) as i64);
            let Some((index, &(_, fid))) =
                usize::try_from(field).ok().and_then(|i| fields.get(i).map(|f| (i, f)))
            else {
                return Err(GobError::BadField { offset, field: field as u64, fields: fields.len() });
            };
            let v = self.value(fid, depth + 1)?;
            out.push((index, v));
        }
        Ok(Value::Struct(Struct { ty: ty.clone(), fields: out }))
    }

    fn interface(&mut self, depth: usize) -> Result<Value<'a>, GobError> {
        let name = self.string("interface type name")?;
        if name.is_empty() {
            // A nil interface; Go never sends one as a field, but it may appear in a slice.
            return Ok(Value::Interface(name, Box::new(Value::Bool(false))));
        }
        let id = self.type_sequence(true)?;
        if !self.types.is_known(id) {
            return Err(GobError::UnknownType { offset: self.pos, id });
        }
        // Byte count of the concrete value: informational only.
        self.uint("interface value byte count")?;
        let (_, v) = self.top_level_value(id, depth + 1)?;
        Ok(Value::Interface(name, Box::new(v)))
    }
}

fn basic_name(id: i64) -> &'static str {
    match id {
        wire::BOOL => "bool",
        wire::INT => "int",
        wire::UINT => "uint",
        wire::FLOAT => "float64",
        wire::BYTES => "[]uint8",
        wire::STRING => "string",
        wire::COMPLEX => "complex128",
        wire::INTERFACE => "interface",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The annotated example of heketi-db-spec.md §2.4 (a real DBATTRIBUTE value).
    const DB_ATTR: &[u8] = b"\x30\xff\x81\x03\x01\x01\x10DbAttributeEntry\x01\xff\x82\x00\x01\x02\x01\x03Key\x01\x0c\x00\x01\x05Value\x01\x0c\x00\x00\x00\x28\xff\x82\x01\x1eDB_CLUSTER_HAS_FILE_BLOCK_FLAG\x01\x03yes\x00";

    #[test]
    fn decodes_annotated_db_attribute() {
        let d = decode(DB_ATTR).unwrap();
        assert_eq!(&*d.type_name, "DbAttributeEntry");
        let s = d.value.as_struct().unwrap();
        assert_eq!(s.get("Key").unwrap().as_str_lossy().unwrap(), "DB_CLUSTER_HAS_FILE_BLOCK_FLAG");
        assert_eq!(s.get("Value").unwrap().as_str_lossy().unwrap(), "yes");
        assert!(d.types.get(65).is_some());
    }

    #[test]
    fn integer_encodings_from_the_spec() {
        let cases: &[(&[u8], u64)] = &[(b"\x07", 7), (b"\xff\xc8", 200), (b"\xfe\x02\x01", 513)];
        for (bytes, want) in cases {
            let mut d = Decoder {
                data: bytes,
                pos: 0,
                msg_end: bytes.len(),
                types: TypeRegistry::default(),
                elements: 0,
            };
            assert_eq!(d.uint("t").unwrap(), *want);
        }
        let ints: &[(&[u8], i64)] =
            &[(b"\xff\x81", -65), (b"\xff\x82", 65), (b"\x06", 3), (b"\xfc\xbe\xbc\x20\x00", 1_600_000_000)];
        for (bytes, want) in ints {
            let mut d = Decoder {
                data: bytes,
                pos: 0,
                msg_end: bytes.len(),
                types: TypeRegistry::default(),
                elements: 0,
            };
            assert_eq!(d.int("t").unwrap(), *want);
        }
        for (bytes, want) in [(&b"\xfe\xf0\x3f"[..], 1.0), (&b"\xfe\xf8\x3f"[..], 1.5)] {
            let mut d = Decoder {
                data: bytes,
                pos: 0,
                msg_end: bytes.len(),
                types: TypeRegistry::default(),
                elements: 0,
            };
            assert_eq!(d.float().unwrap(), want);
        }
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        for n in 0..DB_ATTR.len() {
            assert!(decode(&DB_ATTR[..n]).is_err(), "prefix of {n} bytes decoded");
        }
    }

    #[test]
    fn huge_counts_do_not_allocate() {
        // type 65 = []string, then a value claiming 2^56 elements.
        let mut s = vec![];
        let def = b"\xff\x81\x02\x01\x01\x08[]string\x01\xff\x82\x00\x01\x0c\x00\x00";
        s.push(def.len() as u8);
        s.extend_from_slice(def);
        let val = b"\xff\x82\x00\xf9\x01\x00\x00\x00\x00\x00\x00";
        s.push(val.len() as u8);
        s.extend_from_slice(val);
        let e = decode(&s).unwrap_err();
        assert!(matches!(e, GobError::LengthTooLarge { .. }), "{e}");
    }

    #[test]
    fn a_long_run_of_empty_elements_is_bounded() {
        // type 65 = []string; the value claims 3 million elements and really holds them: 3 million
        // zero bytes, each an empty string (what a zeroed overflow page looks like to gob). The
        // decoder stops at 2^20 elements instead of building a 120 MB slice.
        let n: u32 = 3_000_000;
        let mut s = vec![];
        let def = b"\xff\x81\x02\x01\x01\x08[]string\x01\xff\x82\x00\x01\x0c\x00\x00";
        s.push(def.len() as u8);
        s.extend_from_slice(def);
        let mut val = vec![0xff, 0x82, 0x00, 0xfd];
        val.extend_from_slice(&n.to_be_bytes()[1..]);
        val.resize(val.len() + n as usize, 0);
        s.push(0xfd);
        s.extend_from_slice(&(val.len() as u32).to_be_bytes()[1..]);
        s.extend_from_slice(&val);
        let e = decode(&s).unwrap_err();
        assert!(matches!(e, GobError::Corrupt { .. }), "{e}");
        // Below the bound the same shape decodes.
        let mut ok = vec![];
        ok.push(def.len() as u8);
        ok.extend_from_slice(def);
        let val = [0xff, 0x82, 0x00, 0x03, 0x00, 0x00, 0x00];
        ok.push(val.len() as u8);
        ok.extend_from_slice(&val);
        assert_eq!(decode(&ok).unwrap().value, Value::Slice(vec![Value::String(b""); 3]));
    }

    #[test]
    fn self_referential_type_is_bounded() {
        // type 65 = struct { A T65 } ; value nests until data runs out or depth is hit.
        let mut s = vec![];
        let def = b"\xff\x81\x03\x01\x01\x01T\x01\xff\x82\x00\x01\x01\x01\x01A\x01\xff\x82\x00\x00\x00";
        s.push(def.len() as u8);
        s.extend_from_slice(def);
        let mut val = vec![0xff, 0x82];
        val.extend(std::iter::repeat_n(0x01, 100));
        val.extend(std::iter::repeat_n(0x00, 101));
        s.push(0xff);
        s.push(val.len() as u8);
        s.extend_from_slice(&val);
        let e = decode(&s).unwrap_err();
        assert!(matches!(e, GobError::TooDeep { .. }), "{e}");
    }
}
