//! SKELETON: `wire-enricher train-ner` (entity model training) is being written.

/// Arguments of `wire-enricher train-ner`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

/// Trains the entity model.
///
/// # Errors
/// I/O and data errors.
pub fn run(_args: &Args) -> Result<(), crate::eval::EvalError> {
    Err(crate::eval::EvalError::Other("not written yet".to_owned()))
}
