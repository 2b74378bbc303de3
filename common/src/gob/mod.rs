//! Go `encoding/gob`: a decoder driven by the wire type definitions carried inside each stream,
//! and an encoder for the values heketi stores.
//!
//! Every heketi value is one self-contained gob stream (type definitions, then one value). Type
//! ids are whatever the writing process happened to assign, so nothing here hard-codes them: the
//! decoder builds a per-stream [`TypeRegistry`] from the definitions it meets and decodes the value
//! into a small dynamic [`Value`] tree. The heketi layer maps that tree onto typed entries by
//! field *name*, exactly as Go's decoder matches fields.
//!
//! Wire format reference: Go's `encoding/gob/doc.go`; summary in
//! `heketi-db-spec.md` §2.4. Two quirks matter in practice:
//! - zero values are omitted from structs (absent field = zero / caller's default);
//! - when an interface value's concrete type is new to the stream, Go splits the value into two
//!   messages around the type definition. The decoder follows message boundaries transparently
//!   while resolving a type sequence, the way Go's does.

mod decode;
mod encode;

mod value;
mod wire;

pub use decode::{decode, decode_with, Decoded, TypeCache};
pub use encode::{encode, EncValue, EncodeError, MapSpec, SliceSpec, StructSpec, TypeSpec};

pub use value::{Struct, Value};
pub use wire::{TypeRegistry, WireType};

/// Everything that can be wrong with a gob stream. Errors carry the byte offset inside the
/// stream where decoding stopped; the caller adds which bucket/key the stream came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GobError {
    #[error("gob: unexpected end of data at offset {offset} ({what})")]
    Truncated { offset: usize, what: &'static str },
    #[error("gob: integer at offset {offset} is malformed ({what})")]
    BadInteger { offset: usize, what: &'static str },
    #[error("gob: message at offset {offset} claims {len} bytes but only {available} remain")]
    MessageTooLong { offset: usize, len: u64, available: usize },
    #[error("gob: unknown type id {id} at offset {offset}")]
    UnknownType { offset: usize, id: i64 },
    #[error("gob: invalid type definition for id {id} at offset {offset}: {what}")]
    BadTypeDefinition { offset: usize, id: i64, what: &'static str },
    #[error("gob: struct field number {field} out of range (type has {fields} fields) at offset {offset}")]
    BadField { offset: usize, field: u64, fields: usize },
    #[error("gob: length {len} at offset {offset} exceeds the {available} bytes left")]
    LengthTooLarge { offset: usize, len: u64, available: usize },
    #[error("gob: {what} at offset {offset}")]
    Corrupt { offset: usize, what: &'static str },
    #[error("gob: nesting deeper than {limit} levels at offset {offset}")]
    TooDeep { offset: usize, limit: usize },
    #[error("gob: no value in stream")]
    NoValue,
}
