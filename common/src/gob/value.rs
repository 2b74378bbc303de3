use std::sync::Arc;

use super::wire::WireType;

/// A decoded gob value, borrowing strings and byte slices from the stream. Struct fields that
/// were absent on the wire (zero values) are simply not present; [`Struct::get`] returns `None`
/// for them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Complex(f64, f64),
    /// `[]byte`.
    Bytes(&'a [u8]),
    /// Go strings are byte strings; invalid UTF-8 is kept as bytes here and only replaced when
    /// rendered.
    String(&'a [u8]),
    Struct(Struct<'a>),
    Slice(Vec<Value<'a>>),
    Array(Vec<Value<'a>>),
    Map(Vec<(Value<'a>, Value<'a>)>),
    /// A non-nil interface: the registered concrete type name and the concrete value. A nil
    /// interface inside a slice or map has an empty name and a `Bool(false)` placeholder.
    Interface(&'a [u8], Box<Value<'a>>),
    /// A value of a type implementing GobEncoder / BinaryMarshaler / TextMarshaler: raw bytes.
    Opaque(&'a [u8]),
}

/// A struct value: its wire type and the fields present in the stream, in wire order, as
/// indices into the type's field list.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct<'a> {
    pub ty: Arc<WireType>,
    pub fields: Vec<(usize, Value<'a>)>,
}

impl<'a> Struct<'a> {
    /// The struct's wire type name (e.g. `VolumeEntry`).
    pub fn type_name(&self) -> &str {
        self.ty.name()
    }

    /// The field named `name`, if it was present on the wire.
    pub fn get(&self, name: &str) -> Option<&Value<'a>> {
        let WireType::Struct { fields, .. } = &*self.ty else { return None };
        let index = fields.iter().position(|(n, _)| &**n == name)?;
        self.fields.iter().find(|(i, _)| *i == index).map(|(_, v)| v)
    }

    /// Present fields with their names.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value<'a>)> {
        let names = match &*self.ty {
            WireType::Struct { fields, .. } => &fields[..],
            _ => &[],
        };
        self.fields.iter().filter_map(move |(i, v)| names.get(*i).map(|(n, _)| (&**n, v)))
    }
}

impl<'a> Value<'a> {
    pub fn as_struct(&self) -> Option<&Struct<'a>> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// Lossy UTF-8 view of a string or byte slice.
    pub fn as_str_lossy(&self) -> Option<std::borrow::Cow<'a, str>> {
        match *self {
            Value::String(b) | Value::Bytes(b) => Some(String::from_utf8_lossy(b)),
            _ => None,
        }
    }

    /// A short name of the variant, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Uint(_) => "uint",
            Value::Float(_) => "float",
            Value::Complex(..) => "complex",
            Value::Bytes(_) => "bytes",
            Value::String(_) => "string",
            Value::Struct(_) => "struct",
            Value::Slice(_) => "slice",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Interface(..) => "interface",
            Value::Opaque(_) => "opaque",
        }
    }
}
