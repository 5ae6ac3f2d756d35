//! docker (work in progress)
