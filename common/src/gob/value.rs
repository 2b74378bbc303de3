use std::sync::Arc;

/// A decoded gob value. Struct fields that were absent on the wire (zero values) are simply not
/// present; [`Struct::get`] returns `None` for them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Complex(f64, f64),
    /// `[]byte`.
    Bytes(Vec<u8>),
    /// Go strings are byte strings; invalid UTF-8 is kept as bytes here and only replaced when
    /// rendered.
    String(Vec<u8>),
    Struct(Struct),
    Slice(Vec<Value>),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    /// A non-nil interface: the registered concrete type name and the concrete value.
    Interface(Arc<str>, Box<Value>),
    /// A value of a type implementing GobEncoder / BinaryMarshaler / TextMarshaler: raw bytes.
    Opaque(Vec<u8>),
}

/// A struct value: its wire type name and the fields present in the stream, in wire order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Struct {
    pub type_name: Arc<str>,
    pub fields: Vec<(Arc<str>, Value)>,
}

impl Struct {
    /// The field named `name`, if it was present on the wire.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| &**n == name).map(|(_, v)| v)
    }
}

impl Value {
    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// Lossy UTF-8 view of a string or byte slice.
    pub fn as_str_lossy(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
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
