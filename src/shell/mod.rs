//! shell (work in progress)
