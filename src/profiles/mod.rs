//! Ecosystem profiles (`profiles/*.yaml`), embedded in the binary and overridable
//! from a user directory. Loaded with serde_yaml; unknown keys are errors.

/// All loaded profiles.
#[derive(Debug, Clone, Default)]
pub struct Profiles {}
