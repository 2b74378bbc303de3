use std::sync::Arc;

/// Predefined type ids (Go `encoding/gob/type.go`).
pub(crate) const BOOL: i64 = 1;
pub(crate) const INT: i64 = 2;
pub(crate) const UINT: i64 = 3;
pub(crate) const FLOAT: i64 = 4;
pub(crate) const BYTES: i64 = 5;
pub(crate) const STRING: i64 = 6;
pub(crate) const COMPLEX: i64 = 7;
pub(crate) const INTERFACE: i64 = 8;
/// First id a user type can have.
pub(crate) const FIRST_USER_ID: i64 = 65;

/// A user type definition as sent on the wire (`wireType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireType {
    Struct {
        name: Arc<str>,
        fields: Vec<(Arc<str>, i64)>,
    },
    Slice {
        name: Arc<str>,
        elem: i64,
    },
    Array {
        name: Arc<str>,
        elem: i64,
        len: u64,
    },
    Map {
        name: Arc<str>,
        key: i64,
        elem: i64,
    },
    /// GobEncoder / BinaryMarshaler / TextMarshaler: the value is opaque bytes.
    Opaque {
        name: Arc<str>,
    },
}

impl WireType {
    pub fn name(&self) -> &str {
        match self {
            WireType::Struct { name, .. }
            | WireType::Slice { name, .. }
            | WireType::Array { name, .. }
            | WireType::Map { name, .. }
            | WireType::Opaque { name } => name,
        }
    }
}

/// The type definitions seen so far in one stream. A heketi value defines a dozen or two types,
/// so a vector with linear lookup beats hashing; entries are `Arc`s because the decoder holds on
/// to a definition while it decodes values of that type.
#[derive(Debug, Default, Clone)]
pub struct TypeRegistry {
    types: Vec<(i64, Arc<WireType>)>,
}

impl TypeRegistry {
    pub fn get(&self, id: i64) -> Option<&Arc<WireType>> {
        self.types.iter().rev().find(|(i, _)| *i == id).map(|(_, t)| t)
    }

    /// Record a definition; a later definition of the same id wins (Go would refuse it as a
    /// duplicate, but decoding it like this is harmless and keeps the reader lenient).
    pub(crate) fn insert(&mut self, id: i64, t: Arc<WireType>) {
        self.types.push((id, t));
    }

    /// Whether `id` names a predefined basic type or a type defined in this stream.
    pub fn is_known(&self, id: i64) -> bool {
        (BOOL..=INTERFACE).contains(&id) || self.get(id).is_some()
    }

    /// All definitions, in the order they were received.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &WireType)> {
        self.types.iter().map(|(i, t)| (*i, &**t))
    }
}
