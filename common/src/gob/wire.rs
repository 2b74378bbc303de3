use std::collections::HashMap;
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

/// The type definitions seen so far in one stream.
#[derive(Debug, Default, Clone)]
pub struct TypeRegistry {
    types: HashMap<i64, WireType>,
}

impl TypeRegistry {
    pub fn get(&self, id: i64) -> Option<&WireType> {
        self.types.get(&id)
    }

    pub(crate) fn insert(&mut self, id: i64, t: WireType) {
        self.types.insert(id, t);
    }

    /// Whether `id` names a predefined basic type or a type defined in this stream.
    pub fn is_known(&self, id: i64) -> bool {
        (BOOL..=INTERFACE).contains(&id) || self.types.contains_key(&id)
    }
}
