//! A gob encoder for values whose Go types are described by [`TypeSpec`]s — enough to write
//! every entry heketi stores, in a form Go's `encoding/gob` decodes into heketi's structs.
//!
//! Each call to [`encode`] produces one self-contained stream, like heketi's per-entry
//! `gob.NewEncoder`: the type definitions (outer type first, then its components, as Go sends
//! them), then one value message. Concrete types of interface values are defined up front rather
//! than in the middle of the value (Go's decoder accepts both, spec §2.4).

use std::sync::Arc;

use super::wire;

/// A Go type as gob sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeSpec {
    Bool,
    Int,
    Uint,
    Float,
    Bytes,
    String,
    Interface,
    Struct(Arc<StructSpec>),
    Slice(Arc<SliceSpec>),
    Map(Arc<MapSpec>),
}

/// A named struct type and its exported fields in declaration order.
#[derive(Debug, Clone, PartialEq)]
pub struct StructSpec {
    pub name: String,
    pub fields: Vec<(String, TypeSpec)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SliceSpec {
    pub name: String,
    pub elem: TypeSpec,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapSpec {
    pub name: String,
    pub key: TypeSpec,
    pub elem: TypeSpec,
}

impl TypeSpec {
    pub fn structure(name: &str, fields: Vec<(&str, TypeSpec)>) -> TypeSpec {
        TypeSpec::Struct(Arc::new(StructSpec {
            name: name.to_owned(),
            fields: fields.into_iter().map(|(n, t)| (n.to_owned(), t)).collect(),
        }))
    }

    pub fn slice(name: &str, elem: TypeSpec) -> TypeSpec {
        TypeSpec::Slice(Arc::new(SliceSpec { name: name.to_owned(), elem }))
    }

    pub fn map(name: &str, key: TypeSpec, elem: TypeSpec) -> TypeSpec {
        TypeSpec::Map(Arc::new(MapSpec { name: name.to_owned(), key, elem }))
    }

    fn name(&self) -> Option<&str> {
        match self {
            TypeSpec::Struct(s) => Some(&s.name),
            TypeSpec::Slice(s) => Some(&s.name),
            TypeSpec::Map(m) => Some(&m.name),
            _ => None,
        }
    }
}

/// A value to encode. Struct values list one entry per field of their [`StructSpec`], in order.
#[derive(Debug, Clone, PartialEq)]
pub enum EncValue {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Bytes(Vec<u8>),
    String(String),
    Struct(Vec<EncValue>),
    Slice(Vec<EncValue>),
    /// `None` is a nil map (omitted as a field); `Some(vec![])` an empty map (sent).
    Map(Option<Vec<(EncValue, EncValue)>>),
    /// `None` is a nil interface; otherwise the registered name, the concrete type and value.
    Interface(Option<Box<(String, TypeSpec, EncValue)>>),
}

/// Whether a struct field holding `v` is left out of the stream (gob omits zero values, except
/// structs, which are always sent, and non-nil empty maps).
fn is_omitted(v: &EncValue) -> bool {
    match v {
        EncValue::Bool(b) => !b,
        EncValue::Int(i) => *i == 0,
        EncValue::Uint(u) => *u == 0,
        EncValue::Float(f) => *f == 0.0,
        EncValue::Bytes(b) => b.is_empty(),
        EncValue::String(s) => s.is_empty(),
        EncValue::Struct(_) => false,
        EncValue::Slice(items) => items.is_empty(),
        EncValue::Map(m) => m.is_none(),
        EncValue::Interface(i) => i.is_none(),
    }
}

/// Why a value does not fit its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("gob encode: {what} (type {ty})")]
pub struct EncodeError {
    pub what: &'static str,
    pub ty: String,
}

/// Encode one value of type `root` (a struct) as a complete gob stream. `interface_types` lists
/// the concrete types that interface fields inside the value use, so their definitions are sent
/// before the value.
pub fn encode(
    root: &TypeSpec,
    value: &EncValue,
    interface_types: &[TypeSpec],
) -> Result<Vec<u8>, EncodeError> {
    let mut ids = Ids::default();
    ids.assign(root);
    for t in interface_types {
        ids.assign(t);
    }
    let mut out = Vec::with_capacity(512);
    for (id, t) in &ids.defined {
        let mut msg = Vec::with_capacity(128);
        put_int(&mut msg, -id);
        wire_type(&mut msg, t, &ids);
        put_message(&mut out, &msg);
    }
    let mut msg = Vec::with_capacity(256);
    put_int(&mut msg, ids.id_of(root));
    match root {
        TypeSpec::Struct(_) => encode_value(&mut msg, root, value, &ids)?,
        _ => {
            put_uint(&mut msg, 0); // singleton
            encode_value(&mut msg, root, value, &ids)?;
        }
    }
    put_message(&mut out, &msg);
    Ok(out)
}

/// Type ids for one stream, assigned from 65 in the order Go's encoder sends definitions: a type
/// before its components, each named type once.
#[derive(Default)]
struct Ids {
    defined: Vec<(i64, TypeSpec)>,
}

impl Ids {
    fn assign(&mut self, t: &TypeSpec) {
        let Some(name) = t.name() else { return };
        if self.defined.iter().any(|(_, d)| d.name() == Some(name)) {
            return;
        }
        let id = wire::FIRST_USER_ID + self.defined.len() as i64;
        self.defined.push((id, t.clone()));
        match t {
            TypeSpec::Struct(s) => s.fields.iter().for_each(|(_, f)| self.assign(f)),
            TypeSpec::Slice(s) => self.assign(&s.elem),
            TypeSpec::Map(m) => {
                self.assign(&m.key);
                self.assign(&m.elem);
            }
            _ => {}
        }
    }

    fn id_of(&self, t: &TypeSpec) -> i64 {
        match t {
            TypeSpec::Bool => wire::BOOL,
            TypeSpec::Int => wire::INT,
            TypeSpec::Uint => wire::UINT,
            TypeSpec::Float => wire::FLOAT,
            TypeSpec::Bytes => wire::BYTES,
            TypeSpec::String => wire::STRING,
            TypeSpec::Interface => wire::INTERFACE,
            _ => self.defined.iter().find(|(_, d)| d.name() == t.name()).map_or(0, |(id, _)| *id),
        }
    }
}

fn put_uint(out: &mut Vec<u8>, v: u64) {
    if v < 0x80 {
        out.push(v as u8);
        return;
    }
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push((256 - (8 - skip)) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

fn put_int(out: &mut Vec<u8>, v: i64) {
    let u = if v < 0 { (!(v as u64)) << 1 | 1 } else { (v as u64) << 1 };
    put_uint(out, u);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn put_message(out: &mut Vec<u8>, msg: &[u8]) {
    put_uint(out, msg.len() as u64);
    out.extend_from_slice(msg);
}

/// `CommonType { Name string; Id int }`.
fn common_type(out: &mut Vec<u8>, name: &str, id: i64) {
    put_uint(out, 1);
    put_bytes(out, name.as_bytes());
    put_uint(out, 1);
    put_int(out, id);
    put_uint(out, 0);
}

/// The `wireType` struct defining `t`.
fn wire_type(out: &mut Vec<u8>, t: &TypeSpec, ids: &Ids) {
    let id = ids.id_of(t);
    match t {
        TypeSpec::Slice(s) => {
            put_uint(out, 2); // field 1: SliceT
            put_uint(out, 1);
            common_type(out, &s.name, id);
            put_uint(out, 1);
            put_int(out, ids.id_of(&s.elem));
            put_uint(out, 0);
        }
        TypeSpec::Struct(s) => {
            put_uint(out, 3); // field 2: StructT
            put_uint(out, 1);
            common_type(out, &s.name, id);
            put_uint(out, 1);
            put_uint(out, s.fields.len() as u64);
            for (name, ft) in &s.fields {
                put_uint(out, 1);
                put_bytes(out, name.as_bytes());
                put_uint(out, 1);
                put_int(out, ids.id_of(ft));
                put_uint(out, 0);
            }
            put_uint(out, 0);
        }
        TypeSpec::Map(m) => {
            put_uint(out, 4); // field 3: MapT
            put_uint(out, 1);
            common_type(out, &m.name, id);
            put_uint(out, 1);
            put_int(out, ids.id_of(&m.key));
            put_uint(out, 1);
            put_int(out, ids.id_of(&m.elem));
            put_uint(out, 0);
        }
        _ => {}
    }
    put_uint(out, 0); // end of wireType
}

fn mismatch(what: &'static str, t: &TypeSpec) -> EncodeError {
    EncodeError { what, ty: t.name().map_or_else(|| format!("{t:?}"), str::to_owned) }
}

fn encode_value(out: &mut Vec<u8>, t: &TypeSpec, v: &EncValue, ids: &Ids) -> Result<(), EncodeError> {
    match (t, v) {
        (TypeSpec::Bool, EncValue::Bool(b)) => put_uint(out, u64::from(*b)),
        (TypeSpec::Int, EncValue::Int(i)) => put_int(out, *i),
        (TypeSpec::Uint, EncValue::Uint(u)) => put_uint(out, *u),
        (TypeSpec::Float, EncValue::Float(f)) => put_uint(out, f.to_bits().swap_bytes()),
        (TypeSpec::Bytes, EncValue::Bytes(b)) => put_bytes(out, b),
        (TypeSpec::String, EncValue::String(s)) => put_bytes(out, s.as_bytes()),
        (TypeSpec::Struct(s), EncValue::Struct(values)) => {
            if values.len() != s.fields.len() {
                return Err(mismatch("struct value has the wrong number of fields", t));
            }
            let mut last: i64 = -1;
            for (i, ((_, ft), fv)) in s.fields.iter().zip(values).enumerate() {
                if is_omitted(fv) {
                    continue;
                }
                put_uint(out, (i as i64 - last) as u64);
                last = i as i64;
                encode_value(out, ft, fv, ids)?;
            }
            put_uint(out, 0);
        }
        (TypeSpec::Slice(s), EncValue::Slice(items)) => {
            put_uint(out, items.len() as u64);
            for item in items {
                encode_value(out, &s.elem, item, ids)?;
            }
        }
        (TypeSpec::Map(m), EncValue::Map(pairs)) => {
            let pairs = pairs.as_deref().unwrap_or_default();
            put_uint(out, pairs.len() as u64);
            for (k, e) in pairs {
                encode_value(out, &m.key, k, ids)?;
                encode_value(out, &m.elem, e, ids)?;
            }
        }
        (TypeSpec::Interface, EncValue::Interface(iface)) => match iface.as_deref() {
            None => put_bytes(out, b""),
            Some((name, concrete, value)) => {
                put_bytes(out, name.as_bytes());
                let id = ids.id_of(concrete);
                if id == 0 {
                    return Err(mismatch("interface concrete type not declared", concrete));
                }
                put_int(out, id);
                let mut body = Vec::with_capacity(32);
                if !matches!(concrete, TypeSpec::Struct(_)) {
                    put_uint(&mut body, 0); // singleton
                }
                encode_value(&mut body, concrete, value, ids)?;
                put_bytes(out, &body);
            }
        },
        _ => return Err(mismatch("value does not match its type", t)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gob::{decode, Value};

    /// The annotated DBATTRIBUTE value of spec §2.4, byte for byte.
    #[test]
    fn encodes_the_annotated_db_attribute_exactly() {
        let t = TypeSpec::structure(
            "DbAttributeEntry",
            vec![("Key", TypeSpec::String), ("Value", TypeSpec::String)],
        );
        let v = EncValue::Struct(vec![
            EncValue::String("DB_CLUSTER_HAS_FILE_BLOCK_FLAG".into()),
            EncValue::String("yes".into()),
        ]);
        let want: &[u8] = b"\x30\xff\x81\x03\x01\x01\x10DbAttributeEntry\x01\xff\x82\x00\x01\x02\x01\x03Key\x01\x0c\x00\x01\x05Value\x01\x0c\x00\x00\x00\x28\xff\x82\x01\x1eDB_CLUSTER_HAS_FILE_BLOCK_FLAG\x01\x03yes\x00";
        assert_eq!(encode(&t, &v, &[]).unwrap(), want);
    }

    #[test]
    fn integers_as_in_the_spec() {
        let mut out = Vec::new();
        for v in [7u64, 200, 513] {
            put_uint(&mut out, v);
        }
        assert_eq!(out, b"\x07\xff\xc8\xfe\x02\x01");
        out.clear();
        for v in [-65i64, 65, 3, 1_600_000_000] {
            put_int(&mut out, v);
        }
        assert_eq!(out, b"\xff\x81\xff\x82\x06\xfc\xbe\xbc\x20\x00");
    }

    #[test]
    fn round_trips_through_the_decoder_with_zero_omission_and_interfaces() {
        let inner = TypeSpec::structure("Inner", vec![("N", TypeSpec::Int)]);
        let t = TypeSpec::structure(
            "Outer",
            vec![
                ("Flag", TypeSpec::Bool),
                ("Names", TypeSpec::slice("[]string", TypeSpec::String)),
                ("Tags", TypeSpec::map("map[string]string", TypeSpec::String, TypeSpec::String)),
                ("Empty", TypeSpec::map("map[string]string", TypeSpec::String, TypeSpec::String)),
                ("Inner", inner.clone()),
                ("Any", TypeSpec::Interface),
                ("Num", TypeSpec::Interface),
                ("F", TypeSpec::Float),
            ],
        );
        let v = EncValue::Struct(vec![
            EncValue::Bool(false),
            EncValue::Slice(vec![EncValue::String(String::new()), EncValue::String("b".into())]),
            EncValue::Map(None),
            EncValue::Map(Some(vec![])),
            EncValue::Struct(vec![EncValue::Int(0)]),
            EncValue::Interface(Some(Box::new((
                "*pkg.Inner".into(),
                inner.clone(),
                EncValue::Struct(vec![EncValue::Int(-3)]),
            )))),
            EncValue::Interface(Some(Box::new(("int".into(), TypeSpec::Int, EncValue::Int(5))))),
            EncValue::Float(1.5),
        ]);
        let bytes = encode(&t, &v, &[inner]).unwrap();
        let d = decode(&bytes).unwrap();
        let s = d.value.as_struct().unwrap();
        assert!(s.get("Flag").is_none(), "false is omitted");
        assert!(s.get("Tags").is_none(), "nil map is omitted");
        assert_eq!(s.get("Empty"), Some(&Value::Map(vec![])), "empty non-nil map is sent");
        assert_eq!(
            s.get("Names"),
            Some(&Value::Slice(vec![Value::String(b""), Value::String(b"b")])),
            "slice elements are all sent"
        );
        assert!(s.get("Inner").unwrap().as_struct().unwrap().fields.is_empty(), "structs always sent");
        match s.get("Any").unwrap() {
            Value::Interface(name, v) => {
                assert_eq!(*name, b"*pkg.Inner");
                assert_eq!(v.as_struct().unwrap().get("N"), Some(&Value::Int(-3)));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.get("Num"), Some(&Value::Interface(b"int", Box::new(Value::Int(5)))));
        assert_eq!(s.get("F"), Some(&Value::Float(1.5)));
    }
}
