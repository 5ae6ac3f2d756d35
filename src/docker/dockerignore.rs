//! Docker's `.dockerignore` semantics (work in progress).
