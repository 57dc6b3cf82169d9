//! SKELETON: the `eval ner` command is being written.

use super::EvalError;

/// Arguments of `wire-enricher eval ner`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

/// Runs the evaluation.
///
/// # Errors
/// I/O and data errors, see [`EvalError`].
pub fn run(_args: &Args) -> Result<(), EvalError> {
    Err(EvalError::Other("not written yet".to_owned()))
}
