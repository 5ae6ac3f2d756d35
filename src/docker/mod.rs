//! docker (work in progress)
pub mod context;
pub mod dockerignore;
