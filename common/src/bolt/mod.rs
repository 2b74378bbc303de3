//! (placeholder until the bolt branch lands)
pub struct BoltFile<'a>(&'a [u8]);
#[derive(Debug, thiserror::Error)]
#[error("x")]
pub struct BoltError;
pub struct KeyValue<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
}
impl<'a> BoltFile<'a> {
    pub fn parse(d: &'a [u8]) -> Result<Self, BoltError> {
        Ok(BoltFile(d))
    }
    pub fn bucket(&self, _n: &[u8]) -> Result<Option<Vec<KeyValue<'a>>>, BoltError> {
        let _ = self.0;
        Ok(None)
    }
}
