//! (Being written.)

use super::FunctionDef;

pub(super) const FUNCTIONS: &[FunctionDef] = &[];
